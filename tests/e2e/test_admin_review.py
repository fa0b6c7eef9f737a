"""The office's workplace in the browser, at 1280 and 360 px: the review of a request with a PDF
and a photo shown in the page, and a thread answered with « Envoyer »; axe-core finds nothing,
no CSP violation, no console error, and a full-page screenshot of each."""

import datetime
import io

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image, ImageDraw
from playwright.sync_api import expect, sync_playwright
from weasyprint import HTML

from enrolment.models import Teleservice
from exchanges.models import Message
from exchanges.services import message_post, thread_start
from tests.e2e.checks import BrowserWatch, axe_violations, find_overflow
from tests.e2e.conftest import ARTIFACTS, launch, log_in
from tests.enrolment.helpers import document, make_teleservice, submitted_for
from tests.factories import (
    PASSWORD,
    ChildContactFactory,
    ChildFactory,
    GuardianFactory,
    UserFactory,
    totp_code,
)

pytestmark = pytest.mark.e2e

WIDTHS = (1280, 360)


def certificate_pdf() -> bytes:
    return HTML(
        string="<h1>Attestation de paiement CAF</h1><p>Quotient familial : 812</p>"
    ).write_pdf()


def photo_png() -> bytes:
    """A phone photo of a bill, as parents send them."""
    image = Image.new("RGB", (900, 600), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 860, 560), outline="black", width=4)
    draw.text((80, 80), "Facture d'électricité — novembre 2026", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def prepare():
    """A request under review (a PDF and a photo) and its thread, with the signed-in office."""
    guardian = GuardianFactory(family__name="ALPHA", user__first_name="Camille")
    child = ChildFactory(family=guardian.family, first_name="Alice", school_class="CE2")
    ChildContactFactory(child=child)
    request = submitted_for(guardian.family, make_teleservice(Teleservice.Kind.PERISCOLAIRE))
    caf = document(request, "attestation-caf")
    caf.file.save("caf.pdf", ContentFile(certificate_pdf()), save=False)
    caf.original_name, caf.size = "attestation-caf.pdf", caf.file.size
    caf.save()
    domicile = document(request, "justificatif-domicile")
    domicile.file.save("photo.png", ContentFile(photo_png()), save=False)
    domicile.content_type, domicile.original_name = "image/png", "facture-electricite.png"
    domicile.size = domicile.file.size
    domicile.save()
    thread = thread_start(
        family=guardian.family,
        subject="Question sur votre demande",
        body="Bonjour, l'attestation CAF est-elle celle de cette année ?",
        side=Message.Side.OFFICE,
        related=request,
    )
    message_post(
        thread=thread,
        side=Message.Side.FAMILY,
        author=guardian.user,
        body="Oui, elle date d'octobre.\nCordialement, Camille ALPHA",
    )
    assistant = UserFactory(is_staff=True, first_name="Claire", last_name="MOREL")
    assistant.groups.add(Group.objects.get(name="Assistant administratif"))
    return {
        "assistant": assistant,
        "review": reverse("admin:enrolment_enrolmentrequest_change", args=[request.pk]),
        "thread": reverse("admin:exchanges_thread_change", args=[thread.pk]),
        "previews": [
            reverse("admin:enrolment_requestdocument_preview", args=[request.pk, item.pk])
            for item in (caf, domicile)
        ],
    }


def check(page, watch, name, width, problems):
    """Screenshot, then what the page did until now (CSP, console, sub-resources), axe-core
    and the overflow. On the admin's pages axe-core itself adds a <style> that the CSP blocks:
    what happens while axe runs is its own doing, not the page's, and is left out."""
    page.screenshot(path=ARTIFACTS / f"admin-{name}-{width}.png", full_page=True)
    seen = [*watch.drain(), *axe_violations(page), *find_overflow(page)]
    watch.drain()
    # The admin's pages name no icon: the browser asks for /favicon.ico on its own.
    problems += [f"{name} @ {width}px: {item}" for item in seen if "/favicon.ico" not in item]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_review_and_thread_pages_in_the_browser(
    live_server, browser_path, settings, tmp_path, fresh_rate_limits
):
    settings.MEDIA_ROOT = tmp_path / "private"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with time_machine.travel(
        datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC), tick=True
    ):
        data = prepare()
        assistant, base = data["assistant"], live_server.url
        problems = []
        with sync_playwright() as playwright:
            browser = launch(playwright, browser_path)
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
            context.set_default_timeout(10_000)
            watch = BrowserWatch().attach(context)
            page = context.new_page()
            log_in(page, base, assistant.email, PASSWORD)
            page.locator("input[name=code]").fill(totp_code(assistant.totp_secret))
            with page.expect_navigation():
                page.locator("main form button[type=submit]").first.click()

            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                with page.expect_response(lambda r: data["previews"][0] in r.url) as preview:
                    page.goto(base + data["review"])
                assert preview.value.status == 200
                assert preview.value.headers["content-type"] == "application/pdf"
                expect(page.locator("h1")).to_have_text("Examen de la demande")
                page.wait_for_timeout(1500)  # Chromium's PDF viewer draws the page
                expect(page.locator("#revue img")).to_have_js_property("complete", True)
                assert page.locator("#revue img").evaluate("img => img.naturalWidth") == 900
                page.wait_for_timeout(500)
                check(page, watch, "revue-demande", width, problems)

                page.goto(base + data["thread"])
                expect(page.locator("h1")).to_have_text("Échange avec la famille")
                check(page, watch, "echange", width, problems)

            page.set_viewport_size({"width": 1280, "height": 900})
            page.locator("textarea[name=reply]").fill("Merci, c'est parfait.")
            with page.expect_navigation():
                page.get_by_role("button", name="Envoyer").click()
            expect(page.locator(".messagelist")).to_contain_text("Votre réponse est envoyée")
            expect(page.locator(".thread-message").last).to_contain_text("Merci, c'est parfait.")
            check(page, watch, "echange-envoye", 1280, problems)
            browser.close()
    assert not problems, "\n".join(problems)
