"""The database after the load: no créneau holds more children than its places, and no child is
booked twice on the same créneau and day.

Bookings the office added over capacity on purpose (`over_capacity`) do not count against the
places, as on the attendance register. The capacity check compares with the state before the
load (`overbooked()` taken then): a (créneau, school, day) fails if it is over capacity now and
was not before, or holds more bookings than it did.
"""

from dataclasses import dataclass, field

Key = tuple  # (slot id, school id, date)


def overbooked() -> dict[Key, tuple[int, int]]:
    """{(slot id, school id, date): (active bookings, places)} of every créneau over capacity."""
    from django.db.models import Count

    from reservations.capacity import Capacities
    from reservations.models import Booking, Slot

    rows = (
        Booking.objects.active()
        .filter(over_capacity=False)
        .values_list("slot", "school", "date")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {(slot, school, day): n for slot, school, day, n in rows}
    if not counts:
        return {}
    days = [key[2] for key in counts]
    capacities = Capacities(
        list(Slot.objects.all()), {key[1] for key in counts}, min(days), max(days)
    )
    out = {}
    for (slot, school, day), n in counts.items():
        places = capacities.places(slot, school, day)
        if n > places:
            out[(slot, school, day)] = (n, places)
    return out


def duplicates() -> list[tuple[int, int, object, int]]:
    """(child id, slot id, date, count) of every child booked more than once (active bookings)
    on the same créneau and day."""
    from django.db.models import Count

    from reservations.models import Booking

    return list(
        Booking.objects.active()
        .values_list("child", "slot", "date")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .order_by()
    )


@dataclass
class CheckResult:
    over_capacity: dict = field(default_factory=dict)  # key → (before, now, places)
    duplicates: list = field(default_factory=list)
    over_capacity_before: int = 0

    @property
    def ok(self) -> bool:
        return not self.over_capacity and not self.duplicates

    def lines(self) -> list[str]:
        out = []
        if self.over_capacity_before:
            out.append(
                f"note: {self.over_capacity_before} créneau(x) already over capacity before "
                "the load (seeded data)"
            )
        if self.over_capacity:
            out.append(f"FAILED: {len(self.over_capacity)} créneau(x) over capacity after the load")
            for (slot, school, day), (before, now, places) in sorted(
                self.over_capacity.items(), key=lambda item: (item[0][2], item[0][0], item[0][1])
            )[:10]:
                out.append(
                    f"  créneau {slot}, school {school}, {day}: {now} bookings for {places} "
                    f"places (before the load: {before})"
                )
        else:
            out.append("ok: no créneau over capacity")
        if self.duplicates:
            out.append(f"FAILED: {len(self.duplicates)} duplicate booking(s)")
            for child, slot, day, n in self.duplicates[:10]:
                out.append(f"  child {child}, créneau {slot}, {day}: {n} active bookings")
        else:
            out.append("ok: no duplicate booking (same child, day, créneau)")
        return out


def check_after_load(before: dict[Key, tuple[int, int]]) -> CheckResult:
    """The checks, against `before` (what `overbooked()` returned before the load)."""
    result = CheckResult(over_capacity_before=len(before), duplicates=duplicates())
    for key, (now, places) in overbooked().items():
        was = before.get(key, (0, places))[0]
        if key not in before or now > was:
            result.over_capacity[key] = (was, now, places)
    return result
