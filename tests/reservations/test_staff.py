"""Staff in the admin: bookings past the deadline or beyond the capacity (recorded), the
booking list's filters, occupancy per day, the calendar."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from reservations.models import Booking, CapacityOverride, Holiday
from reservations.services import staff_book
from tests.factories import UserFactory
from tests.reservations.conftest import MONDAY, make_family

D = datetime.date
TOMORROW = D(2026, 11, 27)


@pytest.fixture
def assistant(db):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Assistant administratif"))
    return user


@pytest.fixture
def regisseur(db):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Régisseur"))
    return user


def _add(client, child, slot, day, exceed=False):
    data = {"child": child.pk, "slot": slot.pk, "date": day.isoformat()}
    if exceed:
        data["exceed_capacity"] = "on"
    return client.post(reverse("admin:reservations_booking_add"), data)


def test_staff_books_past_the_deadline_recorded(client, assistant, child, slots, today):
    """The assistant books tomorrow for a family: allowed, marked "hors délai", with who/when."""
    client.force_login(assistant)
    response = _add(client, child, slots["matin"], TOMORROW)
    assert response.status_code == 302, response.content.decode()[:3000]
    booking = Booking.objects.get()
    assert (
        booking.past_deadline
        and booking.origin == Booking.Origin.STAFF
        and booking.created_by == assistant
    )


def test_staff_cannot_exceed_capacity_unless_asked(client, assistant, child, slots, school, today):
    """A full créneau is refused to staff too, unless "dépasser la capacité" is ticked."""
    CapacityOverride.objects.create(slot=slots["matin"], school=school, date=MONDAY, places=1)
    other = make_family("BERNARD", school, children=["Nina"]).children.get()
    Booking.objects.create(child=other, slot=slots["matin"], date=MONDAY, school=school)
    client.force_login(assistant)

    refused = _add(client, child, slots["matin"], MONDAY)
    assert refused.status_code == 200 and "Complet" in refused.content.decode()
    assert not Booking.objects.filter(child=child).exists()

    assert _add(client, child, slots["matin"], MONDAY, exceed=True).status_code == 302
    assert Booking.objects.get(child=child).over_capacity


def test_exceeding_needs_the_permission(child, slots, school, today):
    """Someone without the permission cannot exceed the capacity, even by calling the service."""
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        staff_book(
            child=child,
            slot=slots["matin"],
            day=MONDAY,
            by=UserFactory(is_staff=True),
            today=today,
            exceed_capacity=True,
        )


def test_staff_cancels_past_the_deadline(client, assistant, child, slots, today):
    """The admin action cancels a booking past the deadline and records it."""
    booking = Booking.objects.create(
        child=child, slot=slots["matin"], date=TOMORROW, school=child.school
    )
    client.force_login(assistant)
    response = client.post(
        reverse("admin:reservations_booking_changelist"),
        {"action": "cancel_bookings", "_selected_action": [booking.pk]},
    )
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED and booking.past_deadline
    assert booking.cancelled_by == assistant


def test_regisseur_cannot_cancel(client, regisseur, child, slots, today):
    """The finance officer only reads the bookings."""
    booking = Booking.objects.create(
        child=child, slot=slots["matin"], date=TOMORROW, school=child.school
    )
    client.force_login(regisseur)
    assert client.get(reverse("admin:reservations_booking_changelist")).status_code == 200
    client.post(
        reverse("admin:reservations_booking_changelist"),
        {"action": "cancel_bookings", "_selected_action": [booking.pk]},
    )
    booking.refresh_from_db()
    assert booking.is_active


def test_booking_list_filters_and_search(client, assistant, child, slots, today):
    """Filters by date, créneau, school, status; search by name or number."""
    booking = Booking.objects.create(
        child=child, slot=slots["matin"], date=MONDAY, school=child.school
    )
    client.force_login(assistant)
    url = reverse("admin:reservations_booking_changelist")
    for query in (
        f"?date__gte={MONDAY}&date__lt=2026-12-08",
        f"?slot__id__exact={slots['matin'].pk}",
        f"?school__id__exact={child.school_id}",
        "?status__exact=validated",
        "?q=Léa",
        f"?q={booking.pk}",
    ):
        response = client.get(url + query)
        assert response.status_code == 200 and response.context["cl"].result_count == 1, query


def test_occupancy_per_day(client, assistant, child, slots, school, today):
    """The occupancy page shows places taken and left per day, créneau and school."""
    CapacityOverride.objects.create(slot=slots["matin"], school=school, date=MONDAY, places=1)
    Booking.objects.create(child=child, slot=slots["matin"], date=MONDAY, school=school)
    client.force_login(assistant)
    response = client.get(
        reverse("admin:reservations_occupancy") + f"?du={MONDAY}&ecole={school.pk}"
    )
    assert response.status_code == 200
    row = next(
        r for r in response.context["rows"] if r["day"] == MONDAY and r["slot"].code == "matin"
    )
    assert (row["booked"], row["places"], row["left"]) == (1, 1, 0)
    assert "Complet" in response.content.decode()


def test_public_holidays_are_read_only(client, assistant, school_years, today):
    """School holidays can be corrected in the admin; public holidays cannot."""
    from reservations.calendar import load_school_year

    load_school_year(2026)
    client.force_login(assistant)
    public = Holiday.objects.filter(kind=Holiday.Kind.PUBLIC).first()
    school = Holiday.objects.filter(kind=Holiday.Kind.SCHOOL).first()
    assert (
        client.post(
            reverse("admin:reservations_holiday_delete", args=[public.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    response = client.post(
        reverse("admin:reservations_holiday_change", args=[school.pk]),
        {
            "kind": "school",
            "name": school.name,
            "start_date": school.start_date,
            "end_date": school.end_date + datetime.timedelta(days=1),
        },
    )
    assert response.status_code == 302


def test_admin_pages_render(client, assistant, child, slots, today):
    """Every reservations admin list and add page opens for the assistant."""
    from reservations.services import absence_declare

    Booking.objects.create(child=child, slot=slots["matin"], date=TOMORROW, school=child.school)
    absence_declare(
        child=child,
        start=TOMORROW,
        end=TOMORROW,
        reason="Maladie",
        by=child.family.guardians.first().user,
        today=today,
    )
    client.force_login(assistant)
    for model in (
        "holiday",
        "closure",
        "slot",
        "capacityoverride",
        "booking",
        "absence",
        "activity",
    ):
        assert client.get(reverse(f"admin:reservations_{model}_changelist")).status_code == 200, (
            model
        )
    for model in ("holiday", "closure", "capacityoverride", "booking"):
        assert client.get(reverse(f"admin:reservations_{model}_add")).status_code == 200, model
    absence = child.absences.get()
    assert (
        client.get(reverse("admin:reservations_absence_change", args=[absence.pk])).status_code
        == 200
    )
    booking = Booking.objects.first()
    assert (
        client.get(reverse("admin:reservations_booking_change", args=[booking.pk])).status_code
        == 200
    )
