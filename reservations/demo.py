"""Demo and bench bookings (used by seed_demo, seed_bench and tests)."""

import datetime

from django.db import transaction

from common.bulk import insert_rows
from enrolment.models import Enrolment
from families.models import Child, SchoolYear

from .calendar import ServiceCalendar, days_between, ensure_calendar_around
from .models import Absence, Booking, Closure, Slot
from .reference import ensure_reference_data
from .services import closure_apply

DEMO_WEEKS_BEFORE, DEMO_WEEKS_AFTER = 3, 5
BENCH_CHUNK = 5000

# Which créneaux each demo child uses: Léa mornings and first evening on Mon/Tue/Thu/Fri and
# Wednesdays; Lalo second evening on Mondays and Thursdays.
DEMO_PATTERNS = {
    "Léa": {"matin": {1, 2, 4, 5}, "soir-1": {1, 2, 4, 5}, "mercredi": {3}},
    "Lalo": {"soir-2": {1, 4}, "mercredi": {3}},
}


def _enrolled_keys(children, calendar):
    years = [year.pk for year in calendar.school_years]
    return set(
        Enrolment.objects.filter(child__in=children, school_year__in=years).values_list(
            "child", "service", "school_year"
        )
    )


def _bookings_for(child, patterns, slots, start, end, calendar, enrolled, today):
    rows = []
    for day in days_between(start, end):
        year = calendar.school_year(day)
        for code, weekdays in patterns.items():
            slot = slots[code]
            if day.isoweekday() not in weekdays or not calendar.runs(day, slot, child.school_id):
                continue
            if year is None or (child.pk, slot.activity.service_id, year.pk) not in enrolled:
                continue
            past = day < today
            rows.append(
                Booking(
                    child=child,
                    family_id=child.family_id,
                    slot=slot,
                    date=day,
                    school_id=child.school_id,
                    origin=Booking.Origin.PARENT,
                    created_at=datetime.datetime.combine(
                        min(day, today) - datetime.timedelta(days=10),
                        datetime.time(20, 15),
                        tzinfo=datetime.UTC,
                    ),
                    presence=Booking.Presence.PRESENT if past else Booking.Presence.RESERVED,
                )
            )
    return rows


@transaction.atomic
def seed_bookings(family, today: datetime.date) -> int:
    """Bookings of the demo children from three weeks before `today` to five weeks after, one
    absence waiting for the office and one closure that cancelled a day. Idempotent."""
    slots = {slot.code: slot for slot in Slot.objects.select_related("activity")}
    if not slots:
        slots = ensure_reference_data()
        slots = {slot.code: slot for slot in Slot.objects.select_related("activity")}
    children = [c for c in family.children.all() if c.first_name in DEMO_PATTERNS and c.school_id]
    if not children or Booking.objects.filter(child__in=children).exists():
        return 0
    ensure_calendar_around(today)
    start = today - datetime.timedelta(weeks=DEMO_WEEKS_BEFORE)
    end = today + datetime.timedelta(weeks=DEMO_WEEKS_AFTER)
    calendar = ServiceCalendar(start, end)
    enrolled = _enrolled_keys(children, calendar)
    rows = []
    for child in children:
        rows += _bookings_for(
            child, DEMO_PATTERNS[child.first_name], slots, start, end, calendar, enrolled, today
        )
    insert_rows(Booking, rows)

    lea = next((c for c in children if c.first_name == "Léa"), None)
    if lea is not None:
        _demo_absence(lea, today)
        _demo_closure(lea, today)
    return len(rows)


def _demo_absence(child, today):
    """Léa was ill yesterday (or on the last booked day): declared, waiting for a decision."""
    booking = Booking.objects.active().filter(child=child, date__lt=today).order_by("-date").first()
    if booking is None:
        return
    absence = Absence.objects.create(
        child=child,
        start_date=booking.date,
        end_date=booking.date,
        reason="Maladie (fièvre).",
        declared_by=child.family.guardians.first().user,
    )
    Booking.objects.filter(child=child, date=booking.date, status=Booking.Status.VALIDATED).update(
        absence=absence, presence=Booking.Presence.ABSENT
    )


def _demo_closure(child, today):
    """A strike day at Léa's school in two weeks: her bookings that day are cancelled."""
    day = today + datetime.timedelta(days=14)
    booked = Booking.objects.active().filter(child=child, date__gte=day).order_by("date").first()
    if booked is None:
        return
    closure = Closure.objects.create(
        start_date=booked.date,
        end_date=booked.date,
        school=child.school,
        reason="Grève du personnel communal",
    )
    closure_apply(closure=closure)


def seed_bench_bookings(children, today: datetime.date, *, start=None, end=None) -> int:
    """Bookings for the whole current school year of `children` (those enrolled), the bench's
    volume: mornings and first evenings on two to four weekdays, some Wednesdays."""
    children = [c for c in children if c.school_id]
    if not children:
        return 0
    slots = {slot.code: slot for slot in Slot.objects.select_related("activity")}
    year = SchoolYear.objects.current(today)
    start, end = start or year.start_date, end or year.end_date
    calendar = ServiceCalendar(start, end)
    enrolled = _enrolled_keys(children, calendar)
    rows = []
    for child in children:
        pattern = _bench_pattern(child.pk)
        rows += _bookings_for(child, pattern, slots, start, end, calendar, enrolled, today)
    for offset in range(0, len(rows), BENCH_CHUNK):
        insert_rows(Booking, rows[offset : offset + BENCH_CHUNK])
    return len(rows)


def _bench_pattern(seed: int) -> dict:
    days = [{1, 2, 4, 5}, {1, 4}, {2, 5}, {1, 2, 4}][seed % 4]
    pattern = {"matin": days} if seed % 3 else {"soir-1": days}
    if seed % 2:
        pattern["mercredi"] = {3}
    if seed % 5 == 0:
        pattern["soir-2"] = days
    return pattern


def children_of(families):
    """The children of `families`, with their school."""
    return Child.objects.filter(family__in=families).select_related("school")
