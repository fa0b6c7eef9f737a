"""The school calendar against the official zone A dates, its loading, and service days."""

import datetime

import pytest
from django.core.management import call_command

from reservations.calendar import (
    ServiceCalendar,
    ensure_calendar,
    ensure_calendar_around,
    load_school_year,
)
from reservations.models import CalendarImport, Closure, Holiday
from tests.conftest import TODAY

D = datetime.date
pytestmark = pytest.mark.django_db

# The official zone A calendar (holidays run from the Saturday after class to the eve of the
# return day): (name, last day of class + 1, return day).
OFFICIAL = {
    2025: [
        ("Vacances de la Toussaint", D(2025, 10, 18), D(2025, 11, 3)),
        ("Vacances de Noël", D(2025, 12, 20), D(2026, 1, 5)),
        ("Vacances d'hiver", D(2026, 2, 7), D(2026, 2, 23)),
        ("Vacances de printemps", D(2026, 4, 4), D(2026, 4, 20)),
    ],
    2026: [
        ("Vacances de la Toussaint", D(2026, 10, 17), D(2026, 11, 2)),
        ("Vacances de Noël", D(2026, 12, 19), D(2027, 1, 4)),
        ("Vacances d'hiver", D(2027, 2, 13), D(2027, 3, 1)),
        ("Vacances de printemps", D(2027, 4, 10), D(2027, 4, 26)),
    ],
}


@pytest.fixture
def calendar_2025_2027(school_years):
    load_school_year(2024)
    load_school_year(2025)
    load_school_year(2026)


def _holiday_on(day):
    return Holiday.objects.filter(start_date__lte=day, end_date__gte=day).first()


@pytest.mark.parametrize(
    ("name", "first", "back"),
    [row for year in OFFICIAL.values() for row in year],
    ids=lambda v: str(v),
)
def test_school_holidays_match_the_official_calendar(calendar_2025_2027, name, first, back):
    """Each holiday runs from its Saturday to the day before the return, which is a school day."""
    holiday = Holiday.objects.get(kind=Holiday.Kind.SCHOOL, name=name, start_date=first)
    assert holiday.end_date == back - datetime.timedelta(days=1)
    assert first.weekday() == 5
    assert _holiday_on(first - datetime.timedelta(days=1)) is None  # Friday: last day of class
    assert _holiday_on(back) is None or _holiday_on(back).kind == Holiday.Kind.PUBLIC


def test_rentree_and_summer(calendar_2025_2027):
    """Rentrée Mon 1 Sep 2025 and Tue 1 Sep 2026; summer from Sat 4 Jul 2026 and Sat 3 Jul 2027."""
    assert _holiday_on(D(2025, 9, 1)) is None
    assert _holiday_on(D(2025, 8, 31)).name == "Vacances d'été"
    summer_2026 = Holiday.objects.get(kind=Holiday.Kind.SCHOOL, start_date=D(2026, 7, 4))
    assert summer_2026.name == "Vacances d'été" and summer_2026.end_date == D(2026, 8, 31)
    assert _holiday_on(D(2026, 9, 1)) is None  # Tuesday 1 September 2026
    assert _holiday_on(D(2026, 8, 31)) is not None  # Monday 31 August is still summer
    assert Holiday.objects.get(
        kind=Holiday.Kind.SCHOOL, name="Vacances d'été", start_date__year=2027
    ).start_date == D(2027, 7, 3)


@pytest.mark.parametrize("bridge", [D(2026, 5, 15), D(2027, 5, 7)])
def test_ascension_bridge_is_not_a_school_day(calendar_2025_2027, bridge):
    """No school on the Friday after Ascension (15 May 2026, 7 May 2027)."""
    assert _holiday_on(bridge).kind == Holiday.Kind.SCHOOL
    assert "Ascension" in _holiday_on(bridge).name


def test_public_holidays_are_stored_with_french_names(calendar_2025_2027):
    """Public holidays of the school year are stored as one-day rows (Armistice, Ascension…)."""
    names = dict(
        Holiday.objects.filter(kind=Holiday.Kind.PUBLIC, start_date__year=2026).values_list(
            "start_date", "name"
        )
    )
    assert names[D(2026, 11, 11)] == "Armistice"
    assert names[D(2026, 5, 14)] == "Ascension"
    assert names[D(2026, 5, 25)] == "Lundi de Pentecôte"
    assert names[D(2026, 5, 1)] == "Fête du Travail"


def test_loading_is_idempotent_and_keeps_staff_corrections(school_years):
    """Loading a school year twice adds nothing, and a corrected period is not overwritten."""
    created = load_school_year(2026)
    assert created > 10
    toussaint = Holiday.objects.get(name="Vacances de la Toussaint", start_date=D(2026, 10, 17))
    toussaint.end_date = D(2026, 11, 2)  # the town adds a day
    toussaint.save()

    assert load_school_year(2026) == 0
    assert ensure_calendar(D(2026, 9, 1), D(2027, 6, 30)) == 0
    toussaint.refresh_from_db()
    assert toussaint.end_date == D(2026, 11, 2)
    assert CalendarImport.objects.filter(start_year=2026).count() == 1


def test_load_calendar_command(school_years):
    """`load_calendar --today` loads the previous, current and next school years, once."""
    call_command("load_calendar", "--today", TODAY.isoformat())
    assert set(CalendarImport.objects.values_list("start_year", flat=True)) == {2025, 2026, 2027}
    count = Holiday.objects.count()
    call_command("load_calendar", "--today", TODAY.isoformat())
    assert Holiday.objects.count() == count


def test_load_calendar_task_is_scheduled():
    """The monthly job is in the one beat schedule."""
    from portail.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "reservations.tasks.load_calendar" in tasks


def test_service_days_and_working_days_stay_apart(slots, school_years, school):
    """The bridge Friday counts as a working day for the deadline but no créneau runs on it."""
    from reservations.deadlines import is_working_day

    ensure_calendar_around(D(2026, 5, 11))
    calendar = ServiceCalendar(D(2026, 5, 11), D(2026, 5, 22))
    morning, wednesday = slots["matin"], slots["mercredi"]
    assert is_working_day(D(2026, 5, 15))
    assert not calendar.runs(D(2026, 5, 15), morning, school.pk)  # Ascension bridge
    assert calendar.runs(D(2026, 5, 18), morning, school.pk)
    assert not calendar.runs(D(2026, 5, 13), morning, school.pk)  # Wednesday: no morning care
    assert calendar.runs(D(2026, 5, 13), wednesday, school.pk)  # Alaï runs on term Wednesdays


def test_closures_by_scope(slots, school_years, school):
    """A closure can be town-wide, for one school, for one activity, or both."""
    from tests.factories import SchoolFactory

    other = SchoolFactory(name="École Leclerc")
    day = D(2026, 12, 7)
    Closure.objects.create(start_date=day, end_date=day, school=school, reason="Grève")
    Closure.objects.create(
        start_date=day + datetime.timedelta(days=1),
        end_date=day + datetime.timedelta(days=1),
        activity=slots["matin"].activity,
        reason="Formation des animateurs",
    )
    Closure.objects.create(
        start_date=D(2026, 12, 10), end_date=D(2026, 12, 11), reason="Inondation"
    )
    calendar = ServiceCalendar(D(2026, 12, 7), D(2026, 12, 11))

    assert not calendar.runs(day, slots["matin"], school.pk)
    assert calendar.runs(day, slots["matin"], other.pk)
    assert calendar.slot_closure(day, slots["soir-1"], school.pk).reason == "Grève"
    assert not calendar.runs(D(2026, 12, 8), slots["matin"], other.pk)
    assert calendar.runs(D(2026, 12, 8), slots["soir-1"], other.pk)
    assert calendar.day_closure(D(2026, 12, 11)).reason == "Inondation"
    assert calendar.day_closure(D(2026, 12, 9)) is None


def test_out_of_term_days_do_not_run(slots, school):
    """Outside every school year (no SchoolYear row covers the day), nothing runs."""
    calendar = ServiceCalendar(D(2026, 12, 7), D(2026, 12, 11))
    assert calendar.day_closure(D(2026, 12, 7)).kind == "out_of_term"
    assert not calendar.runs(D(2026, 12, 7), slots["matin"], school.pk)
