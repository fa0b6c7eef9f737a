"""common.bulk.insert_rows: one statement for any number of rows, values as Django stores them."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.bulk import insert_rows
from families.models import SchoolYear


@pytest.mark.django_db
def test_inserts_many_rows_in_one_query():
    """2,000 rows, one INSERT; dates come back as dates."""
    rows = [
        SchoolYear(
            label=f"{n:04d}-X",
            start_date=datetime.date(2000, 1, 1) + datetime.timedelta(days=n),
            end_date=datetime.date(2001, 1, 1) + datetime.timedelta(days=n),
        )
        for n in range(2000)
    ]
    with CaptureQueriesContext(connection) as queries:
        insert_rows(SchoolYear, rows)
    assert len(queries) == 1
    year = SchoolYear.objects.get(label="0010-X")
    assert year.start_date == datetime.date(2000, 1, 11)


@pytest.mark.django_db
def test_conflicts_are_skipped_or_raised():
    """A duplicate of a unique value is skipped with ignore_conflicts, else refused."""
    SchoolYear.objects.create(
        label="2030-2031", start_date=datetime.date(2030, 9, 2), end_date=datetime.date(2031, 7, 4)
    )
    duplicate = SchoolYear(
        label="2030-2031", start_date=datetime.date(2030, 9, 2), end_date=datetime.date(2031, 7, 4)
    )
    other = SchoolYear(
        label="2031-2032", start_date=datetime.date(2031, 9, 1), end_date=datetime.date(2032, 7, 2)
    )
    insert_rows(SchoolYear, [duplicate, other], ignore_conflicts=True)
    assert SchoolYear.objects.filter(label__in=["2030-2031", "2031-2032"]).count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(SchoolYear, [duplicate])


@pytest.mark.django_db
def test_datetimes_booleans_and_nulls_round_trip():
    """Aware datetimes, booleans and NULLs are stored as the ORM would store them."""
    from reservations.models import Booking
    from reservations.reference import ensure_reference_data
    from tests.factories import ChildFactory

    slot = ensure_reference_data()["matin"]
    child = ChildFactory()
    when = timezone.now().replace(microsecond=123456)
    insert_rows(
        Booking,
        [
            Booking(
                child=child,
                family=child.family,
                slot=slot,
                date=datetime.date(2026, 12, 7),
                school=child.school,
                created_at=when,
                over_capacity=True,
            )
        ],
    )
    booking = Booking.objects.get()
    assert (
        booking.created_at == when
        and booking.over_capacity is True
        and booking.past_deadline is False
    )
    assert booking.created_by is None and booking.cancelled_at is None
