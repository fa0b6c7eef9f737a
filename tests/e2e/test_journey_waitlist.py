"""The waiting list in the browser at 360 px: the demo parent finds « Matin » full for Léa on a
day, joins the waiting list from the day panel; the neighbour family cancels its booking of
that créneau; Léa is booked and her family has the message in « Échanges »."""

import datetime
import re

import pytest
import time_machine
from playwright.sync_api import expect, sync_playwright

from enrolment.models import Enrolment, Service
from families.models import Child
from portail.demo import seed_demo
from reservations.models import Booking, CapacityOverride, Slot, WaitlistEntry
from tests.e2e.checks import BrowserWatch, axe_violations, find_overflow
from tests.e2e.conftest import ARTIFACTS, launch, log_in

pytestmark = pytest.mark.e2e

TODAY = datetime.date(2026, 11, 26)
NOW = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)
PARENT = ("parent@example.org", "parent-portail")
VOISIN = ("voisin@example.org", "voisin-portail")
DAY = datetime.date(2026, 12, 15)  # a Tuesday, modifiable on TODAY, no closure in the demo
MATIN = "Matin 07h20-08h20"
WIDTH = 360


def shot(page, step):
    page.screenshot(path=ARTIFACTS / f"journey-waitlist-{step}-{WIDTH}.png", full_page=True)


def checks(page, name):
    return [f"{name}: axe: {line}" for line in axe_violations(page)] + [
        f"{name}: overflow: {line}" for line in find_overflow(page)
    ]


def full_day():
    """« Matin » on DAY made full at Léa's school, its last place held by the neighbour's
    child (moved to Léa's school and enrolled if the demo did not). Read before the browser."""
    lea = Child.objects.get(first_name="Léa", family__guardians__user__email=PARENT[0])
    neighbour = Child.objects.filter(family__guardians__user__email=VOISIN[0]).first()
    neighbour.school = lea.school
    neighbour.save()
    matin = Slot.objects.get(code="matin")
    Enrolment.objects.get_or_create(
        child=neighbour,
        service=Service.objects.get(slug="periscolaire"),
        school_year=Enrolment.objects.filter(child=lea).first().school_year,
        defaults={"effective_on": TODAY},
    )
    Booking.objects.filter(child=lea, slot=matin, date=DAY).delete()
    held = Booking.objects.active().filter(child=neighbour, slot=matin, date=DAY).first()
    if held is None:
        held = Booking.objects.create(child=neighbour, slot=matin, date=DAY, school=lea.school)
    taken = Booking.objects.active().filter(slot=matin, date=DAY, school=lea.school).count()
    CapacityOverride.objects.update_or_create(
        slot=matin, school=lea.school, date=DAY, defaults={"places": taken}
    )
    return {"lea": lea.pk, "booking": held.pk, "slot": matin.pk}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_parent_waits_for_a_full_day_and_is_booked_when_the_neighbour_cancels(
    live_server, browser_path, settings, tmp_path, fresh_rate_limits
):
    """At 360 px: « Complet » and « M'inscrire en liste d'attente » on the day panel, « 1re
    place » once joined (month grid and panel); the neighbour deletes its booking; the parent
    finds the message in « Échanges » and Léa booked on the month grid."""
    settings.MEDIA_ROOT = tmp_path / "private"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems = []
    with time_machine.travel(NOW, tick=True):
        seed_demo(TODAY)
        data = full_day()
        month_url = f"{live_server.url}/agenda/{data['lea']}/2026/12/"
        with sync_playwright() as playwright:
            browser = launch(playwright, browser_path)
            # The parent joins the line.
            context = browser.new_context(viewport={"width": WIDTH, "height": 800}, locale="fr-FR")
            context.set_default_timeout(15_000)
            watch = BrowserWatch().attach(context)
            page = context.new_page()
            log_in(page, live_server.url, *PARENT)
            page.goto(month_url)
            page.locator(f"#jour-{DAY.isoformat()} a.agenda-day-link").click()
            panel = page.locator("#panneau-jour")
            expect(panel.get_by_role("heading", level=2)).to_have_text(
                "Horaires disponibles pour le 15/12/2026"
            )
            expect(panel).to_contain_text("Complet : il ne reste plus de place")
            shot(page, "complet")
            panel.get_by_role("button", name=re.compile("M'inscrire en liste d'attente")).click()
            expect(panel).to_contain_text("Liste d'attente : 1re place")
            expect(panel.get_by_role("button", name=re.compile("Quitter la liste"))).to_be_visible()
            problems += checks(page, "panneau-inscrit")
            shot(page, "inscrit")
            page.goto(month_url)
            expect(page.locator(f"#jour-{DAY.isoformat()}")).to_contain_text(
                "Matin · attente, 1re place"
            )
            page.get_by_role("link", name="Listes d'attente").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Mes listes d'attente")
            expect(page.locator("main")).to_contain_text("Liste d'attente : 1re place")
            problems += checks(page, "mes-listes")
            shot(page, "mes-listes")
            problems += watch.drain()
            context.close()

            # The neighbour deletes its booking of that créneau.
            context = browser.new_context(viewport={"width": WIDTH, "height": 800}, locale="fr-FR")
            context.set_default_timeout(15_000)
            watch = BrowserWatch().attach(context)
            page = context.new_page()
            log_in(page, live_server.url, *VOISIN)
            page.goto(f"{live_server.url}/agenda/reservations/{data['booking']}/supprimer/")
            page.get_by_role("button", name="Confirmer la suppression").click()
            expect(page.locator(".alert-success")).to_contain_text("est supprimée")
            shot(page, "voisin-supprime")
            problems += watch.drain()
            context.close()

            # The parent has the message, and Léa is booked.
            context = browser.new_context(viewport={"width": WIDTH, "height": 800}, locale="fr-FR")
            context.set_default_timeout(15_000)
            watch = BrowserWatch().attach(context)
            page = context.new_page()
            log_in(page, live_server.url, *PARENT)
            page.goto(live_server.url + "/echanges/")
            page.get_by_role("link", name="Léa a une place le 15").first.click()
            expect(page.locator("main")).to_contain_text("Une place s'est libérée")
            problems += checks(page, "message")
            shot(page, "message")
            page.get_by_role("link", name=re.compile("Voir la réservation")).click()
            expect(page.locator("main")).to_contain_text(MATIN)
            shot(page, "reservation")
            page.goto(month_url)
            expect(page.locator(f"#jour-{DAY.isoformat()} .agenda-bookings")).to_contain_text(
                "Matin"
            )
            expect(page.locator(f"#jour-{DAY.isoformat()}")).not_to_contain_text("attente")
            shot(page, "agenda-apres")
            problems += watch.drain()
            context.close()
            browser.close()
    assert not problems, "\n".join(problems)
    entry = WaitlistEntry.objects.get(child_id=data["lea"], date=DAY)
    assert entry.status == WaitlistEntry.Status.BOOKED
    assert Booking.objects.active().filter(child_id=data["lea"], slot_id=data["slot"], date=DAY)
