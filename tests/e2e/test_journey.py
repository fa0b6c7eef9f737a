"""A new parent's first visit, in the browser: sign up, confirm the address, log in, create the
family, add a child, and find both on the home page and in « Mon foyer »."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect, sync_playwright

from portail.demo import seed_demo
from tests.conftest import TODAY
from tests.e2e.checks import BrowserWatch
from tests.e2e.conftest import ARTIFACTS, launch, log_in

pytestmark = pytest.mark.e2e

EMAIL = "camille.rousseau@example.org"
PASSWORD = "Tilleul-des-Alouettes-2026"


def field(page, label):
    """The form field labelled exactly `label` (crispy adds an asterisk to required ones)."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


def confirmation_path(outbox):
    """The path of the confirmation link in the last e-mail sent to EMAIL."""
    messages = [message for message in outbox if EMAIL in message.to]
    assert messages, "no confirmation e-mail was sent"
    link = re.search(r"https?://\S+/comptes/confirm-email/\S+/", messages[-1].body)
    assert link, messages[-1].body
    return urlsplit(link.group(0)).path


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_new_parent_signs_up_and_creates_the_family(
    live_server, browser_path, mailoutbox, pinned_now, fresh_rate_limits
):
    """Sign-up, confirmation link, login, family, child: the home page shows the family's tiles
    and « Mon foyer » lists the child."""
    seed_demo(TODAY)  # schools and school years, as on a real portal
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    with sync_playwright() as playwright:
        browser = launch(playwright, browser_path)
        context = browser.new_context(viewport={"width": 360, "height": 800}, locale="fr-FR")
        context.set_default_timeout(10_000)
        watch = BrowserWatch().attach(context)
        page = context.new_page()

        page.goto(base + "/")
        page.get_by_role("link", name="Créer un compte").click()
        field(page, "Nom").fill("Rousseau")
        field(page, "Prénom").fill("Camille")
        field(page, "Courriel").fill(EMAIL)
        field(page, "Mot de passe").fill(PASSWORD)
        field(page, "Mot de passe (confirmation)").fill(PASSWORD)
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Vérifiez votre")

        page.goto(base + confirmation_path(mailoutbox))
        expect(page.locator("main")).to_contain_text(EMAIL)
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()

        log_in(page, base, EMAIL, PASSWORD)
        expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour Camille")
        page.get_by_role("link", name="Créer mon dossier famille").click()
        expect(field(page, "Nom du foyer")).to_have_value("ROUSSEAU")
        page.fill("#id_family-address", "8 rue des Tilleuls")
        page.fill("#id_family-postal_code", "69160")
        page.fill("#id_family-city", "Tassin la Demi-Lune")
        page.select_option("#id_guardian-relationship", index=1)
        page.fill("#id_guardian-mobile_phone", "06 11 22 33 44")
        with page.expect_navigation():
            page.get_by_role("button", name="Enregistrer").click()
        assert urlsplit(page.url).path == "/foyer/enfants/ajouter/"
        expect(page.locator(".alert-success")).to_contain_text("dossier famille est créé")

        expect(field(page, "Nom")).to_have_value("ROUSSEAU")
        field(page, "Prénom").fill("Jules")
        field(page, "Date de naissance").fill("2019-05-04")
        field(page, "Classe").fill("GS")
        with page.expect_navigation():
            page.get_by_role("button", name="Enregistrer").click()
        assert urlsplit(page.url).path == "/foyer/"
        expect(page.locator(".alert-success")).to_contain_text("La fiche de Jules est enregistrée")
        expect(page.get_by_role("heading", name="Jules ROUSSEAU")).to_be_visible()
        page.screenshot(path=ARTIFACTS / "parcours-foyer-360.png", full_page=True)

        page.goto(base + "/")
        tiles = page.locator("main .tile h2")
        expect(tiles).to_have_text(
            [
                "Éducation - Enfance",
                "Échanges",
                "Paiements",
                "Agenda",
                "Mes demandes",
                "Mon foyer",
                "Mon compte",
            ]
        )
        expect(page.get_by_role("link", name="Créer mon dossier famille")).to_have_count(0)
        page.screenshot(path=ARTIFACTS / "parcours-accueil-360.png", full_page=True)
        page.get_by_role("link", name=re.compile("Mon foyer")).first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("ROUSSEAU")
        expect(page.locator("main")).to_contain_text("Jules ROUSSEAU")

        problems = watch.drain()
        browser.close()
    assert not problems, "\n".join(problems)
