"""The register of a créneau (pointage): who is expected at a school on a day, and how many
children are marked present, absent or not yet."""

import datetime

from families.models import School

from .models import Booking, Slot


def register_rows(school: School | None, slot: Slot | None, day: datetime.date) -> list[Booking]:
    """The children expected (or welcomed) on the créneau, by name."""
    if school is None or slot is None:
        return []
    return list(
        Booking.objects.active()
        .filter(school=school, slot=slot, date=day)
        .select_related("child")
        .order_by("child__last_name", "child__first_name", "pk")
    )


def register_counts(bookings) -> dict:
    """Présents, absents and children still to mark on a register."""
    present = sum(b.presence == Booking.Presence.PRESENT for b in bookings)
    absent = sum(
        b.presence in (Booking.Presence.ABSENT, Booking.Presence.EXCUSED) for b in bookings
    )
    return {"present": present, "absent": absent, "unmarked": len(bookings) - present - absent}
