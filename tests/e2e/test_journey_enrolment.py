"""An enrolment, in the browser, from both sides: the parent files a périscolaire request with its
documents, the office refuses one with a reason, the parent reads it in « Échanges » and replaces
the document through the e-mailed link, the office validates everything and accepts; the request
is « Clos » and the child's card shows the effective enrolment."""

import datetime
import io
import re
from urllib.parse import urlsplit

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from enrolment import services
from enrolment.models import DocumentType, Teleservice
from tests.e2e.checks import BrowserWatch
from tests.e2e.conftest import ARTIFACTS, launch, log_in
from tests.enrolment.helpers import make_teleservice
from tests.factories import (
    PASSWORD,
    ChildContactFactory,
    ChildFactory,
    GuardianFactory,
    UserFactory,
    totp_code,
)

REASON = "Facture de plus de 3 mois."


def write_documents(folder):
    """Three small, valid files as a parent would pick them: two PDFs and a photo (PNG)."""
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(png, "PNG")
    files = {
        "attestation-caf": ("attestation-caf.pdf", pdf),
        "justificatif-domicile": ("facture-eau.png", png.getvalue()),
        "assurance": ("assurance-scolaire.pdf", pdf),
        "replacement": ("facture-electricite.pdf", pdf),
    }
    paths = {}
    for key, (name, content) in files.items():
        paths[key] = folder / name
        paths[key].write_bytes(content)
    return paths


def shoot(page, step):
    page.screenshot(path=ARTIFACTS / f"journey-enrolment-{step}.png", full_page=True)


def replace_path(outbox, email):
    """The path of the replace link in the last « Justificatif » e-mail sent to `email`."""
    messages = [
        message
        for message in outbox
        if email in message.to and message.subject.startswith("[Portail famille] Justif")
    ]
    assert messages, [message.subject for message in outbox]
    assert REASON in messages[-1].body
    link = re.search(r"https?://\S+(/demandes/remplacer/\S+/)", messages[-1].body)
    assert link, messages[-1].body
    return link.group(1)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_enrolment_with_a_refused_then_replaced_document(
    live_server, browser_path, mailoutbox, settings, tmp_path, fresh_rate_limits
):
    settings.MEDIA_ROOT = tmp_path / "private"
    files = write_documents(tmp_path)
    with time_machine.travel(
        datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC), tick=True
    ):
        # Everything the database holds before the browsers start (no ORM inside Playwright).
        guardian = GuardianFactory(family__name="ALPHA", user__first_name="Camille")
        parent_email = guardian.user.email
        child = ChildFactory(family=guardian.family, first_name="Alice", school_class="CE2")
        ChildContactFactory(child=child)
        teleservice = make_teleservice(Teleservice.Kind.PERISCOLAIRE)
        assistant = UserFactory(is_staff=True, first_name="Claire", last_name="MOREL")
        assistant.groups.add(Group.objects.get(name="Assistant administratif"))
        document_types = {
            slug: DocumentType.objects.get(slug=slug)
            for slug in ("attestation-caf", "justificatif-domicile", "assurance")
        }
        upload_fields = {
            slug: services.document_field_name(document_type)
            for slug, document_type in document_types.items()
        }
        refused_name = document_types["justificatif-domicile"].name
        changelist = reverse("admin:enrolment_enrolmentrequest_changelist")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        base = live_server.url

        with sync_playwright() as playwright:
            browser = launch(playwright, browser_path)
            parent_context = browser.new_context(
                viewport={"width": 390, "height": 844}, locale="fr-FR"
            )
            office_context = browser.new_context(
                viewport={"width": 1280, "height": 900}, locale="fr-FR"
            )
            for context in (parent_context, office_context):
                context.set_default_timeout(10_000)
            watch = BrowserWatch().attach(parent_context)
            parent = parent_context.new_page()
            office = office_context.new_page()

            # The parent files the request with its three documents.
            log_in(parent, base, parent_email, PASSWORD)
            parent.goto(base + "/demandes/teleservices/")
            parent.get_by_role("link", name="Faire la demande pour Alice").click()
            expect(parent.get_by_role("heading", level=1)).to_have_text(teleservice.label)
            parent.get_by_label(re.compile("règlement intérieur")).check()
            for slug in document_types:
                parent.locator(f"input[name={upload_fields[slug]}]").set_input_files(files[slug])
            shoot(parent, "1-form")
            with parent.expect_navigation():
                parent.get_by_role("button", name="Valider ma demande").click()
            expect(parent.locator(".alert-success")).to_contain_text(
                "est envoyée au pôle administratif"
            )
            number = re.search(r"n° (\S+)", parent.locator(".alert-success").inner_text()).group(1)

            # The assistant signs in (password, then the authenticator's code) and refuses one.
            log_in(office, base, assistant.email, PASSWORD)
            assert urlsplit(office.url).path == "/comptes/2fa/authenticate/", office.url
            office.locator("input[name=code]").fill(totp_code(assistant.totp_secret))
            with office.expect_navigation():
                office.locator("main form button[type=submit]").first.click()
            assert "/comptes/2fa/" not in office.url, office.url
            office.goto(base + changelist)
            office.locator("#result_list tbody a", has_text=number).click()
            expect(office.locator("#revue")).to_contain_text(refused_name)
            row = office.locator("#revue article", has_text=refused_name)
            row.locator("textarea[name=reason]").fill(REASON)
            with office.expect_navigation():
                row.get_by_role("button", name="Refuser").click()
            expect(office.locator("#revue article", has_text=refused_name)).to_contain_text(REASON)
            shoot(office, "2-refused")

            # The parent reads the reason in « Échanges » and gets the link by e-mail.
            parent.goto(base + "/echanges/")
            expect(parent.locator("main")).to_contain_text(teleservice.label)
            parent.locator("main a.eye-button").first.click()
            expect(parent.locator("main")).to_contain_text(REASON)
            shoot(parent, "3-exchange")
            parent.goto(base + replace_path(mail.outbox, parent_email))
            expect(parent.locator("main")).to_contain_text(refused_name)
            expect(parent.locator("main")).to_contain_text(REASON)
            parent.locator("input[name=file]").set_input_files(files["replacement"])
            with parent.expect_navigation():
                parent.get_by_role("button", name="Envoyer le nouveau document").click()
            expect(parent.locator(".alert-success")).to_contain_text(
                "le pôle administratif va le vérifier"
            )
            shoot(parent, "4-replaced")

            # The assistant validates the three documents, then accepts the request.
            office.reload()
            expect(office.locator("#revue article", has_text=refused_name)).to_contain_text(
                "facture-electricite.pdf"
            )
            validate = office.locator("#revue button[value=valider]")
            expect(validate).to_have_count(3)
            for remaining in (3, 2, 1):
                expect(validate).to_have_count(remaining)
                with office.expect_navigation():
                    validate.first.click()
            expect(validate).to_have_count(0)
            with office.expect_navigation():
                office.get_by_role("button", name="Accepter la demande").click()
            expect(office.locator("body")).to_contain_text("Inscription effective")
            shoot(office, "5-accepted")

            # The parent finds the request closed and the enrolment on the child's card.
            parent.goto(base + "/demandes/")
            expect(parent.locator("main tr", has_text=number)).to_contain_text("Clos")
            shoot(parent, "6-requests")
            parent.goto(base + "/foyer/")
            card = parent.locator(".card", has=parent.get_by_role("heading", name="Alice ALPHA"))
            expect(card).to_contain_text("Périscolaire — 2026-2027, depuis le 26/11/2026")
            shoot(parent, "7-family")

            problems = watch.drain()
            browser.close()

    assert not problems, "\n".join(problems)
    acceptance = [
        message
        for message in mailoutbox
        if parent_email in message.to and f"{number} est acceptée" in message.body
    ]
    assert acceptance, [message.subject for message in mailoutbox]
