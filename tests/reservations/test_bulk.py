"""Saisie groupée: the form, the preview with its skip reasons, the confirmation under lock, and
a whole school year in a constant number of queries."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reservations import bulk
from reservations.models import Booking, CapacityOverride
from tests.reservations.conftest import make_family

D = datetime.date
URL = "/agenda/saisie-groupee/"
FIRST_MONDAY, SECOND_FRIDAY = D(2026, 12, 7), D(2026, 12, 18)


@pytest.fixture
def lagrange(slots, school_years, school):
    return make_family("LAGRANGE", school, children=["Léa", "Lalo"])


def _payload(
    children,
    slots,
    *,
    action="create",
    start=FIRST_MONDAY,
    end=SECOND_FRIDAY,
    parity="",
    weekdays=("1",),
    step="apercu",
    token=None,
):
    data = {
        "enfants": [c.pk for c in children],
        "action": action,
        "du": start.isoformat(),
        "au": end.isoformat(),
        "creneaux": [s.pk for s in slots],
        "periodicite": parity,
        "jours": list(weekdays),
        "etape": step,
    }
    if token is not None:
        data["apercu"] = token
    return data


def test_form_shows_the_tutorial_fields(client, lagrange, today):
    """Usagers, Action, Période du/au, Activités (evening créneaux apart), Périodicité, Jours."""
    client.force_login(lagrange.guardians.first().user)
    html = client.get(reverse("reservations:bulk_entry")).content.decode()
    for text in (
        "Usagers",
        "LAGRANGE Léa",
        "LAGRANGE Lalo",
        "Créer",
        "Supprimer",
        "Période du",
        "Activités",
        "Accueil du matin",
        "Accueil périscolaire",
        "soir 1 : 16h30 à 17h30",
        "soir 2 : 17h30 à 18h30",
        "Mercredi",
        "Périodicité",
        "Aucune",
        "Semaines paires",
        "Semaines impaires",
        "Lundi",
        "Vendredi",
    ):
        assert text in html, text
    assert 'value="2026-12-02"' in html  # starts at the first modifiable day


def test_preview_then_confirm(client, lagrange, slots, today):
    """The tutorial's example (Monday mornings over two weeks, two children): the preview says
    what will be created and writes nothing; confirming creates it."""
    children = list(lagrange.children.all())
    client.force_login(lagrange.guardians.first().user)

    preview = client.post(URL, _payload(children, [slots["matin"]]))
    html = preview.content.decode()
    assert "4 réservations seront créées" in html
    assert "Confirmer" in html
    assert not Booking.objects.exists()

    token = preview.context["plan"].token()
    result = client.post(URL, _payload(children, [slots["matin"]], step="confirmer", token=token))
    assert "4 réservations créées" in result.content.decode()
    assert "Changements depuis l" not in result.content.decode()
    bookings = Booking.objects.active()
    assert sorted({b.date for b in bookings}) == [D(2026, 12, 7), D(2026, 12, 14)]
    assert {b.origin for b in bookings} == {Booking.Origin.BULK}
    assert {b.created_by for b in bookings} == {lagrange.guardians.first().user}


def test_skip_reasons_are_grouped(client, lagrange, slots, school, school_years, today):
    """Deadline passed, closed day, not enrolled, full and already booked are each listed."""
    lea, lalo = lagrange.children.get(first_name="Léa"), lagrange.children.get(first_name="Lalo")
    zoe = make_family("AUTRE", school, children=["Zoé"], enrolled=False).children.get()
    zoe.family = lagrange
    zoe.save()  # a third child of the family, not enrolled
    Booking.objects.create(child=lea, slot=slots["matin"], date=D(2026, 12, 10), school=school)
    CapacityOverride.objects.create(
        slot=slots["matin"], school=school, date=D(2026, 12, 11), places=1
    )
    Booking.objects.create(child=lea, slot=slots["matin"], date=D(2026, 12, 11), school=school)
    request = bulk.BulkRequest(
        children=(lea, lalo, zoe),
        action=bulk.CREATE,
        start=D(2026, 11, 30),
        end=D(2026, 12, 22),
        slots=(slots["matin"],),
        weekdays=frozenset({1, 2, 4, 5}),
    )

    plan = bulk.plan(request, today=today)

    skipped = {
        reason: {(i.child.first_name, i.day) for i in items}
        for reason, items in plan.skipped.items()
    }
    assert (("Léa", D(2026, 11, 30)) in skipped["deadline"]) and (
        ("Lalo", D(2026, 12, 1)) in skipped["deadline"]
    )
    assert ("Léa", D(2026, 12, 21)) in skipped["closed"]  # Christmas holidays
    assert {day for name, day in skipped["not_enrolled"] if name == "Zoé"} >= {
        D(2026, 12, 3),
        D(2026, 12, 4),
    }
    assert skipped["full"] == {("Lalo", D(2026, 12, 11))}
    assert skipped["already_booked"] == {("Léa", D(2026, 12, 10)), ("Léa", D(2026, 12, 11))}
    labels = [label for label, _, _ in plan.skipped_groups()]
    assert labels == [
        "délai dépassé",
        "jour fermé",
        "enfant non inscrit",
        "complet",
        "déjà réservé",
    ]
    assert all(i.child != zoe for i in plan.todo)


def test_preview_page_lists_the_skipped_days(client, lagrange, slots, today):
    """The preview shows the skipped days grouped by reason, in French."""
    client.force_login(lagrange.guardians.first().user)
    html = client.post(
        URL,
        _payload(
            list(lagrange.children.all()),
            [slots["matin"]],
            start=D(2026, 11, 30),
            end=D(2026, 12, 25),
            weekdays=("1", "2", "4", "5"),
        ),
    ).content.decode()
    assert "Délai dépassé" in html and "Jour fermé" in html


def test_odd_weeks_only(lagrange, slots, today):
    """ "Semaines impaires" keeps the Mondays of odd ISO weeks: 14/12/2026 is week 51, 04/01/2027
    week 1, 18/01/2027 week 3 (28/12, week 53, falls in the Christmas holidays)."""
    request = bulk.BulkRequest(
        children=tuple(lagrange.children.all()),
        action=bulk.CREATE,
        start=D(2026, 12, 7),
        end=D(2027, 1, 31),
        slots=(slots["matin"],),
        parity="odd",
        weekdays=frozenset({1}),
    )
    days = sorted({item.day for item in bulk.plan(request, today=today).todo})
    assert days == [D(2026, 12, 14), D(2027, 1, 4), D(2027, 1, 18)]
    assert all(day.isocalendar().week % 2 == 1 for day in days)


def test_delete_action(client, lagrange, slots, today):
    """Supprimer cancels the matching bookings; days without one are "rien à supprimer"."""
    lea = lagrange.children.get(first_name="Léa")
    for day in (D(2026, 12, 7), D(2026, 12, 14), D(2026, 11, 30)):
        Booking.objects.create(child=lea, slot=slots["matin"], date=day, school=lea.school)
    request = bulk.BulkRequest(
        children=(lea,),
        action=bulk.DELETE,
        start=D(2026, 11, 30),
        end=D(2026, 12, 18),
        slots=(slots["matin"],),
        weekdays=frozenset({1}),
    )
    plan = bulk.plan(request, today=today)
    assert {i.day for i in plan.todo} == {D(2026, 12, 7), D(2026, 12, 14)}
    assert {i.day for i in plan.skipped["deadline"]} == {D(2026, 11, 30)}

    outcome = bulk.apply(
        request, by=lagrange.guardians.first().user, today=today, preview_token=plan.token()
    )
    assert not outcome.changed_since_preview
    assert set(Booking.objects.active().values_list("date", flat=True)) == {D(2026, 11, 30)}

    again = bulk.plan(request, today=today)
    assert {i.day for i in again.skipped["nothing_to_cancel"]} == {D(2026, 12, 7), D(2026, 12, 14)}


def test_confirm_reports_what_changed_since_the_preview(lagrange, slots, school, today):
    """Between preview and confirmation another family takes the last place: the confirmation
    re-checks under lock, skips that day and says so."""
    lea = lagrange.children.get(first_name="Léa")
    CapacityOverride.objects.create(
        slot=slots["matin"], school=school, date=D(2026, 12, 14), places=1
    )
    request = bulk.BulkRequest(
        children=(lea,),
        action=bulk.CREATE,
        start=D(2026, 12, 7),
        end=D(2026, 12, 18),
        slots=(slots["matin"],),
        weekdays=frozenset({1}),
    )
    token = bulk.plan(request, today=today).token()
    nina = make_family("BERNARD", school, children=["Nina"]).children.get()
    Booking.objects.create(child=nina, slot=slots["matin"], date=D(2026, 12, 14), school=school)

    outcome = bulk.apply(
        request, by=lagrange.guardians.first().user, today=today, preview_token=token
    )

    assert [(item.day, reason) for item, reason in outcome.lost] == [(D(2026, 12, 14), "complet")]
    assert list(Booking.objects.filter(child=lea).values_list("date", flat=True)) == [
        D(2026, 12, 7)
    ]


def test_invalid_period_is_a_form_error(client, lagrange, slots, today):
    """An end before the start, or more than a year, is refused with a French message."""
    client.force_login(lagrange.guardians.first().user)
    children = list(lagrange.children.all())
    html = client.post(
        URL, _payload(children, [slots["matin"]], start=D(2026, 12, 18), end=D(2026, 12, 7))
    ).content.decode()
    assert "Le dernier jour doit suivre le premier." in html
    html = client.post(
        URL, _payload(children, [slots["matin"]], end=D(2028, 1, 7))
    ).content.decode()
    assert "La période couvre au plus un an." in html
    html = client.post(URL, {"etape": "apercu"}).content.decode()
    assert "Choisissez au moins un enfant." in html
    assert not Booking.objects.exists()


@pytest.fixture
def three_children(slots, school_years, school):
    return list(
        make_family("TROIS", school, children=["Anna", "Basile", "Chloé"]).children.order_by(
            "first_name"
        )
    )


def _whole_year(children, slots):
    return bulk.BulkRequest(
        children=tuple(children),
        action=bulk.CREATE,
        start=D(2026, 9, 1),
        end=D(2027, 7, 2),
        slots=(slots["matin"], slots["soir-1"], slots["soir-2"]),
        weekdays=frozenset({1, 2, 4, 5}),
    )


def _queries(function):
    with CaptureQueriesContext(connection) as queries:
        result = function()
    return len(queries), result


def test_whole_year_in_a_constant_number_of_queries(
    three_children, slots, django_assert_max_num_queries
):
    """A whole school year for three children, four weekdays and three créneaux (~1,250
    bookings) takes as many queries to preview and to apply as for one child."""
    user = three_children[0].family.guardians.first().user
    with time_machine.travel(datetime.datetime(2026, 8, 20, 10, tzinfo=datetime.UTC), tick=False):
        today = D(2026, 8, 20)
        bulk.plan(_whole_year(three_children[:1], slots), today=today)  # loads the calendar once
        plan_one, _ = _queries(
            lambda: bulk.plan(_whole_year(three_children[:1], slots), today=today)
        )
        plan_three, plan = _queries(
            lambda: bulk.plan(_whole_year(three_children, slots), today=today)
        )
        apply_one, _ = _queries(
            lambda: bulk.apply(_whole_year(three_children[:1], slots), by=user, today=today)
        )
        with django_assert_max_num_queries(apply_one):
            outcome = bulk.apply(_whole_year(three_children[1:], slots), by=user, today=today)

    assert plan_one == plan_three
    assert len(plan.todo) > 1200
    assert len(outcome.plan.todo) == 2 * len(plan.todo) // 3
    assert Booking.objects.active().count() == len(plan.todo)
    assert apply_one <= 16, apply_one


def test_whole_year_through_the_page(client, three_children, slots):
    """The same through the form, preview then confirm, with the page's queries counted."""
    client.force_login(three_children[0].family.guardians.first().user)
    data = _payload(
        three_children,
        [slots["matin"], slots["soir-1"], slots["soir-2"]],
        start=D(2026, 9, 1),
        end=D(2027, 7, 2),
        weekdays=("1", "2", "4", "5"),
    )
    with time_machine.travel(datetime.datetime(2026, 8, 20, 10, tzinfo=datetime.UTC), tick=False):
        preview = client.post(URL, data)
        token = preview.context["plan"].token()
        count, response = _queries(
            lambda: client.post(URL, {**data, "etape": "confirmer", "apercu": token})
        )
    assert response.status_code == 200
    assert Booking.objects.active().count() == len(preview.context["plan"].todo) > 1200
    assert count <= 30, count
