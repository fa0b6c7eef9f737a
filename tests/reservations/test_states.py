"""Bookings move only along their transition table, one at a time or many at once."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from reservations.models import Booking
from tests.reservations.conftest import MONDAY

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 26, 9, 0, tzinfo=datetime.UTC)


def test_a_cancelled_booking_is_not_cancelled_again(child, slots):
    """Cancelling a booking twice is refused in French; who cancelled it first stays recorded."""
    booking = Booking.objects.create(
        child=child, slot=slots["matin"], date=MONDAY, school=child.school
    )
    booking.cancel(by=None, now=NOW, reason="Annulée par la famille")
    booking.save()

    with pytest.raises(ValidationError, match="Une réservation « annulée » ne peut pas devenir"):
        booking.cancel(by=None, now=NOW, reason="Encore")
    booking.refresh_from_db()
    assert booking.cancel_reason == "Annulée par la famille"


def test_a_group_move_leaves_bookings_the_table_does_not_allow_to_move(child, slots):
    """Cancelling a group of bookings moves the validated ones only: one already cancelled by
    a closure keeps its status and its reason (the family is not told it cancelled it)."""
    kept = Booking.objects.create(
        child=child,
        slot=slots["matin"],
        date=MONDAY,
        school=child.school,
        status=Booking.Status.CANCELLED_BY_CLOSURE,
        cancel_reason="Grève du personnel",
        cancelled_at=NOW,
    )
    booked = Booking.objects.create(
        child=child, slot=slots["soir-1"], date=MONDAY, school=child.school
    )

    moved = Booking.objects.filter(child=child).move_to(
        Booking.Status.CANCELLED, cancel_reason="Annulée par la famille", cancelled_at=NOW
    )

    assert moved == 1
    kept.refresh_from_db()
    booked.refresh_from_db()
    assert (kept.status, kept.cancel_reason) == (
        Booking.Status.CANCELLED_BY_CLOSURE,
        "Grève du personnel",
    )
    assert (booked.status, booked.cancel_reason) == (
        Booking.Status.CANCELLED,
        "Annulée par la famille",
    )
