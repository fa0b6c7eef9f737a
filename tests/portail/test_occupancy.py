"""Occupancy at a glance (/admin/occupation/): places booked against places offered, per
créneau, school and week, as an SVG chart, the table behind it and a CSV download."""

import csv
import datetime
import io
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from families.demo import ensure_school_years
from portail.occupancy import coming_weeks, occupancy
from reservations.models import Booking, CapacityOverride, Closure, SlotCapacity
from reservations.reference import ensure_reference_data
from tests.conftest import TODAY
from tests.factories import ChildFactory, SchoolFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("admin:occupancy")
CSV = reverse("admin:occupancy_csv")


def staff(group=None):
    user = UserFactory(is_staff=True)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def places(today):
    """At the Prainet: 4 morning places a day, 2 on Tuesday 1 December, closed Friday 4
    December; 4 children booked on Thursday 26 November (full), 1 on Friday 27, 2 on Tuesday 1
    December (full), one cancelled booking. The Bruyères keep the default 40 places."""
    ensure_school_years(TODAY)
    slots = ensure_reference_data()
    prainet = SchoolFactory(name="École du Prainet")
    bruyeres = SchoolFactory(name="École des Bruyères")
    matin = slots["matin"]
    SlotCapacity.objects.create(slot=matin, school=prainet, places=4)
    CapacityOverride.objects.create(
        slot=matin, school=prainet, date=datetime.date(2026, 12, 1), places=2
    )
    Closure.objects.create(
        start_date=datetime.date(2026, 12, 4),
        end_date=datetime.date(2026, 12, 4),
        school=prainet,
        reason="Sortie scolaire",
    )
    bookings = [(TODAY, 4), (datetime.date(2026, 11, 27), 1), (datetime.date(2026, 12, 1), 2)]
    for day, count in bookings:
        for _ in range(count):
            child = ChildFactory(school=prainet)
            Booking.objects.create(child=child, slot=matin, date=day, school=prainet)
    Booking.objects.create(
        child=ChildFactory(school=prainet),
        slot=matin,
        date=datetime.date(2026, 11, 27),
        school=prainet,
        status=Booking.Status.CANCELLED,
    )
    Booking.objects.create(
        child=ChildFactory(school=bruyeres), slot=matin, date=TODAY, school=bruyeres
    )
    return {"slots": slots, "prainet": prainet, "bruyeres": bruyeres}


def cells(data, slot, school):
    return next(r for r in data.rows if r.slot == slot and r.school == school).cells


def test_weeks_start_today_or_next_monday_at_the_weekend():
    """The current week counts from today; on a Saturday the next week comes first."""
    weeks = coming_weeks(TODAY)
    assert [(w.monday, w.start, w.end) for w in weeks] == [
        (datetime.date(2026, 11, 23), TODAY, datetime.date(2026, 11, 29)),
        (datetime.date(2026, 11, 30), datetime.date(2026, 11, 30), datetime.date(2026, 12, 6)),
        (datetime.date(2026, 12, 7), datetime.date(2026, 12, 7), datetime.date(2026, 12, 13)),
        (datetime.date(2026, 12, 14), datetime.date(2026, 12, 14), datetime.date(2026, 12, 20)),
    ]
    saturday = coming_weeks(datetime.date(2026, 11, 28))
    assert saturday[0].monday == saturday[0].start == datetime.date(2026, 11, 30)


def test_places_and_bookings_per_week(places):
    """Per week: the service days, their places (school capacity, the day's override, none on a
    closed day), the active bookings, the rate and the full days."""
    data = occupancy(TODAY)
    prainet = cells(data, places["slots"]["matin"], places["prainet"])

    figures = [(c.days, c.places, c.booked, c.rate, c.full_days) for c in prainet]
    assert figures == [
        (2, 8, 5, 63, 1),  # Thu 26 (4/4) and Fri 27 (1/4)
        (3, 10, 2, 20, 1),  # Mon 30, Tue 1 (2/2), Thu 3; Fri 4 closed
        (4, 16, 0, 0, 0),
        (4, 16, 0, 0, 0),
    ]
    assert [c.level for c in prainet] == ["full", "full", "low", "low"]
    bruyeres = cells(data, places["slots"]["matin"], places["bruyeres"])
    assert (bruyeres[0].places, bruyeres[0].booked, bruyeres[0].rate) == (80, 1, 1)
    # No Wednesday left in the current week: nothing offered, nothing drawn.
    wednesday = cells(data, places["slots"]["mercredi"], places["prainet"])
    assert (wednesday[0].days, wednesday[0].rate, wednesday[0].summary) == (
        0,
        None,
        "pas d'accueil",
    )


def test_page_draws_the_chart_and_the_table(client, places):
    """The animateur opens the page: one SVG chart per créneau (no inline style, nothing
    external), a bar per school and week, and the table with its caption."""
    client.force_login(staff("Animateur"))

    response = client.get(PAGE)

    assert response.status_code == 200
    page = response.content.decode()
    main = page[page.index('id="content-main"') :]
    assert main.count('<figure class="occupancy-chart">') == 4
    assert 'style="' not in main and "<script" not in main
    assert 'role="img"' in main
    # Matin, Prainet, first week: 5 booked of 8, one full day.
    assert "63 % · 1 j. complet" in main
    assert "5 réservées sur 8 places" in main
    assert re.search(r"<caption>Places offertes et réservées", main)
    assert "<details" in main and '<th scope="col">Places réservées</th>' in main
    assert CSV in main


def test_csv_holds_the_table(client, places):
    """The CSV has one line per créneau, school and week, with the same figures."""
    client.force_login(staff("Régisseur"))

    response = client.get(CSV)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="occupation-2026-11-26.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Créneau", "École", "Semaine du"]
    assert [
        "Matin 07h20-08h20",
        "École du Prainet",
        "23/11/2026",
        "26/11/2026",
        "29/11/2026",
        "2",
        "8",
        "5",
        "63",
        "1",
    ] in rows
    assert len(rows) == 1 + 4 * 2 * 4  # header + 4 créneaux × 2 schools × 4 weeks


def test_csv_cells_cannot_run_as_formulas(client, places):
    """A school name starting like a formula is quoted for spreadsheets."""
    places["bruyeres"].name = '=HYPERLINK("http://example.org")'
    places["bruyeres"].save()
    client.force_login(staff("Assistant administratif"))

    content = client.get(CSV).content.decode("utf-8-sig")

    assert "'=HYPERLINK" in content
    assert ";=HYPERLINK" not in content


def test_staff_without_bookings_view_cannot_open_it(client, places):
    """Occupancy follows the bookings' view permission."""
    client.force_login(staff())
    assert client.get(PAGE).status_code == 403
    assert client.get(CSV).status_code == 403


def test_page_queries_do_not_grow_with_bookings(client, places, django_assert_max_num_queries):
    """The page reads places and bookings in a fixed number of queries."""
    client.force_login(staff("Assistant administratif"))
    client.get(PAGE)  # loads the school holidays once
    prainet = places["prainet"]
    for day in (datetime.date(2026, 12, 7), datetime.date(2026, 12, 8)):
        for slot in ("soir-1", "soir-2"):
            for _ in range(10):
                child = ChildFactory(school=prainet)
                Booking.objects.create(
                    child=child, slot=places["slots"][slot], date=day, school=prainet
                )

    with django_assert_max_num_queries(17):
        assert client.get(PAGE).status_code == 200
