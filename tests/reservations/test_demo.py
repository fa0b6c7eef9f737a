"""The demo data: Léa and Lalo have bookings around "today", an absence and a closure."""

import datetime

import pytest

from portail.demo import seed_demo
from reservations.models import Absence, Booking, Closure
from tests.conftest import TODAY


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_demo_children_have_bookings_around_today(db, today):
    """Bookings three weeks back and five ahead, past ones marked present; an absence waits for
    the office; a closure cancelled a day; a second run adds nothing."""
    seed_demo(TODAY)

    lagrange = Booking.objects.filter(child__family__guardians__user__email="parent@example.org")
    assert set(lagrange.values_list("child__first_name", flat=True)) == {"Léa", "Lalo"}
    assert lagrange.filter(date__lt=TODAY).exists() and lagrange.filter(date__gt=TODAY).exists()
    assert lagrange.filter(
        date__gte=TODAY + datetime.timedelta(days=7), status=Booking.Status.VALIDATED
    ).exists()
    assert not lagrange.filter(date__lt=TODAY, presence=Booking.Presence.RESERVED).exists()
    assert lagrange.filter(slot__code="mercredi").exists()
    assert Absence.objects.filter(status=Absence.Status.PENDING).count() == 1
    assert Closure.objects.get().bookings.count() >= 1
    count = Booking.objects.count()

    seed_demo(TODAY)

    assert Booking.objects.count() == count
    assert Closure.objects.count() == 1
