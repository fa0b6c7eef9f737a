"""The waiting list under concurrent cancellations, with real transactions and threads
(PostgreSQL): each freed place goes to one child in line, never two places to one child, and
the créneau is never overbooked."""

import pytest
from django.test import Client
from django.urls import reverse

from exchanges.models import Thread
from reservations import waitlist
from reservations.calendar import ensure_calendar_around
from reservations.models import Booking, CapacityOverride, WaitlistEntry
from tests.concurrency import at_once, meeting_after
from tests.reservations.conftest import MONDAY, make_family

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PLACES = 10


@pytest.fixture(autouse=True)
def _calendar(school_years, today):
    """The calendar is loaded beforehand, as in production."""
    ensure_calendar_around(today)


def signed_in(user):
    browser = Client()
    browser.force_login(user)
    return browser


def test_ten_cancellations_at_once_promote_ten_children_once_each(
    slots, school_years, school, today
):
    """« Matin » is full (10 places); 12 children wait in line. 10 families cancel at the same
    moment: the first 10 in line are booked, each once, in order; the créneau holds exactly 10
    children; the last 2 still wait; each promoted family has one message."""
    slot = slots["matin"]
    CapacityOverride.objects.create(slot=slot, school=school, date=MONDAY, places=PLACES)
    holders = [make_family(f"TITULAIRE{n}", school, children=[f"Tit{n}"]) for n in range(PLACES)]
    bookings = [
        Booking.objects.create(child=f.children.get(), slot=slot, date=MONDAY, school=school)
        for f in holders
    ]
    waiting = [make_family(f"ATTENTE{n}", school, children=[f"Att{n}"]) for n in range(12)]
    entries = [
        waitlist.join(
            child=f.children.get(),
            slot=slot,
            day=MONDAY,
            by=f.guardians.first().user,
            today=today,
        )
        for f in waiting
    ]
    calls = []
    for family, booking in zip(holders, bookings, strict=True):
        browser = signed_in(family.guardians.first().user)
        url = reverse("reservations:booking_delete", args=[booking.pk])
        calls.append(lambda b=browser, u=url: b.post(u))

    # Every cancellation reads the line before any of them books from it.
    with meeting_after(waitlist, "_waiting_entries", parties=len(calls)):
        responses = at_once(*calls)

    assert all(getattr(r, "status_code", None) == 302 for r in responses), responses
    active = Booking.objects.active().filter(slot=slot, school=school, date=MONDAY)
    assert active.count() == PLACES, f"{active.count()} children for {PLACES} places"
    promoted = [e.child_id for e in entries[:PLACES]]
    assert sorted(active.values_list("child", flat=True)) == sorted(promoted)
    statuses = [WaitlistEntry.objects.get(pk=e.pk).status for e in entries]
    assert statuses == ["booked"] * PLACES + ["waiting"] * 2
    for family in waiting[:PLACES]:
        assert Thread.objects.filter(family=family).count() == 1
    assert not Thread.objects.filter(family__in=waiting[PLACES:]).exists()
