"""The agenda month page: states of the days, child selector, the Paris date."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse

from families.models import SchoolYear
from reservations.models import Booking
from tests.reservations.conftest import MONDAY, enrol, make_family

D = datetime.date


def _cell(html: str, day: datetime.date) -> str:
    """The HTML of a day's cell on the month page."""
    match = re.search(rf'<div id="jour-{day.isoformat()}".*?</div>\s*</td>', html, re.S)
    assert match, f"no cell for {day}"
    return match.group(0)


def _month(client, child, year, month):
    return client.get(reverse("reservations:month", args=[child.pk, year, month]))


def test_agenda_opens_the_first_child_on_the_current_month(client, parent, child, today):
    """/agenda/ shows the first child's month of today, with the first modifiable date."""
    client.force_login(parent)
    response = client.get(reverse("reservations:agenda"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Agenda de Léa" in html
    assert "Prochaine date modifiable : mercredi 02/12/2026" in html
    assert "novembre 2026" in html
    assert "Aujourd&#x27;hui" in _cell(html, today) or "Aujourd'hui" in _cell(html, today)


def test_day_states_by_text_and_colour(client, parent, child, today):
    """Each day says Réservable, Non réservable (and why), Week-end or Fermé (with the name)."""
    client.force_login(parent)
    html = _month(client, child, 2026, 12).content.decode()

    tuesday = _cell(html, D(2026, 12, 1))
    assert "state-not-bookable" in tuesday and "Non réservable" in tuesday
    assert "Délai de 3 jours ouvrés dépassé" in tuesday
    wednesday = _cell(html, D(2026, 12, 2))
    assert "state-bookable" in wednesday and "Réservable" in wednesday
    saturday = _cell(html, D(2026, 12, 5))
    assert "state-weekend" in saturday and "Week-end" in saturday
    holidays = _cell(html, D(2026, 12, 21))
    assert "state-closed" in holidays and "Fermé" in holidays and "Vacances de Noël" in holidays
    christmas = _cell(html, D(2026, 12, 25))
    assert "Fermé" in christmas and "Noël" in christmas


def test_past_days_and_public_holidays(client, parent, child, today):
    """A past day is Non réservable (jour passé); 11 November is Fermé — Armistice."""
    client.force_login(parent)
    html = _month(client, child, 2026, 11).content.decode()
    assert "Jour passé" in _cell(html, D(2026, 11, 23))
    armistice = _cell(html, D(2026, 11, 11))
    assert "Fermé" in armistice and "Armistice" in armistice


def test_not_enrolled_child_is_told_why(client, slots, school_years, school, today):
    """A child without any enrolment or request sees « Inscription requise », never
    « Réservable », and the page says where to ask for it."""
    family = make_family("NOUVEAU", school, children=["Zoé"], enrolled=False)
    client.force_login(family.guardians.first().user)
    html = _month(client, family.children.get(), 2026, 12).content.decode()
    cell = _cell(html, D(2026, 12, 7))
    assert "Inscription requise" in cell and "Réservable" not in cell
    assert "agenda-day state-bookable" not in html
    assert "Faire une demande d'inscription" in html


def test_today_says_aujourdhui_once(client, parent, child, today):
    """Today's cell reads « Aujourd'hui » and « Plus modifiable », not « Non réservable » nor
    « Jour passé »."""
    client.force_login(parent)
    cell = _cell(_month(client, child, 2026, 11).content.decode(), today)
    text = re.sub(r"<[^>]+>", " ", cell).replace("&#x27;", "'")
    assert " ".join(text.split()) == "Jeudi 26 novembre 2026 Aujourd'hui Plus modifiable"


def test_past_day_says_jour_passe_once(client, parent, child, today):
    """A past school day says « Jour passé » alone."""
    client.force_login(parent)
    cell = _cell(_month(client, child, 2026, 11).content.decode(), D(2026, 11, 23))
    assert "Jour passé" in cell and "Non réservable" not in cell


def test_bookings_show_on_their_day(client, parent, child, slots, today):
    """A day shows its bookings, each a link to its detail."""
    booking = Booking.objects.create(
        child=child, slot=slots["matin"], date=D(2026, 12, 7), school=child.school
    )
    client.force_login(parent)
    cell = _cell(_month(client, child, 2026, 12).content.decode(), D(2026, 12, 7))
    assert "Matin" in cell
    assert reverse("reservations:booking_detail", args=[booking.pk]) in cell


def test_child_selector_lists_only_the_family_children(client, slots, school_years, school, today):
    """With several children, the selector links each one's month; another family's child is 404."""
    family = make_family("LAGRANGE", school, children=["Léa", "Lalo"])
    other = make_family("BERNARD", school, children=["Nina"])
    lea, lalo = family.children.order_by("first_name")
    client.force_login(family.guardians.first().user)

    html = _month(client, lalo, 2026, 12).content.decode()

    assert reverse("reservations:month", args=[lea.pk, 2026, 12]) in html
    assert "Nina" not in html
    assert _month(client, other.children.get(), 2026, 12).status_code == 404


@pytest.mark.parametrize("path", ["2026/13/", "1999/12/"])
def test_invalid_month_is_404(client, parent, child, path):
    """A month that does not exist is a 404, never a 500."""
    client.force_login(parent)
    assert client.get(f"/agenda/{child.pk}/{path}").status_code == 404


@pytest.mark.parametrize("day", ["2026-02-30", "0001-01-01", "9999-12-31"])
def test_invalid_day_is_404(client, parent, child, day):
    """30 February, or a year out of the portal's range, is a 404."""
    client.force_login(parent)
    assert client.get(f"/agenda/{child.pk}/{day}/").status_code == 404


def test_previous_and_next_month_links(client, parent, child, today):
    """The month page links the previous and next months, across the year boundary."""
    client.force_login(parent)
    html = _month(client, child, 2026, 12).content.decode()
    assert reverse("reservations:month", args=[child.pk, 2026, 11]) in html
    assert reverse("reservations:month", args=[child.pk, 2027, 1]) in html


def test_a_family_without_children_is_sent_to_its_household(client, school_years, slots):
    """No child yet: /agenda/ sends the parent to add one."""
    from tests.factories import GuardianFactory

    guardian = GuardianFactory()
    client.force_login(guardian.user)
    response = client.get(reverse("reservations:agenda"))
    assert response.status_code == 302 and response.url == reverse("families:family_detail")


@pytest.mark.parametrize(
    ("utc", "paris_today", "first_modifiable"),
    [
        # Spring forward: 22:30 UTC is 00:30 on Monday in Paris (UTC+2).
        (
            datetime.datetime(2026, 3, 29, 22, 30, tzinfo=datetime.UTC),
            D(2026, 3, 30),
            "vendredi 03/04/2026",
        ),
        # Fall back: 22:30 UTC is 23:30 on Sunday in Paris (UTC+1); the eve, 00:30 on Sunday.
        (
            datetime.datetime(2026, 10, 25, 22, 30, tzinfo=datetime.UTC),
            D(2026, 10, 25),
            "jeudi 29/10/2026",
        ),
        (
            datetime.datetime(2026, 10, 24, 22, 30, tzinfo=datetime.UTC),
            D(2026, 10, 25),
            "jeudi 29/10/2026",
        ),
    ],
    ids=["spring-forward", "fall-back", "fall-back-eve"],
)
def test_views_use_the_paris_date(client, parent, child, slots, utc, paris_today, first_modifiable):
    """At 22:30 UTC on the daylight-saving Sundays, "today" is the Paris date, not the UTC one."""
    client.force_login(parent)
    with time_machine.travel(utc, tick=False):
        response = client.get(reverse("reservations:agenda"))
    assert response.context["view"].today == paris_today
    assert f"Prochaine date modifiable : {first_modifiable}" in response.content.decode()


def test_writes_use_the_paris_date(client, parent, child, slots, school_years):
    """At 00:30 in Paris on Monday 30 March 2026 (still Sunday in UTC), Thursday 2 April is past
    the deadline: a booking for it is refused although the UTC date would allow it."""
    enrol(child, year=SchoolYear.objects.get(label="2025-2026"))
    client.force_login(parent)
    url = reverse("reservations:day", args=[child.pk, D(2026, 4, 2)])
    slot = str(slots["matin"].pk)
    with time_machine.travel(
        datetime.datetime(2026, 3, 29, 22, 30, tzinfo=datetime.UTC), tick=False
    ):
        client.post(url, {"affiches": [slot], "modifiables": [slot], "creneau": [slot]})
    assert not Booking.objects.exists()
    with time_machine.travel(
        datetime.datetime(2026, 3, 29, 21, 30, tzinfo=datetime.UTC), tick=False
    ):
        client.post(
            url, {"affiches": [slot], "modifiables": [slot], "creneau": [slot]}
        )  # 23:30 Sunday
    assert Booking.objects.active().count() == 1


def test_the_month_grid_links_each_day_and_booking_to_its_own_page(client, parent, child, slots):
    """Every link of the grid leads to its own day panel or booking (the links are made from
    one reversed pattern per month, never copied from one day to another)."""
    booking = Booking.objects.create(
        child=child, slot=slots["matin"], date=MONDAY, school=child.school
    )
    client.force_login(parent)
    html = client.get(reverse("reservations:month", args=[child.pk, 2026, 12])).content.decode()

    for day in (MONDAY, MONDAY + datetime.timedelta(days=1), datetime.date(2026, 12, 31)):
        url = reverse("reservations:day", args=[child.pk, day])
        assert f'href="{url}"' in html
        assert client.get(url).status_code == 200
    assert f'href="{booking.get_absolute_url()}"' in html
