"""Places and days under concurrent requests, with real transactions and threads (PostgreSQL)."""

import pytest
from django.test import Client
from django.urls import reverse

from reservations import availability, bulk
from reservations.calendar import ensure_calendar_around
from reservations.models import Booking, CapacityOverride, SlotDay
from tests.concurrency import at_once, meeting_after
from tests.factories import GuardianFactory
from tests.reservations.conftest import MONDAY, make_family

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _calendar(school_years, today):
    """The calendar is loaded beforehand, as in production, so that the requests race on places
    only (loading it would serialise them on its own unique index)."""
    ensure_calendar_around(today)


def signed_in(user):
    browser = Client()
    browser.force_login(user)
    return browser


def _book(browser, child, slot):
    ids = [str(slot.pk)]
    return browser.post(
        reverse("reservations:day", args=[child.pk, MONDAY]),
        {"affiches": ids, "modifiables": ids, "creneau": ids},
        HTTP_HX_REQUEST="true",
    )


def test_twenty_requests_for_the_last_place_give_one_booking(slots, school_years, school, today):
    """20 families ask for the last place of a créneau at the same moment: exactly one gets it."""
    slot = slots["matin"]
    CapacityOverride.objects.create(slot=slot, school=school, date=MONDAY, places=1)
    families = [make_family(f"FAMILLE{n}", school, children=[f"Enfant{n}"]) for n in range(20)]
    calls = []
    for family in families:
        browser, child = signed_in(family.guardians.first().user), family.children.get()
        calls.append(lambda b=browser, c=child: _book(b, c, slot))

    responses = at_once(*calls)

    assert all(r.status_code == 200 for r in responses)
    assert Booking.objects.active().filter(slot=slot, date=MONDAY).count() == 1
    assert sum("Réservé : Matin" in r.content.decode() for r in responses) == 1
    assert sum("Complet" in r.content.decode() for r in responses) == 19


def test_last_place_of_a_day_already_booked_goes_to_one_family(slots, school_years, school, today):
    """A day already booked (its lock row exists) with one place left: of 15 families asking at
    once, each having counted the places before any books, one gets it; the others are told
    it is full."""
    slot = slots["matin"]
    CapacityOverride.objects.create(slot=slot, school=school, date=MONDAY, places=2)
    first = make_family("PREMIERE", school, children=["Zoé"])
    response = _book(signed_in(first.guardians.first().user), first.children.get(), slot)
    assert "Réservé : Matin" in response.content.decode()
    assert SlotDay.objects.filter(slot=slot, school=school, date=MONDAY).exists()
    families = [make_family(f"FAMILLE{n}", school, children=[f"Enfant{n}"]) for n in range(15)]
    calls = []
    for family in families:
        browser, child = signed_in(family.guardians.first().user), family.children.get()
        calls.append(lambda b=browser, c=child: _book(b, c, slot))

    with meeting_after(availability, "taken_places", parties=len(calls)):
        responses = at_once(*calls)

    assert all(r.status_code == 200 for r in responses), responses
    pages = [r.content.decode() for r in responses]
    booked = Booking.objects.active().filter(slot=slot, school=school, date=MONDAY).count()
    assert booked == 2, f"{booked} bookings for 2 places"
    assert sum("Réservé : Matin" in page for page in pages) == 1
    assert sum("Complet : il ne reste plus de place" in page for page in pages) == 14


def test_two_guardians_saving_the_same_day(slots, school_years, school, today):
    """Both guardians tick the same créneau at once: one booking; the other is told that it was
    booked meanwhile by the other guardian."""
    family = make_family("LAGRANGE", school)
    second = GuardianFactory(family=family).user
    child = family.children.get()
    browsers = [signed_in(family.guardians.order_by("pk").first().user), signed_in(second)]

    responses = at_once(*(lambda b=b: _book(b, child, slots["soir-1"]) for b in browsers))

    assert Booking.objects.active().filter(child=child).count() == 1
    pages = [r.content.decode() for r in responses]
    assert sum("Réservé : soir 1" in page for page in pages) == 1
    assert sum("déjà réservé entre-temps par un autre responsable" in page for page in pages) == 1


def test_bulk_entry_and_day_panel_share_the_places(slots, school_years, school, today):
    """A bulk entry and a parent's day save racing for the last place: one of them gets it."""
    CapacityOverride.objects.create(slot=slots["matin"], school=school, date=MONDAY, places=1)
    bulk_family = make_family("BULK", school, children=["Anna"])
    day_family = make_family("JOUR", school, children=["Basile"])
    request = bulk.BulkRequest(
        children=tuple(bulk_family.children.all()),
        action=bulk.CREATE,
        start=MONDAY,
        end=MONDAY,
        slots=(slots["matin"],),
    )
    browser = signed_in(day_family.guardians.first().user)

    at_once(
        lambda: bulk.apply(request, by=bulk_family.guardians.first().user, today=today),
        lambda: _book(browser, day_family.children.get(), slots["matin"]),
    )

    assert Booking.objects.active().filter(slot=slots["matin"], date=MONDAY).count() == 1
