"""The agenda's reference data (créneaux, holidays, school years, closures) comes from the
cache: a change made by the office shows at once, and a booking never relies on the cache to
know that a day is closed."""

import pytest
from django.urls import reverse

import common.cache
from common.cache import mark_redis_down
from reservations.models import Booking, CapacityOverride, Closure, SlotCapacity
from tests.reservations.conftest import MONDAY

pytestmark = pytest.mark.django_db


def month(client, child):
    url = reverse("reservations:month", args=[child.pk, MONDAY.year, MONDAY.month])
    return client.get(url).content.decode()


def panel(client, child):
    return client.get(reverse("reservations:day", args=[child.pk, MONDAY])).content.decode()


def test_a_closure_shows_at_once_on_pages_already_seen(client, parent, child, school, today):
    """The office closes a day: the month page and the day panel, seen just before (their
    calendar then cached), say so on the next request."""
    client.force_login(parent)
    assert "Grève" not in month(client, child) + panel(client, child)

    Closure.objects.create(start_date=MONDAY, end_date=MONDAY, school=school, reason="Grève")

    assert "Grève" in month(client, child)
    assert "Grève" in panel(client, child)


def test_a_renamed_creneau_shows_at_once(client, parent, child, slots, today):
    client.force_login(parent)
    assert "Accueil du matin (nouveau)" not in panel(client, child)

    slots["matin"].label = "Accueil du matin (nouveau)"
    slots["matin"].save()

    assert "Accueil du matin (nouveau)" in panel(client, child)


def test_booking_a_closed_day_is_refused_even_if_the_cache_missed_the_closure(
    client, parent, child, slots, school, today
):
    """Saving reads the closures from the database under the créneaux' lock: a closure the
    cache has not heard of (written without signals here) still refuses the booking."""
    client.force_login(parent)
    panel(client, child)  # the calendar is cached, without the closure
    Closure.objects.bulk_create(
        [Closure(start_date=MONDAY, end_date=MONDAY, school=school, reason="Grève")]
    )
    slot = str(slots["matin"].pk)

    client.post(
        reverse("reservations:day", args=[child.pk, MONDAY]),
        {"affiches": [slot], "modifiables": [slot], "creneau": [slot]},
    )

    assert not Booking.objects.filter(child=child, date=MONDAY).exists()


def test_with_redis_down_pages_read_the_database(client, parent, child, school, today, monkeypatch):
    """While Redis does not answer, the cache of another process could be out of date: the
    reference data is read from the database, and a closure shows at once all the same."""
    client.force_login(parent)
    panel(client, child)
    monkeypatch.setattr(common.cache, "_down_until", common.cache._down_until)  # put back after
    mark_redis_down()
    Closure.objects.bulk_create(
        [Closure(start_date=MONDAY, end_date=MONDAY, school=school, reason="Grève")]
    )

    assert "Grève" in panel(client, child)


def _book(client, child, slot, day=MONDAY):
    pk = str(slot.pk)
    return client.post(
        reverse("reservations:day", args=[child.pk, day]),
        {"affiches": [pk], "modifiables": [pk], "creneau": [pk]},
    )


def test_a_capacity_changed_by_the_office_shows_at_once_on_the_panel(
    client, parent, child, slots, school, today
):
    """The panel shows the places left from the cached capacities: the office lowering a
    créneau's places at the school, then for one day, shows on the next request."""
    client.force_login(parent)
    assert "Plus que" not in panel(client, child)  # capacities cached: plenty of places

    capacity = SlotCapacity.objects.create(slot=slots["matin"], school=school, places=4)
    assert "Plus que 4 places." in panel(client, child)

    capacity.places = 3
    capacity.save()
    assert "Plus que 3 places." in panel(client, child)

    CapacityOverride.objects.create(slot=slots["matin"], school=school, date=MONDAY, places=1)
    assert "Plus que 1 place." in panel(client, child)


def test_booking_a_full_creneau_is_refused_even_if_the_cache_missed_the_capacity(
    client, parent, child, slots, school, today
):
    """Saving reads the capacities from the database under the créneaux' lock: a day closed
    to bookings (0 places) that the cache has not heard of (written without signals here)
    still refuses the booking."""
    client.force_login(parent)
    assert "Plus que" not in panel(client, child)  # capacities cached, without the override
    CapacityOverride.objects.bulk_create(
        [CapacityOverride(slot=slots["matin"], school=school, date=MONDAY, places=0)]
    )

    _book(client, child, slots["matin"])

    assert not Booking.objects.filter(child=child, date=MONDAY).exists()
