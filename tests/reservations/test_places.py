"""The places a booking counts on: the office's capacity for the school, a day's own capacity
where the office set one, the créneau's default elsewhere, read afresh from the database (the
booking path) and from the cache (pages) alike."""

import datetime

import pytest

from reservations.capacity import Capacities
from reservations.models import CapacityOverride, SlotCapacity
from tests.factories import SchoolFactory
from tests.reservations.conftest import MONDAY

pytestmark = pytest.mark.django_db

TUESDAY = MONDAY + datetime.timedelta(days=1)


@pytest.mark.parametrize("cached", [False, True], ids=["booking", "page"])
def test_a_days_capacity_wins_over_the_schools_which_wins_over_the_default(slots, school, cached):
    matin, soir = slots["matin"], slots["soir-1"]
    other_school = SchoolFactory(name="École du Bourg")
    SlotCapacity.objects.create(slot=matin, school=school, places=4)
    SlotCapacity.objects.create(slot=soir, school=other_school, places=9)
    CapacityOverride.objects.create(slot=matin, school=school, date=MONDAY, places=1)
    CapacityOverride.objects.create(slot=soir, school=school, date=TUESDAY, places=0)

    places = Capacities(
        [matin, soir], [school.pk, other_school.pk], MONDAY, TUESDAY, cached=cached
    ).places

    assert places(matin.pk, school.pk, MONDAY) == 1
    assert places(matin.pk, school.pk, TUESDAY) == 4
    assert places(soir.pk, school.pk, TUESDAY) == 0
    assert places(soir.pk, school.pk, MONDAY) == soir.default_capacity
    assert places(soir.pk, other_school.pk, MONDAY) == 9
    assert places(matin.pk, other_school.pk, MONDAY) == matin.default_capacity


def test_a_days_capacity_outside_the_period_is_not_read(slots, school):
    matin = slots["matin"]
    CapacityOverride.objects.create(slot=matin, school=school, date=TUESDAY, places=2)

    places = Capacities([matin], [school.pk], MONDAY, MONDAY).places

    assert places(matin.pk, school.pk, TUESDAY) == matin.default_capacity
