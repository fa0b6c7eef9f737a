"""The agenda's own pages, opened by their address (from the absence page, a link opened in a
new tab, an e-mail): no day panel around them, htmx loaded all the same. Every button works
there: ENREGISTRER books, unticking asks before removing, « Voir la journée », « Supprimer »
and its confirmation — at 1280 and 360 px, with axe-core and no overflow."""

import datetime
import re

import pytest
import time_machine
from playwright.sync_api import expect, sync_playwright

from enrolment.models import EnrolmentRequest, Teleservice
from families.models import Child, SchoolYear
from portail.demo import seed_demo
from reservations.models import Booking, Slot
from tests.e2e.checks import BrowserWatch, axe_violations, find_overflow
from tests.e2e.conftest import ARTIFACTS, launch, log_in
from tests.factories import PASSWORD, ChildFactory, GuardianFactory

pytestmark = pytest.mark.e2e

TODAY = datetime.date(2026, 11, 26)  # Thursday: the first modifiable day is Wed 02/12/2026
NOW = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)
PARENT = ("parent@example.org", "parent-portail")
MATIN = "Matin 07h20-08h20"
PENDING_MONDAY = datetime.date(2026, 12, 7)
# Per width: a Tuesday to book and unbook on its day page, a Friday whose booked morning is
# deleted from its booking page (Lalo has nothing on Tuesdays and Fridays in the demo).
DAYS = {
    1280: (datetime.date(2026, 12, 8), datetime.date(2026, 12, 11)),
    360: (datetime.date(2026, 12, 15), datetime.date(2026, 12, 18)),
}


def shot(page, step, width):
    page.screenshot(path=ARTIFACTS / f"agenda-pages-{step}-{width}.png", full_page=True)


def check_page(page, step, width, problems):
    """axe-core and the overflow check on the page as it stands, then a screenshot."""
    problems += [f"{step} @{width}: {line}" for line in axe_violations(page)]
    problems += [f"{step} @{width}: {line}" for line in find_overflow(page)]
    shot(page, step, width)


def message(page):
    return page.locator("main .messages .alert")


def journey(browser, base, data, width):
    """The day page: book, then untick and confirm the removal; the booking page: « Voir la
    journée », then « Supprimer » and its confirmation."""
    book_day, delete_day = DAYS[width]
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="fr-FR")
    context.set_default_timeout(10_000)
    watch = BrowserWatch().attach(context)
    page = context.new_page()
    problems = []
    log_in(page, base, *PARENT)

    # Today, as the month tells it.
    page.goto(base + f"/agenda/{data['lalo']}/2026/11/")
    today = page.locator(f"#jour-{TODAY.isoformat()} .agenda-day-link")
    expect(today).to_contain_text("Aujourd'hui")
    expect(today).to_contain_text("Plus modifiable")
    expect(today).not_to_contain_text("Non réservable")
    check_page(page, "mois-aujourdhui", width, problems)

    # The day page, by its address: no panel on it, the form posts the page itself.
    day_path = f"/agenda/{data['lalo']}/{book_day.isoformat()}/"
    page.goto(base + day_path)
    expect(page.get_by_role("heading", level=2)).to_have_text(
        f"Horaires disponibles pour le {book_day:%d/%m/%Y}"
    )
    expect(page.locator("#panneau-jour")).to_have_count(0)
    page.get_by_label(MATIN).check()
    check_page(page, "jour", width, problems)
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer").click()
    expect(message(page)).to_have_text(f"Réservé le {book_day:%d/%m/%Y} : {MATIN}.")
    day_cell = page.locator(f"#jour-{book_day.isoformat()} .agenda-bookings li")
    expect(day_cell.filter(has_text=re.compile("^Matin"))).to_have_count(1)
    check_page(page, "jour-reserve", width, problems)

    # Unticking a booked créneau asks first, with the créneau and the day named.
    page.goto(base + day_path)
    expect(page.get_by_label(MATIN)).to_be_checked()
    page.get_by_label(MATIN).uncheck()
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer").click()
    when = "mardi 8 décembre" if width == 1280 else "mardi 15 décembre"
    expect(page.locator("main")).to_contain_text(
        f"Vous allez supprimer : {MATIN} ({when}). Confirmer la suppression ?"
    )
    confirm = page.get_by_role("button", name="Confirmer la suppression")
    expect(confirm).to_have_class(re.compile(r"\bbtn-danger\b"))
    check_page(page, "jour-confirmation", width, problems)
    with page.expect_navigation():
        confirm.click()
    expect(message(page)).to_have_text(f"Supprimé le {book_day:%d/%m/%Y} : {MATIN}.")
    expect(day_cell.filter(has_text=re.compile("^Matin"))).to_have_count(0)

    # The booking page, by its address: « Voir la journée » opens the day page.
    booking_path = f"/agenda/reservations/{data['bookings'][width]}/"
    page.goto(base + booking_path)
    expect(page.get_by_role("heading", level=2)).to_have_text(f"Accueil du matin : {MATIN}")
    expect(page.locator("#panneau-jour")).to_have_count(0)
    check_page(page, "reservation", width, problems)
    with page.expect_navigation():
        page.get_by_role("link", name="Voir la journée").click()
    expect(page.get_by_role("heading", level=2)).to_have_text(
        f"Horaires disponibles pour le {delete_day:%d/%m/%Y}"
    )
    expect(page.get_by_label(MATIN)).to_be_checked()

    # « Supprimer », its confirmation page, then the agenda with the confirmation.
    page.goto(base + booking_path)
    delete = page.get_by_role("link", name=re.compile("^Supprimer"))
    expect(delete).to_have_class(re.compile(r"\bbtn-outline-danger\b"))
    with page.expect_navigation():
        delete.click()
    expect(page.locator("main")).to_contain_text("Confirmer la suppression ?")
    check_page(page, "reservation-confirmation", width, problems)
    with page.expect_navigation():
        page.get_by_role("button", name="Confirmer la suppression").click()
    expect(message(page)).to_contain_text(f"La réservation n° {data['numbers'][width]}")
    expect(message(page)).to_contain_text("est supprimée.")
    check_page(page, "reservation-supprimee", width, problems)

    problems += watch.drain()
    context.close()
    return problems


def journey_pending(browser, base, data, width):
    """A child whose périscolaire request is en traitement: « Inscription en attente » on the
    month and on the day page, whose boxes are disabled and point to the reason."""
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="fr-FR")
    context.set_default_timeout(10_000)
    watch = BrowserWatch().attach(context)
    page = context.new_page()
    problems = []
    log_in(page, base, data["pending_email"], PASSWORD)
    page.goto(base + f"/agenda/{data['pending']}/2026/12/")
    monday = page.locator(f"#jour-{PENDING_MONDAY.isoformat()}")
    expect(monday).to_contain_text("Inscription en attente")
    expect(page.locator(".agenda-day.state-bookable")).to_have_count(0)
    expect(page.locator("main [role=note]").first).to_contain_text(
        "attend l'accord du pôle administratif"
    )
    check_page(page, "attente-mois", width, problems)
    monday.locator("a.agenda-day-link").click()  # into the month page's panel
    expect(page.locator("#panneau-jour #raison-jour")).to_contain_text("Inscription en attente")
    page.goto(base + f"/agenda/{data['pending']}/{PENDING_MONDAY.isoformat()}/")
    boxes = page.locator("input[name=creneau]")
    expect(boxes).to_have_count(3)
    for index in range(3):
        expect(boxes.nth(index)).to_be_disabled()
        expect(boxes.nth(index)).to_have_attribute("aria-describedby", "raison-jour")
    expect(page.locator("#raison-jour")).to_contain_text("Inscription en attente")
    expect(page.get_by_role("button", name="Enregistrer")).to_have_count(0)
    check_page(page, "attente-jour", width, problems)
    problems += watch.drain()
    context.close()
    return problems


def journey_data():
    """The demo, and for each width a morning booked for Lalo on its Friday; read before the
    browser starts."""
    seed_demo(TODAY)
    lalo = Child.objects.get(first_name="Lalo", family__guardians__user__email=PARENT[0])
    matin = Slot.objects.get(code="matin")
    bookings, numbers = {}, {}
    for width, (book_day, delete_day) in DAYS.items():
        assert not Booking.objects.active().filter(child=lalo, date=book_day).exists()
        booking = Booking.objects.create(
            child=lalo, slot=matin, date=delete_day, school=lalo.school
        )
        bookings[width], numbers[width] = booking.pk, booking.number
    guardian = GuardianFactory(family__name="ATTENTE")
    zoe = ChildFactory(family=guardian.family, first_name="Zoé", school=lalo.school)
    year = SchoolYear.objects.current(TODAY)
    teleservice = Teleservice.objects.get(kind=Teleservice.Kind.PERISCOLAIRE, school_year=year)
    EnrolmentRequest.objects.create(
        family=guardian.family,
        child=zoe,
        teleservice=teleservice,
        kind=teleservice.kind,
        school_year=year,
        state=EnrolmentRequest.State.SUBMITTED,
    )
    return {
        "lalo": lalo.pk,
        "bookings": bookings,
        "numbers": numbers,
        "pending": zoe.pk,
        "pending_email": guardian.user.email,
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_agenda_pages_by_address(live_server, browser_path, fresh_rate_limits):
    """Day page and booking page without the panel: book, confirm a removal, see the day,
    delete with confirmation — every result in the database and on the page; a child whose
    enrolment waits for the office is told so."""
    with time_machine.travel(NOW, tick=True):
        data = journey_data()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = launch(playwright, browser_path)
            problems = []
            for width in DAYS:
                problems += journey(browser, live_server.url, data, width)
                problems += journey_pending(browser, live_server.url, data, width)
            browser.close()
    assert not problems, "\n".join(problems)

    lalo_matin = Booking.objects.filter(child_id=data["lalo"], slot__code="matin")
    for width, (book_day, _) in DAYS.items():
        assert not lalo_matin.active().filter(date=book_day).exists()
        removed = lalo_matin.get(date=book_day)
        assert removed.status == Booking.Status.CANCELLED and removed.cancelled_by is not None
        deleted = Booking.objects.get(pk=data["bookings"][width])
        assert deleted.status == Booking.Status.CANCELLED
    assert not Booking.objects.filter(child_id=data["pending"]).exists()
