"""Places: the capacity of a créneau at a school on a day, the places taken, and the lock that
makes "count, then book" safe under concurrent requests.

Every write that takes a place first locks the `SlotDay` rows of the (créneau, school, day)
it books, in a stable order, then counts the active bookings, then inserts. On PostgreSQL the
lock is `SELECT … FOR UPDATE`; on SQLite, the INSERT that creates missing lock rows already
takes the database's write lock, which serialises writers just as well.
"""

import datetime
from collections import Counter

from django.db.models import Count, DateField, Value

from common.bulk import insert_rows

from .calendar import reference
from .models import Booking, CapacityOverride, SlotCapacity, SlotDay

Key = tuple[int, int, datetime.date]  # (slot id, school id, date)


class Capacities:
    """The places of créneaux at schools over a period, read in one query; or, for pages that
    only show places (`cached=True`), from the cache of reference data, in none. A booking reads
    them afresh, under its lock, as it must see a capacity the instant the office lowers it."""

    def __init__(
        self, slots, school_ids, start: datetime.date, end: datetime.date, *, cached=False
    ):
        slot_ids = [slot.pk for slot in slots]
        self._default = {slot.pk: slot.default_capacity for slot in slots}
        if cached:
            per_school, per_day = reference("capacities", _capacity_rows)
            wanted_slots, wanted_schools = set(slot_ids), set(school_ids)
            self._per_school = {
                (slot, school): places
                for slot, school, places in per_school
                if slot in wanted_slots and school in wanted_schools
            }
            self._per_day = {
                (slot, school, day): places
                for slot, school, day, places in per_day
                if slot in wanted_slots and school in wanted_schools and start <= day <= end
            }
            return
        # Both kinds in one query: per school (no date), then per day.
        per_school = (
            SlotCapacity.objects.filter(slot__in=slot_ids, school__in=school_ids)
            .annotate(day=Value(None, output_field=DateField()))
            .order_by()
            .values_list("slot", "school", "day", "places")
        )
        per_day = (
            CapacityOverride.objects.filter(
                slot__in=slot_ids, school__in=school_ids, date__range=(start, end)
            )
            .order_by()
            .values_list("slot", "school", "date", "places")
        )
        self._per_school, self._per_day = {}, {}
        for slot, school, day, places in per_school.union(per_day, all=True):
            if day is None:
                self._per_school[(slot, school)] = places
            else:
                self._per_day[(slot, school, day)] = places

    def places(self, slot_id: int, school_id: int, day: datetime.date) -> int:
        if (slot_id, school_id, day) in self._per_day:
            return self._per_day[(slot_id, school_id, day)]
        return self._per_school.get((slot_id, school_id), self._default[slot_id])


def _capacity_rows():
    """Every capacity the office set, per school and per day, as plain tuples (a few hundred
    rows: the cached value stays small)."""
    return (
        list(SlotCapacity.objects.order_by().values_list("slot", "school", "places")),
        list(CapacityOverride.objects.order_by().values_list("slot", "school", "date", "places")),
    )


def taken_places(slot_ids, school_ids, start: datetime.date, end: datetime.date) -> Counter:
    """Active bookings per (slot id, school id, date), in one query."""
    rows = (
        Booking.objects.active()
        .filter(slot__in=slot_ids, school__in=school_ids, date__range=(start, end))
        .values_list("slot", "school", "date")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return Counter({(slot, school, day): n for slot, school, day, n in rows})


def lock(keys) -> None:
    """Lock the (slot id, school id, date) rows of `keys` until the transaction ends.

    Two queries whatever the number of keys: create the missing rows, then lock them all, in
    the order (date, slot, school) so that two bulk operations never wait on each other in a
    cycle. Must run inside `transaction.atomic()`, before the counts that the lock protects."""
    keys = sorted(set(keys), key=lambda key: (key[2], key[0], key[1]))
    if not keys:
        return
    insert_rows(
        SlotDay,
        [SlotDay(slot_id=slot, school_id=school, date=day) for slot, school, day in keys],
        ignore_conflicts=True,
    )
    slot_ids = {key[0] for key in keys}
    school_ids = {key[1] for key in keys}
    first, last = keys[0][2], keys[-1][2]
    # The rectangle (slots × schools × dates) covers the keys; locking a few more rows than
    # needed is harmless and keeps this one query.
    list(
        SlotDay.objects.select_for_update()
        .filter(slot__in=slot_ids, school__in=school_ids, date__range=(first, last))
        .order_by("date", "slot_id", "school_id")  # the ids: no join to order by
        .values_list("pk", flat=True)
    )
