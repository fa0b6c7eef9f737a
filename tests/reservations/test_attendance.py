"""The animateurs' register (pointage): staff only, one tap per child, walk-ins, the PDF."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from reservations.models import Booking, CapacityOverride
from tests.factories import UserFactory
from tests.reservations.conftest import make_family

D = datetime.date
THURSDAY = D(2026, 11, 26)  # TODAY


@pytest.fixture
def animateur(db):
    user = UserFactory(is_staff=True, first_name="Inès")
    user.groups.add(Group.objects.get(name="Animateur"))
    return user


@pytest.fixture
def register(slots, school_years, school):
    """Three children booked on the morning créneau of today at the school."""
    family = make_family("LAGRANGE", school, children=["Léa", "Lalo"])
    other = make_family("BERNARD", school, children=["Nina"])
    for child in [*family.children.all(), *other.children.all()]:
        Booking.objects.create(child=child, slot=slots["matin"], date=THURSDAY, school=school)
    return family


def _list_url(school, slot, day=THURSDAY):
    return f"{reverse('pointage:attendance')}?ecole={school.pk}&creneau={slot.pk}&date={day.isoformat()}"


def test_register_lists_the_booked_children(client, animateur, register, school, slots, today):
    """The list of the créneau, by name, with one button per child for présent and absent."""
    client.force_login(animateur)
    html = client.get(_list_url(school, slots["matin"])).content.decode()
    assert "LAGRANGE Lalo" in html and "LAGRANGE Léa" in html and "BERNARD Nina" in html
    assert html.index("BERNARD Nina") < html.index("LAGRANGE Lalo")
    assert html.count(">Présent<") == 3 and html.count(">Absent<") == 3
    assert "3 enfants : 0 présent, 0 absent, 3 à pointer." in html


def test_defaults_to_now(client, animateur, register, school, today):
    """Without a choice, the page opens on today and the créneau running now (10:00 → soir 1)."""
    client.force_login(animateur)
    response = client.get(reverse("pointage:attendance"))
    assert response.status_code == 200
    assert response.context["day"] == THURSDAY
    assert response.context["slot"].code == "soir-1"


def test_one_tap_marks_present_with_htmx(client, animateur, register, today):
    """A tap sends the booking and the presence; htmx gets the child's row back."""
    booking = Booking.objects.get(child__first_name="Léa")
    client.force_login(animateur)
    response = client.post(
        reverse("pointage:attendance_mark"),
        {"reservation": booking.pk, "presence": "present"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and "is-present" in html
    booking.refresh_from_db()
    assert booking.presence == Booking.Presence.PRESENT and booking.presence_marked_by == animateur


def test_plain_post_marks_absent_and_comes_back(client, animateur, register, school, slots, today):
    """Without JavaScript the tap is a form: it marks and comes back to the same list."""
    booking = Booking.objects.get(child__first_name="Nina")
    client.force_login(animateur)
    response = client.post(
        reverse("pointage:attendance_mark"), {"reservation": booking.pk, "presence": "absent"}
    )
    assert response.status_code == 302
    assert response.url == _list_url(school, slots["matin"]) + f"#enfant-{booking.pk}"
    booking.refresh_from_db()
    assert booking.presence == Booking.Presence.ABSENT


def test_walk_in_child(client, animateur, register, school, slots, today):
    """A child of the school present without booking is added, present, and recorded as such;
    a full créneau does not stop it (recorded)."""
    CapacityOverride.objects.create(slot=slots["matin"], school=school, date=THURSDAY, places=3)
    walk_in = make_family("MARTIN", school, children=["Hugo"]).children.get()
    client.force_login(animateur)
    page = client.get(_list_url(school, slots["matin"])).content.decode()
    assert "MARTIN Hugo" in page  # offered in the walk-in list
    response = client.post(
        reverse("pointage:attendance_walk_in"),
        {
            "ecole": school.pk,
            "creneau": slots["matin"].pk,
            "date": THURSDAY.isoformat(),
            "enfant": walk_in.pk,
        },
    )
    assert response.status_code == 302
    booking = Booking.objects.get(child=walk_in)
    assert booking.origin == Booking.Origin.WALK_IN and booking.presence == Booking.Presence.PRESENT
    assert booking.over_capacity and booking.created_by == animateur
    assert Booking.objects.billable().filter(child=walk_in).exists()


def test_walk_in_needs_an_enrolment(client, animateur, register, school, slots, today):
    """A child not enrolled in the service cannot be added; the animateur is told why."""
    child = make_family("NOUVEAU", school, children=["Zoé"], enrolled=False).children.get()
    client.force_login(animateur)
    response = client.post(
        reverse("pointage:attendance_walk_in"),
        {
            "ecole": school.pk,
            "creneau": slots["matin"].pk,
            "date": THURSDAY.isoformat(),
            "enfant": child.pk,
        },
        follow=True,
    )
    assert "n&#x27;est pas inscrit" in response.content.decode()
    assert not Booking.objects.filter(child=child).exists()


def test_pdf_of_the_register(client, animateur, register, school, slots, today):
    """The same list as a PDF."""
    client.force_login(animateur)
    response = client.get(
        f"{reverse('pointage:attendance_pdf')}?ecole={school.pk}&creneau={slots['matin'].pk}"
        f"&date={THURSDAY.isoformat()}"
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


@pytest.mark.parametrize("who", ["parent", "staff_without_permission", "anonymous"])
def test_only_animateurs_and_office_reach_it(client, register, who, slots, school):
    """Parents and staff without the permission get 404; anonymous visitors go to the login."""
    if who == "parent":
        client.force_login(register.guardians.first().user)
    elif who == "staff_without_permission":
        client.force_login(UserFactory(is_staff=True))
    response = client.get(_list_url(school, slots["matin"]))
    assert response.status_code == (302 if who == "anonymous" else 404)
    booking = Booking.objects.first()
    client.post(
        reverse("pointage:attendance_mark"), {"reservation": booking.pk, "presence": "present"}
    )
    booking.refresh_from_db()
    assert booking.presence == Booking.Presence.RESERVED
