import datetime

import pytest

from enrolment.models import Enrolment, Service
from families.demo import ensure_school_years
from families.models import SchoolYear
from reservations.reference import ensure_reference_data
from tests.conftest import TODAY
from tests.factories import ChildFactory, GuardianFactory, SchoolFactory

# TODAY (Thursday 2026-11-26): the first modifiable day is Wednesday 2026-12-02.
FIRST_MODIFIABLE = datetime.date(2026, 12, 2)
MONDAY = datetime.date(2026, 12, 7)  # a school-term Monday, modifiable on TODAY
TUESDAY_PAST_DEADLINE = datetime.date(2026, 12, 1)  # Non réservable on TODAY


@pytest.fixture
def slots(db):
    """The activities and créneaux of the tutorial, by code: matin, soir-1, soir-2, mercredi."""
    return ensure_reference_data()


@pytest.fixture
def school_years(db):
    return ensure_school_years(TODAY)


@pytest.fixture
def school(db):
    return SchoolFactory(name="École du Prainet")


def enrol(child, *, year=None, services=("periscolaire", "alai")):
    """Make `child` effectively enrolled in `services` for `year` (the current one by default)."""
    year = year or SchoolYear.objects.current(TODAY)
    for slug in services:
        Enrolment.objects.get_or_create(
            child=child,
            service=Service.objects.get(slug=slug),
            school_year=year,
            defaults={"effective_on": year.start_date},
        )
    return child


def make_family(name, school, *, children=("Léa",), enrolled=True):
    guardian = GuardianFactory(family__name=name)
    for first_name in children:
        child = ChildFactory(family=guardian.family, first_name=first_name, school=school)
        if enrolled:
            enrol(child)
    return guardian.family


@pytest.fixture
def family(slots, school_years, school):
    """A family with Léa, enrolled in both services this school year."""
    return make_family("LAGRANGE", school)


@pytest.fixture
def child(family):
    return family.children.get()


@pytest.fixture
def parent(family):
    return family.guardians.first().user
