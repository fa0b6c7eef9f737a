"""The school calendar: holidays loaded from the `holidays` package, closures, service days.

*Service days* say when a créneau runs: a day of one of its weekdays, inside a school year, that
is neither a public holiday, nor in the school holidays, nor covered by a closure. They are not
the *working days* that count the booking deadline (`reservations.deadlines`).

Holidays are stored (the `Holiday` table, which staff can correct): `ensure_calendar` loads the
school years around a period from the package, once per school year.
"""

import datetime
from dataclasses import dataclass

import holidays
from django.db import IntegrityError, transaction

from common import refcache
from families.models import SchoolYear

from .deadlines import public_holidays
from .models import CalendarImport, Closure, Holiday, Slot

ONE_DAY = datetime.timedelta(days=1)
ZONE = "Zone A"  # Lyon


def school_year_start(day: datetime.date) -> int:
    """The calendar year in which the school year holding `day` starts (the summer holidays
    belong to the year that ends with them, August included)."""
    return day.year if day.month >= 8 else day.year - 1


def _ranges(days: dict[datetime.date, str]):
    """Consecutive days with the same name, as (name, first, last)."""
    ordered = sorted(days.items())
    start = None
    for index, (day, name) in enumerate(ordered):
        if start is None:
            start = (day, name)
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        if following is None or following[0] != day + ONE_DAY or following[1] != name:
            yield name, start[0], day
            start = None


def official_school_holidays(start_year: int) -> list[tuple[str, datetime.date, datetime.date]]:
    """Zone A school holidays of the school year starting in `start_year`: (name, first, last)."""
    days = holidays.France(
        years=range(start_year, start_year + 3), categories=("school",), subdiv=ZONE, language="fr"
    )
    first, last = datetime.date(start_year, 8, 1), datetime.date(start_year + 1, 7, 31)
    return [r for r in _ranges(dict(days)) if first <= r[1] <= last]


def official_public_holidays(start_year: int) -> list[tuple[str, datetime.date]]:
    """French public holidays from August of `start_year` to July of the next year."""
    first, last = datetime.date(start_year, 8, 1), datetime.date(start_year + 1, 7, 31)
    found = {**public_holidays(start_year), **public_holidays(start_year + 1)}
    return sorted(
        ((name, day) for day, name in found.items() if first <= day <= last), key=lambda r: r[1]
    )


def load_school_year(start_year: int) -> int:
    """Store the holidays of the school year starting in `start_year`, unless already done.

    Returns the number of rows created (zero when the year was loaded before, by this or a
    concurrent call, or when the package does not know that year's school holidays yet)."""
    school = official_school_holidays(start_year)
    if not school:
        return 0
    rows = [
        Holiday(kind=Holiday.Kind.SCHOOL, name=name, start_date=first, end_date=last)
        for name, first, last in school
    ] + [
        Holiday(kind=Holiday.Kind.PUBLIC, name=name, start_date=day, end_date=day)
        for name, day in official_public_holidays(start_year)
    ]
    try:
        with transaction.atomic():
            CalendarImport.objects.create(start_year=start_year)
            Holiday.objects.bulk_create(rows)
    except IntegrityError:
        return 0
    return len(rows)


def ensure_calendar(start: datetime.date, end: datetime.date) -> int:
    """Make sure the holidays of every school year touching [start, end] are stored."""
    wanted = set(range(school_year_start(start), school_year_start(end) + 1))
    done = set(reference("calendar-imports", _imported_years))
    if not wanted - done:
        return 0
    loaded = sum(load_school_year(year) for year in sorted(wanted - done))
    reference("calendar-imports", _imported_years)  # cached again, as the loads changed it
    return loaded


# The calendar's reference data, from the cache (common.refcache; invalidated by any change of
# these tables, see ReservationsConfig.ready) rather than three or four queries a page.
REFERENCE = "reservations"


def reference(name, build):
    return refcache.reference(REFERENCE, name, build)


def all_slots() -> list[Slot]:
    """Every créneau (active or not), with its activity and service."""
    return reference("slots", lambda: list(Slot.objects.select_related("activity__service")))


def _imported_years():
    return list(CalendarImport.objects.values_list("start_year", flat=True))


def _holidays():
    # School holidays first, then public holidays take precedence on the same day.
    return list(Holiday.objects.order_by("-kind", "start_date", "pk"))


def _school_years():
    return list(SchoolYear.objects.order_by("start_date"))


def _closures():
    return list(Closure.objects.order_by("pk"))


def ensure_calendar_around(today: datetime.date) -> int:
    """The previous, current and next school years around `today`."""
    start_year = school_year_start(today)
    return ensure_calendar(
        datetime.date(start_year - 1, 9, 1), datetime.date(start_year + 2, 7, 31)
    )


def days_between(start: datetime.date, end: datetime.date):
    """Every date from `start` to `end`, both included."""
    return (start + datetime.timedelta(days=n) for n in range((end - start).days + 1))


@dataclass(frozen=True)
class DayClosure:
    """Why a créneau does not run on a day, in French ("Vacances de la Toussaint")."""

    reason: str
    kind: str  # "holiday", "public_holiday", "closure", "out_of_term"


class ServiceCalendar:
    """The holidays, closures and school years of a period, answering "does this créneau run at
    this school on this day, and if not, why?".

    Holidays and school years come from the cache (`reference`). Closures are read from the
    database (one query), as a booking must see one the instant it is decided; pages that only
    show the calendar pass `cached_closures=True` and read none."""

    def __init__(
        self, start: datetime.date, end: datetime.date, *, load=True, cached_closures=False
    ):
        if load:
            ensure_calendar(start, end)
        self.start, self.end = start, end
        self._holidays: dict[datetime.date, Holiday] = {}
        for holiday in reference("holidays", _holidays):
            if holiday.start_date <= end and holiday.end_date >= start:
                for day in days_between(max(holiday.start_date, start), min(holiday.end_date, end)):
                    self._holidays[day] = holiday
        if cached_closures:
            closures = reference("closures", _closures)
        else:
            closures = Closure.objects.filter(start_date__lte=end, end_date__gte=start)
            closures = list(closures.order_by("pk"))
        self.closures = [c for c in closures if c.start_date <= end and c.end_date >= start]
        self.school_years = [
            year
            for year in reference("school-years", _school_years)
            if year.start_date <= end and year.end_date >= start
        ]

    def holiday(self, day: datetime.date) -> Holiday | None:
        return self._holidays.get(day)

    def school_year(self, day: datetime.date) -> SchoolYear | None:
        for year in self.school_years:
            if year.start_date <= day <= year.end_date:
                return year
        return None

    def day_closure(self, day: datetime.date) -> DayClosure | None:
        """Why nothing runs on `day` at all (holiday, out of term, town-wide closure), or None."""
        holiday = self.holiday(day)
        if holiday is not None:
            kind = "public_holiday" if holiday.kind == Holiday.Kind.PUBLIC else "holiday"
            return DayClosure(holiday.name, kind)
        if self.school_year(day) is None:
            return DayClosure("Hors période scolaire", "out_of_term")
        for closure in self.closures:
            if (
                closure.school_id is None
                and closure.activity_id is None
                and closure.start_date <= day <= closure.end_date
            ):
                return DayClosure(closure.reason, "closure")
        return None

    def slot_closure(self, day: datetime.date, slot: Slot, school_id) -> DayClosure | None:
        """Why `slot` does not run at that school on `day` although it is one of its weekdays."""
        closed = self.day_closure(day)
        if closed:
            return closed
        for closure in self.closures:
            if closure.covers(day, slot, school_id):
                return DayClosure(closure.reason, "closure")
        return None

    def runs(self, day: datetime.date, slot: Slot, school_id) -> bool:
        """True if `slot` runs at that school on `day` (a service day of the créneau)."""
        return slot.runs_on_weekday(day) and self.slot_closure(day, slot, school_id) is None


def iso_week_parity_matches(day: datetime.date, parity: str) -> bool:
    """ "even" / "odd" by ISO week number; anything else matches every week."""
    week = day.isocalendar().week
    if parity == "even":
        return week % 2 == 0
    if parity == "odd":
        return week % 2 == 1
    return True
