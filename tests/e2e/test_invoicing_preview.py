"""« Facturer un mois » in the browser: the régisseur signs in with the authenticator app, opens
the preview of November for every régie five days before the issue day, reads the warning, ticks
the confirmation and launches; the page passes axe at 1280 and 360 px without overflowing. The
journal des encaissements opens on a period with payments."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse
from playwright.sync_api import expect, sync_playwright

from billing.invoicing import issue_invoices
from billing.models import Payment
from billing.reference import ensure_billing_reference
from billing.services import payment_record
from families.models import Family, SchoolYear
from reservations.models import Booking
from reservations.reference import ensure_reference_data
from tests.billing.conftest import book, make_family, school_days
from tests.e2e.checks import BrowserWatch, axe_violations, find_overflow
from tests.e2e.conftest import ARTIFACTS, launch, log_in
from tests.factories import PASSWORD, SchoolYearFactory, UserFactory, totp_code

NOVEMBER = datetime.date(2026, 11, 1)
WIDTHS = (1280, 360)


def seed_november():
    """Families of November 2026: several billed on both régies, one invoiced already, one whose
    only booking was cancelled; a payment in October."""
    SchoolYear.objects.get_or_create(
        label="2025-2026",
        defaults={"start_date": datetime.date(2025, 9, 1), "end_date": datetime.date(2026, 7, 3)},
    )
    regies = ensure_billing_reference(
        [SchoolYear.objects.get(label="2025-2026"), SchoolYearFactory()]
    )
    slots = ensure_reference_data()
    for index, name in enumerate(["MARTIN", "DURAND", "BERNARD", "LEFÈVRE-DUPONT", "PETIT"]):
        family = make_family(name, children=2 if index % 2 else 1)
        for child in family.children.all():
            for day in school_days(NOVEMBER, count=4 + index):
                book(child, slots["matin"], day)
            book(child, slots["mercredi"], datetime.date(2026, 11, 4 + 7 * (index % 3)))
    petit = Family.objects.get(name="PETIT")
    issue_invoices(
        regie=regies["periscolaire"],
        month=NOVEMBER,
        today=datetime.date(2026, 12, 3),
        family_ids=[petit.pk],
        notify=False,
    )
    roux = make_family("ROUX")
    book(
        roux.children.get(),
        slots["soir-1"],
        datetime.date(2026, 11, 9),
        status=Booking.Status.CANCELLED,
    )
    payment_record(
        invoice=petit.invoices.get(),
        amount_cents=500,
        paid_on=datetime.date(2026, 12, 4),
        means=Payment.Means.CASH,
    )
    return regies


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_preview_page_in_the_browser(live_server, browser_path, fresh_rate_limits):
    with time_machine.travel(datetime.datetime(2026, 12, 5, 9, 0, tzinfo=datetime.UTC), tick=True):
        regies = seed_november()
        regisseur = UserFactory(is_staff=True, first_name="Paul", last_name="GIRAUD")
        regisseur.groups.add(Group.objects.get(name="Régisseur"))
        runs = reverse("admin:billing_invoicingrun_changelist")
        journal = reverse("admin:billing_regie_journal", args=[regies["periscolaire"].pk])
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        base = live_server.url

        with sync_playwright() as playwright:
            browser = launch(playwright, browser_path)
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
            watch = BrowserWatch().attach(context)
            page = context.new_page()
            log_in(page, base, regisseur.email, PASSWORD)
            page.locator("input[name=code]").fill(totp_code(regisseur.totp_secret))
            with page.expect_navigation():
                page.locator("main form button[type=submit]").first.click()

            page.goto(base + runs)
            page.get_by_role("link", name="Facturer un mois").click()
            page.get_by_label("Régie").select_option(label="Toutes les régies")
            page.get_by_label("Mois à facturer").select_option(label="novembre 2026")
            with page.expect_navigation():
                page.get_by_role("button", name="Voir ce qui sera émis").click()
            expect(page.locator(".messagelist .warning").first).to_contain_text(
                "La date d'émission prévue pour ce mois est le 10/12/2026"
            )
            page.locator("details summary").first.click()
            problems = {}
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                page.screenshot(
                    path=ARTIFACTS / f"admin-facturer-un-mois-{width}.png", full_page=True
                )
                problems[width] = axe_violations(page) + find_overflow(page)
            assert problems == {1280: [], 360: []}, problems

            page.set_viewport_size({"width": 1280, "height": 900})
            page.get_by_role("button", name="Émettre les factures de novembre 2026").click()
            expect(page.locator(".errorlist")).to_contain_text("Cochez cette case")
            page.get_by_label("Je confirme l'émission des factures avant la date prévue.").check()
            with page.expect_navigation():
                page.get_by_role("button", name="Émettre les factures de novembre 2026").click()
            expect(page.locator(".messagelist")).to_contain_text(
                "Facturation de novembre 2026 lancée"
            )

            page.goto(base + journal)
            expect(page.locator("#content-main h2").first).to_contain_text("1 encaissement")
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                page.screenshot(
                    path=ARTIFACTS / f"admin-journal-encaissements-{width}.png", full_page=True
                )
                problems[width] = axe_violations(page) + find_overflow(page)
            assert problems == {1280: [], 360: []}, problems
            # The admin's pages declare no icon, so the browser asks for /favicon.ico: that
            # 404 belongs to the admin's base template, not to these pages.
            assert [p for p in watch.drain() if "/favicon.ico" not in p] == []
            browser.close()
