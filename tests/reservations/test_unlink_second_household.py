"""The office removes a child's second household (résidence alternée): that household's
bookings of the child on the days after today are cancelled with the link, the places freed go
to the waiting list, its waiting entries for the child end, and it is told in « Échanges ».
The first household's bookings and the past days stay as they were."""

import datetime
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from exchanges.models import Thread
from families.households import household_link, household_unlink
from families.models import ChildHousehold
from reservations.models import Booking, CapacityOverride, WaitlistEntry
from tests.factories import GuardianFactory, UserFactory

from .conftest import MONDAY, make_family

pytestmark = pytest.mark.django_db

D = datetime.date
PAST_DAY = D(2026, 11, 23)  # Monday before TODAY (Thursday 2026-11-26): invoiced as booked
PAST_DEADLINE = D(2026, 12, 1)  # after TODAY but no longer modifiable
TUESDAY = D(2026, 12, 8)
THURSDAY = D(2026, 12, 10)


@pytest.fixture
def martin(slots, school_years, school):
    """The other parent's household, no child of its own."""
    return GuardianFactory(family__name="MARTIN").family


@pytest.fixture
def shared(child, martin):
    """Léa (LAGRANGE, a girl) has MARTIN as her second household."""
    child.sex = "F"
    child.save(update_fields=["sex"])
    household_link(child=child, family=martin, by=None, now=timezone.now())
    return child


@pytest.fixture
def office(client, db):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Assistant administratif"))
    client.force_login(user)
    return client


@pytest.fixture
def bookings(shared, family, martin, slots, school):
    """MARTIN's days: one past, one past the deadline, two to come; LAGRANGE's: one to come and
    one past. « Matin » on MONDAY has a single place, MARTIN's."""
    CapacityOverride.objects.create(slot=slots["matin"], school=school, date=MONDAY, places=1)

    def book(day, slot, household):
        return Booking.objects.create(
            child=shared, family=household, slot=slots[slot], date=day, school=school
        )

    return {
        "martin_past": book(PAST_DAY, "soir-1", martin),
        "martin_late": book(PAST_DEADLINE, "soir-1", martin),
        "martin_monday": book(MONDAY, "matin", martin),
        "martin_tuesday": book(TUESDAY, "soir-1", martin),
        "lagrange_thursday": book(THURSDAY, "soir-1", family),
        "lagrange_past": book(PAST_DAY, "matin", family),
    }


def _status(booking):
    booking.refresh_from_db()
    return booking.status


def test_unlinking_cancels_only_the_second_households_bookings_to_come(
    shared, martin, bookings, today
):
    link = ChildHousehold.objects.get(child=shared)

    cancelled = household_unlink(link=link, by=None, today=today)

    assert cancelled == 3
    gone = {name for name, b in bookings.items() if _status(b) == Booking.Status.CANCELLED}
    assert gone == {"martin_late", "martin_monday", "martin_tuesday"}
    assert not ChildHousehold.objects.filter(child=shared).exists()
    late = bookings["martin_late"]
    assert (late.past_deadline, late.cancel_reason) == (
        True,
        "Second foyer retiré par le pôle administratif",
    )
    # What MARTIN is still invoiced for: the past day alone; LAGRANGE keeps all its days.
    billable = Booking.objects.billable().filter(child=shared)
    assert set(billable.filter(family=martin).values_list("date", flat=True)) == {PAST_DAY}
    assert billable.exclude(family=martin).count() == 2


def test_the_second_household_is_told_in_echanges(shared, family, martin, bookings, today):
    household_unlink(link=ChildHousehold.objects.get(child=shared), by=None, today=today)

    thread = Thread.objects.for_family(martin).get()
    assert thread.subject == "Résidence alternée : Léa n'est plus rattachée à votre foyer"
    body = thread.messages.get().body
    assert "soit 3 jours" in body
    assert "mardi 01/12/2026, lundi 07/12/2026, mardi 08/12/2026" in body
    assert "23/11/2026" not in body  # the past day stays, invoiced
    assert not Thread.objects.for_family(family).exists()  # nothing to the first household


def test_a_waiting_child_gets_the_freed_place_and_martins_entries_end(
    shared, martin, bookings, slots, school, today
):
    """Hugo (DUPONT) waits for the one place on MONDAY's « Matin », held by MARTIN's booking of
    Léa: the unlinking gives it to him. MARTIN's own entry for Léa on a full day ends."""
    dupont = make_family("DUPONT", school, children=["Hugo"])
    hugo = dupont.children.get()
    hugo_entry = WaitlistEntry.objects.create(
        child=hugo, family=dupont, slot=slots["matin"], date=MONDAY, school=school, position=1
    )
    CapacityOverride.objects.create(slot=slots["matin"], school=school, date=THURSDAY, places=0)
    martin_entry = WaitlistEntry.objects.create(
        child=shared, family=martin, slot=slots["matin"], date=THURSDAY, school=school, position=1
    )

    household_unlink(link=ChildHousehold.objects.get(child=shared), by=None, today=today)

    hugo_entry.refresh_from_db()
    assert hugo_entry.status == WaitlistEntry.Status.BOOKED
    assert Booking.objects.active().get(slot=slots["matin"], date=MONDAY).child == hugo
    assert Thread.objects.for_family(dupont).filter(subject__contains="Hugo a une place").exists()
    martin_entry.refresh_from_db()
    assert martin_entry.status == WaitlistEntry.Status.DROPPED
    assert "quitte aussi les listes d'attente" in (
        Thread.objects.for_family(martin).get().messages.get().body
    )


def test_deleting_the_link_in_the_admin_cancels_and_says_how_many(
    office, shared, martin, bookings, today
):
    link = ChildHousehold.objects.get(child=shared)

    response = office.post(
        reverse("admin:families_childhousehold_delete", args=[link.pk]),
        {"post": "yes"},
        follow=True,
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "3 réservations à venir de ce foyer pour Léa ont été annulées" in page
    assert not ChildHousehold.objects.exists()
    assert _status(bookings["martin_tuesday"]) == Booking.Status.CANCELLED
    assert _status(bookings["lagrange_thursday"]) == Booking.Status.VALIDATED
    assert Thread.objects.for_family(martin).count() == 1


def test_the_admin_list_action_removes_the_link_the_same_way(
    office, shared, martin, bookings, today
):
    link = ChildHousehold.objects.get(child=shared)

    office.post(
        reverse("admin:families_childhousehold_changelist"),
        {"action": "delete_selected", "_selected_action": [link.pk], "post": "yes"},
    )

    assert not ChildHousehold.objects.exists()
    assert Booking.objects.active().filter(family=martin, date__gt=today).count() == 0
    assert Booking.objects.active().filter(family=martin, date=PAST_DAY).count() == 1
    assert Thread.objects.for_family(martin).count() == 1


class _Form(HTMLParser):
    """The fields of the admin's change form as a browser would submit them unchanged."""

    def __init__(self):
        super().__init__()
        self.data, self._select = {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.data.setdefault(name, []).append(attrs.get("value", "on"))
        elif tag == "textarea" and name:
            self.data.setdefault(name, [])
            self._select = ("textarea", name)
        elif tag == "select" and name:
            self._select = ("select", name)
        elif tag == "option" and self._select and "selected" in attrs:
            self.data.setdefault(self._select[1], []).append(attrs.get("value", ""))

    def handle_data(self, data):
        if self._select and self._select[0] == "textarea":
            self.data[self._select[1]].append(data.strip())
            self._select = None

    def handle_endtag(self, tag):
        if tag in ("select", "textarea"):
            self._select = None


def test_removing_the_second_household_on_the_childs_page_cancels_the_same_way(
    office, shared, martin, bookings, today
):
    """On the child's admin page, « Supprimer » ticked on the second household, then saved."""
    url = reverse("admin:families_child_change", args=[shared.pk])
    form = _Form()
    form.feed(office.get(url).content.decode())
    prefix = next(k for k in form.data if k.endswith("-0-id") and "household" in k)[: -len("id")]
    form.data[f"{prefix}DELETE"] = ["on"]

    response = office.post(url, form.data, follow=True)

    assert response.status_code == 200
    assert "3 réservations à venir de ce foyer pour Léa ont été annulées" in (
        response.content.decode()
    )
    assert not ChildHousehold.objects.exists()
    assert Booking.objects.active().filter(family=martin, date__gt=today).count() == 0
    assert _status(bookings["lagrange_thursday"]) == Booking.Status.VALIDATED
