"""Uploads keep what was good, in the browser at 360 px: the demo parent enrols a third child for
the périscolaire with three files, one of them an executable; the form comes back naming it with
its reason, the two good files shown « Déjà joint » and the answers typed still there; the parent
chooses a good third file only, and the request is sent « En traitement » with three documents.
The page with errors passes axe with no overflow."""

import datetime
import io
import re

import pytest
import time_machine
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from enrolment import services
from enrolment.models import DocumentType, Teleservice
from families.models import Family, School
from portail.demo import seed_demo
from tests.e2e.checks import BrowserWatch, axe_violations, find_overflow
from tests.e2e.conftest import ARTIFACTS, launch, log_in
from tests.factories import ChildFactory

pytestmark = pytest.mark.e2e

TODAY = datetime.date(2026, 11, 26)
NOW = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)
PARENT = ("parent@example.org", "parent-portail")
REFUSAL = "« photo.exe » : ce type de fichier n'est pas accepté (PDF, JPEG ou PNG)."


def write_files(folder) -> dict:
    """What the parent picks: a CAF certificate (PDF), a vaccination page (PNG), a program by
    mistake, and then the right proof of address (PDF)."""
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(png, "PNG")
    files = {
        "attestation-caf": ("attestation-caf.pdf", pdf),
        "vaccinations": ("carnet-vaccins.png", png.getvalue()),
        "bad": ("photo.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 400),
        "justificatif-domicile": ("facture-eau.pdf", pdf),
    }
    paths = {}
    for key, (name, content) in files.items():
        paths[key] = folder / name
        paths[key].write_bytes(content)
    return paths


def shot(page, step):
    page.screenshot(path=ARTIFACTS / f"journey-kept-uploads-{step}-360.png", full_page=True)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_demo_parent_keeps_two_good_files_past_a_refused_one(
    live_server, browser_path, settings, tmp_path, fresh_rate_limits
):
    """360 px: one bad and two good files sent together; the error names the bad one, the good
    ones are kept; the missing file alone then sends the request with its three documents."""
    settings.MEDIA_ROOT = tmp_path / "private"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    files = write_files(tmp_path)
    with time_machine.travel(NOW, tick=True):
        seed_demo(TODAY)
        # Everything the database holds before the browser starts (no ORM inside Playwright).
        family = Family.objects.get(guardians__user__email=PARENT[0])
        ChildFactory(
            family=family,
            first_name="Louise",
            birth_date=datetime.date(2019, 3, 14),
            school=School.objects.filter(is_active=True).order_by("pk").first(),
            school_class="",
        )
        teleservice = Teleservice.objects.get(
            kind=Teleservice.Kind.PERISCOLAIRE, opens_on__lte=TODAY, closes_on__gte=TODAY
        )
        fields = {
            slug: services.document_field_name(DocumentType.objects.get(slug=slug))
            for slug in ("attestation-caf", "vaccinations", "justificatif-domicile")
        }
        base = live_server.url
        problems = []

        with sync_playwright() as playwright:
            browser = launch(playwright, browser_path)
            context = browser.new_context(viewport={"width": 360, "height": 800}, locale="fr-FR")
            context.set_default_timeout(15_000)
            watch = BrowserWatch().attach(context)
            page = context.new_page()
            log_in(page, base, *PARENT)

            # The parent starts the enrolment from « Éducation - Enfance ».
            page.goto(base + "/demandes/teleservices/")
            offer = page.get_by_role("region", name=teleservice.label)
            offer.get_by_role("link", name="Faire la demande pour Louise").click()
            expect(page.get_by_role("heading", level=1)).to_have_text(teleservice.label)
            page.get_by_label("Classe").fill("CP")
            page.get_by_label(re.compile("règlement intérieur")).check()
            page.locator(f"input[name={fields['attestation-caf']}]").set_input_files(
                files["attestation-caf"]
            )
            page.locator(f"input[name={fields['vaccinations']}]").set_input_files(
                files["vaccinations"]
            )
            page.locator(f"input[name={fields['justificatif-domicile']}]").set_input_files(
                files["bad"]
            )
            shot(page, "1-form")
            with page.expect_navigation():
                page.get_by_role("button", name="Valider ma demande").click()

            # Back with the error: the bad file named on its field, the good ones kept.
            domicile = page.locator(f"#div_id_{fields['justificatif-domicile']}")
            expect(domicile.locator(".invalid-feedback")).to_have_text(REFUSAL)
            expect(page.locator(".alert-danger")).to_contain_text(REFUSAL)
            expect(page.locator(f"#id_{fields['justificatif-domicile']}")).to_have_attribute(
                "aria-invalid", "true"
            )
            caf = page.locator(f"#div_id_{fields['attestation-caf']}")
            expect(caf).to_contain_text("Déjà joint : attestation-caf.pdf")
            expect(page.locator(f"#div_id_{fields['vaccinations']}")).to_contain_text(
                "Déjà joint : carnet-vaccins.png"
            )
            expect(page.locator(".alert-info")).to_contain_text(
                "Les justificatifs acceptés sont gardés dans le brouillon"
            )
            expect(page.get_by_label("Classe")).to_have_value("CP")
            expect(page.get_by_label(re.compile("règlement intérieur"))).to_be_checked()
            problems += [f"erreurs: axe: {line}" for line in axe_violations(page)]
            problems += [f"erreurs: overflow: {line}" for line in find_overflow(page)]
            shot(page, "2-errors")
            # « Remplacer » opens the file input of a kept document, without leaving the page.
            caf.get_by_text("Remplacer").click()
            expect(page.locator(f"#id_{fields['attestation-caf']}")).to_be_visible()
            problems += [f"remplacer: axe: {line}" for line in axe_violations(page)]
            caf.screenshot(path=ARTIFACTS / "journey-kept-uploads-2b-replace-360.png")
            caf.get_by_text("Remplacer").click()

            # The missing file alone completes the request.
            page.locator(f"input[name={fields['justificatif-domicile']}]").set_input_files(
                files["justificatif-domicile"]
            )
            with page.expect_navigation():
                page.get_by_role("button", name="Valider ma demande").click()
            expect(page.locator(".alert-success")).to_contain_text(
                "est envoyée au pôle administratif"
            )
            expect(page.locator("main")).to_contain_text("En traitement")
            documents = page.locator("main a[href*='/documents/']")
            expect(documents).to_have_count(3)
            for name in ("attestation-caf.pdf", "carnet-vaccins.png", "facture-eau.pdf"):
                expect(page.locator("main")).to_contain_text(name)
            problems += [f"demande: axe: {line}" for line in axe_violations(page)]
            shot(page, "3-sent")

            problems += watch.drain()
            browser.close()

    assert not problems, "\n".join(problems)
