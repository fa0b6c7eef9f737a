import datetime

import pytest

from families.demo import ensure_school_years
from families.models import SchoolYear

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("today", "label"),
    [
        (datetime.date(2026, 11, 26), "2026-2027"),
        (datetime.date(2026, 9, 1), "2026-2027"),
        (datetime.date(2026, 7, 3), "2025-2026"),
        (datetime.date(2026, 7, 20), "2026-2027"),  # summer: the coming year
        (datetime.date(2026, 3, 2), "2025-2026"),
    ],
)
def test_current_school_year_follows_today(today, label):
    """The current year is the one containing today; in summer, the one about to start."""
    ensure_school_years(datetime.date(2026, 11, 26))
    assert SchoolYear.objects.current(today).label == label


def test_known_zone_a_dates():
    """The shipped years carry the official rentrée and last day of class."""
    ensure_school_years(datetime.date(2026, 11, 26))
    year = SchoolYear.objects.get(label="2026-2027")
    assert (year.start_date, year.end_date) == (
        datetime.date(2026, 9, 1),
        datetime.date(2027, 7, 2),
    )
    assert SchoolYear.objects.get(label="2025-2026").start_date == datetime.date(2025, 9, 1)
