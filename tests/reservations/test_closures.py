"""A closure added after bookings exist cancels exactly its bookings and tells each family once."""

import datetime

import pytest
from django.urls import reverse

from exchanges.models import Thread
from reservations.models import Booking, Closure
from reservations.services import closure_apply
from tests.factories import SchoolFactory, UserFactory
from tests.reservations.conftest import MONDAY, make_family

D = datetime.date
TUESDAY = D(2026, 12, 8)


@pytest.fixture
def booked(slots, school_years, school):
    """Two families at the school (one with two children), one at another school; each child
    booked morning and evening on Monday 7 and Tuesday 8 December."""
    other_school = SchoolFactory(name="École Leclerc")
    families = [
        make_family("LAGRANGE", school, children=["Léa", "Lalo"]),
        make_family("BERNARD", school, children=["Nina"]),
        make_family("MARTIN", other_school, children=["Hugo"]),
    ]
    for family in families:
        for child in family.children.all():
            for day in (MONDAY, TUESDAY):
                for code in ("matin", "soir-1"):
                    Booking.objects.create(
                        child=child, slot=slots[code], date=day, school=child.school
                    )
    return families


def test_closure_cancels_exactly_that_day_and_scope(booked, school, today):
    """A school's closure on Monday cancels that school's Monday bookings, nothing else."""
    closure = Closure.objects.create(
        start_date=MONDAY, end_date=MONDAY, school=school, reason="Grève du personnel"
    )

    assert closure_apply(closure=closure) == 6  # 3 children × 2 créneaux

    cancelled = Booking.objects.filter(status=Booking.Status.CANCELLED_BY_CLOSURE)
    assert {(b.date, b.school_id) for b in cancelled} == {(MONDAY, school.pk)}
    assert all(b.cancel_reason == "Grève du personnel" and b.closure == closure for b in cancelled)
    assert Booking.objects.active().count() == 16 - 6
    assert not Booking.objects.billable().filter(closure=closure).exists()


def test_one_message_per_family(booked, school, today):
    """Each family concerned gets one message listing its cancelled bookings; others get none."""
    lagrange, bernard, martin = booked
    closure = Closure.objects.create(
        start_date=MONDAY, end_date=TUESDAY, school=school, reason="Travaux"
    )
    closure_apply(closure=closure)

    assert Thread.objects.filter(family=lagrange).count() == 1
    assert Thread.objects.filter(family=bernard).count() == 1
    assert not Thread.objects.filter(family=martin).exists()
    message = Thread.objects.get(family=lagrange).messages.get()
    assert "Travaux" in message.body and message.body.count("- ") == 8
    assert "ne vous seront pas facturées" in message.body

    assert closure_apply(closure=closure) == 0  # again: nothing more, no new message
    assert Thread.objects.filter(family=lagrange).get().messages.count() == 1


def test_activity_closure(booked, slots, today):
    """A closure of one activity (town-wide) cancels only that activity's bookings."""
    closure = Closure.objects.create(
        start_date=TUESDAY,
        end_date=TUESDAY,
        activity=slots["soir-1"].activity,
        reason="Sortie scolaire",
    )
    assert closure_apply(closure=closure) == 4
    assert set(Booking.objects.filter(closure=closure).values_list("slot__code", flat=True)) == {
        "soir-1"
    }


def test_closed_day_can_no_longer_be_booked(client, booked, school, slots, today):
    """After the closure, the agenda says Fermé with the reason and refuses the day."""
    lagrange = booked[0]
    closure = Closure.objects.create(
        start_date=MONDAY, end_date=MONDAY, school=school, reason="Grève"
    )
    closure_apply(closure=closure)
    child = lagrange.children.get(first_name="Léa")
    client.force_login(lagrange.guardians.first().user)
    html = client.get(reverse("reservations:month", args=[child.pk, 2026, 12])).content.decode()
    assert "Grève" in html
    slot = str(slots["soir-2"].pk)
    client.post(
        reverse("reservations:day", args=[child.pk, MONDAY]),
        {"affiches": [slot], "modifiables": [slot], "creneau": [slot]},
    )
    assert not Booking.objects.active().filter(child=child, date=MONDAY).exists()


def test_adding_a_closure_in_the_admin_applies_it(client, booked, school, today):
    """The assistant adds the closure in the admin: bookings are cancelled and families told."""
    from django.contrib.auth.models import Group

    assistant = UserFactory(is_staff=True)
    assistant.groups.add(Group.objects.get(name="Assistant administratif"))
    client.force_login(assistant)
    response = client.post(
        reverse("admin:reservations_closure_add"),
        {
            "start_date": MONDAY.isoformat(),
            "end_date": MONDAY.isoformat(),
            "school": school.pk,
            "activity": "",
            "reason": "Grève du personnel communal",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    closure = Closure.objects.get()
    assert closure.created_by == assistant
    assert Booking.objects.filter(closure=closure).count() == 6
    assert Thread.objects.count() == 2
