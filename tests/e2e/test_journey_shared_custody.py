"""Résidence alternée in the browser at 360 px: Tom lives with his father (FAURE, QF 450, his
second household) on even weeks and with his mother (ROCHE, QF 1300, who keeps his record) on
odd weeks. Each parent books its weeks by saisie groupée, sees the other's days as « Réservé
par l'autre foyer », and, once December is invoiced, finds its own invoice at its own QF;
neither reaches the other's booking or invoice (404). axe-core and overflow clean."""

import datetime
import re

import pytest
import time_machine
from playwright.sync_api import expect, sync_playwright

from billing.invoicing import invoicing_run
from billing.models import Invoice, Regie
from billing.reference import ensure_billing_reference
from enrolment import demo as enrolment_demo
from families import demo as families_demo
from families.models import SchoolYear
from reservations.calendar import ensure_calendar_around
from reservations.models import Booking
from reservations.reference import ensure_reference_data
from tests.e2e.checks import BrowserWatch, axe_violations, find_overflow
from tests.e2e.conftest import ARTIFACTS, launch, log_in

pytestmark = pytest.mark.e2e

NOW = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)  # Thursday
INVOICING = datetime.datetime(2027, 1, 11, 10, 0, tzinfo=datetime.UTC)
DECEMBER = datetime.date(2026, 12, 1)
MOTHER = ("alternance-mere@example.org", families_demo.SHARED_CUSTODY_PASSWORD)
FATHER = ("alternance-pere@example.org", families_demo.SHARED_CUSTODY_PASSWORD)
OTHER = "Réservé par l'autre foyer"
WIDTH = 360
# Mornings from Wed 02/12 to Fri 18/12 (the Christmas holidays start on Saturday 19/12):
# ISO week 50 (even) for the father, weeks 49 and 51 (odd) for the mother.
FATHER_DAYS = [datetime.date(2026, 12, d) for d in (7, 8, 10, 11)]
MOTHER_DAYS = [datetime.date(2026, 12, d) for d in (3, 4, 14, 15, 17, 18)]
# Matin 07h20-08h20 at QF 450: 1,10 €; at QF 1300: 2,50 €.
FATHER_CENTS, MOTHER_CENTS = 4 * 110, 6 * 250


def shot(page, step):
    page.screenshot(path=ARTIFACTS / f"journey-shared-custody-{step}-{WIDTH}.png", full_page=True)


def checks(page, name):
    return [f"{name}: axe: {line}" for line in axe_violations(page)] + [
        f"{name}: overflow: {line}" for line in find_overflow(page)
    ]


def new_page(browser):
    context = browser.new_context(viewport={"width": WIDTH, "height": 780}, locale="fr-FR")
    context.set_default_timeout(10_000)
    watch = BrowserWatch().attach(context)
    return context, context.new_page(), watch


def journey_data():
    """The two households of Tom, enrolled for the year, the calendar and the price grids."""
    families_demo.ensure_school_years(NOW.date())
    schools = families_demo.ensure_schools()
    ensure_reference_data()
    ensure_billing_reference(list(SchoolYear.objects.all()))
    ensure_calendar_around(NOW.date())
    mother, father, tom = families_demo.seed_shared_custody(NOW.date(), schools)
    enrolment_demo.ensure_enrolments(mother, NOW.date(), children=["Tom"])
    return {"tom": tom.pk, "mother": mother.pk, "father": father.pk}


def bulk_weeks(page, base, parity_label, expected):
    """Saisie groupée of Tom's mornings from 02/12 to 18/12 for the weeks of `parity_label`."""
    page.goto(base + "/agenda/saisie-groupee/")
    page.locator("fieldset.bulk-fieldset").first.get_by_label(re.compile("Tom$")).check()
    page.get_by_label("Créer", exact=True).check()
    page.get_by_label("Période du").fill("2026-12-02")
    page.get_by_label("au", exact=True).fill("2026-12-18")
    page.get_by_label(re.compile(r"^Matin 07h20-08h20 \(")).check()
    page.get_by_label(parity_label).check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez avant de confirmer")
    expect(page.locator("section[aria-labelledby=a-faire]").get_by_role("heading", level=2))
    todo = page.locator("section[aria-labelledby=a-faire]").get_by_role("heading", level=2)
    expect(todo).to_have_text(f"{expected} réservations seront créées")


def confirm(page, expected):
    page.get_by_role("button", name="Confirmer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Saisie groupée enregistrée")
    expect(page.locator(".alert-success")).to_have_text(f"{expected} réservations créées.")


def cell(page, day):
    return page.locator(f"#jour-{day.isoformat()}")


def journey_bookings(browser, base, data):
    """The father books the even weeks, the mother the odd weeks (her preview first lists the
    father's days as « Réservé par l'autre foyer »); each sees the other's days so."""
    problems = []
    father_ctx, father, father_watch = new_page(browser)
    log_in(father, base, *FATHER)
    bulk_weeks(father, base, "Semaines paires", 4)
    shot(father, "pere-apercu")
    problems += checks(father, "aperçu du père")
    confirm(father, 4)

    mother_ctx, mother, mother_watch = new_page(browser)
    log_in(mother, base, *MOTHER)
    # Every week: the father's days are skipped as « réservé par l'autre foyer ».
    bulk_weeks(mother, base, "Aucune", 6)
    skipped = mother.locator("section[aria-labelledby=ignores]")
    expect(skipped).to_contain_text(f"{OTHER} : 4")
    shot(mother, "mere-apercu-toutes-semaines")
    problems += checks(mother, "aperçu de la mère")
    bulk_weeks(mother, base, "Semaines impaires", 6)
    confirm(mother, 6)

    month = f"/agenda/{data['tom']}/2026/12/"
    for page, own, other, who in (
        (mother, MOTHER_DAYS, FATHER_DAYS, "mere"),
        (father, FATHER_DAYS, MOTHER_DAYS, "pere"),
    ):
        page.goto(base + month)
        for day in other:
            expect(cell(page, day).locator(".booking-other")).to_have_text(f"Matin · {OTHER}")
            expect(cell(page, day).locator("a[href*='/agenda/reservations/']")).to_have_count(0)
        for day in own:
            expect(cell(page, day).locator("a[href*='/agenda/reservations/']")).to_have_count(1)
        shot(page, f"{who}-mois")
        problems += checks(page, f"mois ({who})")
        # The other's day opens as « Réservé par l'autre foyer », its box ticked and locked.
        page.goto(base + f"/agenda/{data['tom']}/{other[0].isoformat()}/")
        expect(page.locator("main")).to_contain_text(f"{OTHER}.")
        expect(page.locator("input[name=creneau]:checked:disabled")).to_have_count(1)
        expect(page.locator("main a[href*='/agenda/reservations/']")).to_have_count(0)
        shot(page, f"{who}-jour-de-l-autre")
        problems += checks(page, f"jour de l'autre foyer ({who})")

    # The mother's booking, tried by the father by its address: 404.
    mother.goto(base + month)
    href = (
        cell(mother, MOTHER_DAYS[0])
        .locator("a[href*='/agenda/reservations/']")
        .get_attribute("href")
    )
    for path in (href, href + "supprimer/"):
        response = father.goto(base + path)
        assert response.status == 404, path
    father_watch.drain()  # the 404 pages above are expected
    problems += mother_watch.drain()
    mother_ctx.close()
    father_ctx.close()
    return problems


def journey_invoices(browser, base, numbers):
    """Each parent finds its own December invoice, at its own QF, and not the other's."""
    problems = []
    for who, login, own, other, amount in (
        ("mere", MOTHER, numbers["mother"], numbers["father"], "15,00 €"),
        ("pere", FATHER, numbers["father"], numbers["mother"], "4,40 €"),
    ):
        context, page, watch = new_page(browser)
        log_in(page, base, *login)
        page.goto(base + "/paiements/periscolaire/factures/")
        main = page.locator("main")
        expect(main).to_contain_text(own["number"])
        expect(main).to_contain_text(amount)
        expect(main).not_to_contain_text(other["number"])
        shot(page, f"{who}-factures")
        problems += checks(page, f"factures ({who})")
        response = page.goto(base + f"/paiements/factures/{other['pk']}/")
        assert response.status == 404
        response = page.goto(base + f"/paiements/factures/{other['pk']}/pdf/")
        assert response.status == 404
        watch.drain()  # the 404s are expected
        context.close()
    return problems


@pytest.mark.django_db(transaction=True)
def test_two_households_book_alternate_weeks_and_pay_their_own(
    live_server, browser_path, fresh_rate_limits, settings, tmp_path
):
    """Even weeks for the father, odd weeks for the mother, each seeing the other's days as
    « Réservé par l'autre foyer »; December invoiced: 4,40 € for the father (QF 450), 15,00 €
    for the mother (QF 1300), each reaching only its own."""
    settings.MEDIA_ROOT = tmp_path / "private"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    with time_machine.travel(NOW, tick=True):
        data = journey_data()
        with sync_playwright() as playwright:
            browser = launch(playwright, browser_path)
            problems = journey_bookings(browser, base, data)
            browser.close()
    assert not problems, "\n".join(problems)
    by_family = {
        key: sorted(
            Booking.objects.active()
            .filter(child_id=data["tom"], family_id=data[key])
            .values_list("date", flat=True)
        )
        for key in ("mother", "father")
    }
    assert by_family == {"mother": MOTHER_DAYS, "father": FATHER_DAYS}

    with time_machine.travel(INVOICING, tick=True):
        invoicing_run(
            regie=Regie.objects.get(slug="periscolaire"),
            month=DECEMBER,
            today=INVOICING.date(),
            notify=False,
        )
        invoices = {
            key: Invoice.objects.live().get(family_id=data[key], period_start=DECEMBER)
            for key in ("mother", "father")
        }
        assert invoices["mother"].total_cents == MOTHER_CENTS
        assert invoices["father"].total_cents == FATHER_CENTS
        numbers = {
            key: {"pk": invoice.pk, "number": invoice.number} for key, invoice in invoices.items()
        }
        with sync_playwright() as playwright:
            browser = launch(playwright, browser_path)
            problems = journey_invoices(browser, base, numbers)
            browser.close()
    assert not problems, "\n".join(problems)
