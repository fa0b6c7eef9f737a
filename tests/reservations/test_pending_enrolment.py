"""A child whose enrolment request is not accepted yet: the agenda says « Inscription en
attente » instead of « Réservable », the day panel offers nothing, the server refuses."""

import re

import pytest
from django.urls import reverse

from enrolment.models import EnrolmentRequest, Teleservice
from families.models import SchoolYear
from reservations.models import Booking
from tests.conftest import TODAY
from tests.enrolment.helpers import make_teleservice
from tests.reservations.conftest import MONDAY, enrol, make_family

WEDNESDAY = MONDAY.replace(day=9)


def _request(child, kind, state):
    year = SchoolYear.objects.current(TODAY)
    teleservice = Teleservice.objects.filter(kind=kind, school_year=year).first()
    teleservice = teleservice or make_teleservice(kind, school_year=year)
    return EnrolmentRequest.objects.create(
        family=child.family,
        child=child,
        teleservice=teleservice,
        kind=kind,
        school_year=year,
        state=state,
    )


@pytest.fixture
def pending_child(slots, school_years, school):
    """Zoé, whose périscolaire request is en traitement and Alaï request still a draft."""
    family = make_family("ATTENTE", school, children=["Zoé"], enrolled=False)
    child = family.children.get()
    _request(child, Teleservice.Kind.PERISCOLAIRE, EnrolmentRequest.State.SUBMITTED)
    _request(child, Teleservice.Kind.ALAI, EnrolmentRequest.State.DRAFT)
    return child


def _cell(html, day):
    match = re.search(rf'<div id="jour-{day.isoformat()}".*?</div>\s*</td>', html, re.S)
    assert match, f"no cell for {day}"
    return match.group(0)


def _login(client, child):
    client.force_login(child.family.guardians.first().user)


def test_month_says_inscription_en_attente(client, pending_child, today):
    """Bookable-looking days say « Inscription en attente » (périscolaire, Monday) or
    « Inscription à valider » (Alaï draft, Wednesday); no day is « Réservable »."""
    _login(client, pending_child)
    html = client.get(
        reverse("reservations:month", args=[pending_child.pk, 2026, 12])
    ).content.decode()
    assert "Inscription en attente" in _cell(html, MONDAY)
    assert "Inscription à valider" in _cell(html, WEDNESDAY)
    assert "agenda-day state-bookable" not in html
    assert "attend l'accord du pôle administratif" in html
    assert "Voir mes demandes" in html


def test_day_panel_refuses_with_the_reason(client, pending_child, today):
    """The panel disables every créneau and says once why: the request is not accepted yet."""
    _login(client, pending_child)
    html = client.get(reverse("reservations:day", args=[pending_child.pk, MONDAY])).content.decode()
    assert html.count('disabled aria-describedby="raison-jour"') == 3
    assert html.count("Inscription en attente") == 1
    assert "n&#x27;est pas encore acceptée par le pôle administratif" in html
    assert ">Enregistrer<" not in html


def test_forged_post_is_refused_in_french_and_saves_nothing(client, slots, pending_child, today):
    """A hand-made POST booking the morning is refused with the reason; nothing is saved."""
    _login(client, pending_child)
    pk = str(slots["matin"].pk)
    response = client.post(
        reverse("reservations:day", args=[pending_child.pk, MONDAY]),
        {"affiches": [pk], "modifiables": [pk], "creneau": [pk]},
        follow=True,
    )
    html = response.content.decode()
    assert not Booking.objects.filter(child=pending_child).exists()
    assert "Matin 07h20-08h20 : non modifié. Inscription en attente" in html
    assert "Réservé le" not in html


def test_accepted_service_is_bookable_and_the_other_still_waits(
    client, slots, pending_child, today
):
    """Once the périscolaire is accepted, Monday is « Réservable »; Wednesday still waits."""
    enrol(pending_child, services=("periscolaire",))
    _login(client, pending_child)
    html = client.get(
        reverse("reservations:month", args=[pending_child.pk, 2026, 12])
    ).content.decode()
    assert "Réservable" in _cell(html, MONDAY)
    assert "Inscription à valider" in _cell(html, WEDNESDAY)
