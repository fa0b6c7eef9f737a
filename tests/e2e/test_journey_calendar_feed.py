"""The demo parent puts Léa's calendar in a phone at 360 px: from the agenda to the page with the
private address, copies it, the calendar app fetches it without logging in, then the parent
regenerates it and the old address stops at once."""

import datetime
import re

import icalendar
import pytest
import time_machine
from playwright.sync_api import expect, sync_playwright

from families.models import Child
from portail.demo import seed_demo
from tests.e2e.checks import BrowserWatch, axe_violations, find_overflow
from tests.e2e.conftest import ARTIFACTS, launch, log_in

pytestmark = pytest.mark.e2e

TODAY = datetime.date(2026, 11, 26)
NOW = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)
PARENT = ("parent@example.org", "parent-portail")
WIDTH = 360


def check_page(page, step, problems):
    problems += [f"{step}: {line}" for line in axe_violations(page)]
    problems += [f"{step}: {line}" for line in find_overflow(page)]
    page.screenshot(path=ARTIFACTS / f"agenda-telephone-{step}-{WIDTH}.png", full_page=True)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parent_subscribes_a_phone_then_regenerates_the_address(
    live_server, browser_path, fresh_rate_limits
):
    """« Agenda dans mon téléphone » shows the address to copy, a webcal:// link and how to
    subscribe on an iPhone and on Android; the address serves Léa's calendar to an app without
    a session; « Régénérer le lien », once confirmed, gives a new address and the old one is a
    404."""
    with time_machine.travel(NOW, tick=True):
        seed_demo(TODAY)
        lea = Child.objects.get(first_name="Léa", family__guardians__user__email=PARENT[0]).pk
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        problems = []
        with sync_playwright() as playwright:
            browser = launch(playwright, browser_path)
            context = browser.new_context(
                viewport={"width": WIDTH, "height": 800},
                locale="fr-FR",
                permissions=["clipboard-read", "clipboard-write"],
            )
            context.set_default_timeout(10_000)
            watch = BrowserWatch().attach(context)
            page = context.new_page()
            log_in(page, live_server.url, *PARENT)

            page.goto(live_server.url + f"/agenda/{lea}/2026/11/")
            check_page(page, "agenda", problems)
            with page.expect_navigation():
                page.get_by_role("link", name="Agenda dans mon téléphone").click()
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "L'agenda de Léa dans votre téléphone"
            )
            field = page.get_by_label("Adresse à copier dans votre application d'agenda")
            old = field.input_value()
            assert re.fullmatch(r"http://[^/]+/agenda/flux/[0-9a-f]{64}\.ics", old), old
            webcal = page.get_by_role("link", name="S'abonner sur cet appareil")
            expect(webcal).to_have_attribute("href", "webcal://" + old.split("://", 1)[1])
            main = page.locator("main")
            expect(main).to_contain_text(
                "Réglages › Calendrier › Comptes › Ajouter un compte › Autre › "
                "Ajouter un calendrier avec abonnement"
            )
            expect(main).to_contain_text("À partir de l'URL")
            page.get_by_role("button", name="Copier le lien").click()
            expect(page.locator("#copie-faite")).to_have_text(
                "Lien copié : collez-le dans votre application d'agenda."
            )
            assert page.evaluate("navigator.clipboard.readText()") == old
            check_page(page, "page", problems)

            # A calendar app: no session, only the address.
            app = playwright.request.new_context()
            feed = app.get(old)
            assert feed.status == 200 and feed.headers["content-type"].startswith("text/calendar")
            events = icalendar.Calendar.from_ical(feed.body()).walk("VEVENT")
            assert any("Léa" in str(event["SUMMARY"]) for event in events)

            with page.expect_navigation():
                page.get_by_role("link", name="Régénérer le lien").click()
            expect(main).to_contain_text("qui cessera aussitôt de fonctionner")
            check_page(page, "regenerer", problems)
            with page.expect_navigation():
                page.get_by_role("button", name="Régénérer le lien").click()
            expect(page.locator("main .messages .alert")).to_contain_text(
                "l'ancien ne fonctionne plus"
            )
            new = field.input_value()
            assert new != old
            check_page(page, "regenere", problems)
            assert app.get(old).status == 404
            assert app.get(new).status == 200
            app.dispose()

            problems += watch.drain()
            context.close()
            browser.close()
    assert not problems, "\n".join(problems)
