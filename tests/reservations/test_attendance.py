"""The animateurs' register (pointage): staff only, one tap per child, walk-ins, the PDF."""

import datetime
import subprocess
from html import unescape
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from reservations import services
from reservations.models import Absence, Booking, CapacityOverride, Closure
from tests.factories import SchoolFactory, UserFactory
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
    assert html.count(">Absent excusé<") == 3
    assert "3 enfants : 0 présent, 0 absent, 0 absent excusé, 3 à pointer." in html


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


# Walk-ins: only children the register may take; the rest by derogation --------------------


@pytest.fixture
def assistant(db):
    """Office staff (group "Assistant administratif"): may add a walk-in by derogation."""
    user = UserFactory(is_staff=True, first_name="Claire", last_name="ROUX")
    user.groups.add(Group.objects.get(name="Assistant administratif"))
    return user


@pytest.fixture
def candidates(register, school):
    """Around the register: an enrolled child of the school, one not enrolled, one enrolled but
    at another school."""
    return {
        "enrolled": make_family("MARTIN", school, children=["Hugo"]).children.get(),
        "not_enrolled": make_family(
            "NOUVEAU", school, children=["Zoé"], enrolled=False
        ).children.get(),
        "other_school": make_family(
            "PETIT", SchoolFactory(name="École des Vignes"), children=["Tom"]
        ).children.get(),
    }


def _walk_in(client, school, slot, child, day=THURSDAY, **extra):
    return client.post(
        reverse("pointage:attendance_walk_in"),
        {
            "ecole": school.pk,
            "creneau": slot.pk,
            "date": day.isoformat(),
            "enfant": child.pk,
            **extra,
        },
        follow=True,
    )


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_walk_in_choices_are_only_children_who_can_be_added(
    client, animateur, candidates, school, slots, today
):
    """The walk-in list offers the school's children enrolled in the service and not yet on
    the list: not a child without an accepted enrolment, nor one of another school."""
    client.force_login(animateur)
    response = client.get(_list_url(school, slots["matin"]))
    assert [c.first_name for c in response.context["walk_ins"]] == ["Hugo"]
    html = response.content.decode()
    assert "MARTIN Hugo (CE2)" in html
    assert "Zoé" not in html and "Tom" not in html
    assert "Ajouter un enfant par dérogation" not in html  # animateurs have no such right


def test_forged_walk_in_of_a_child_not_enrolled_is_refused_in_staff_words(
    client, animateur, candidates, school, slots, today
):
    """A POST naming a child without an accepted enrolment saves nothing and tells the
    animateur why, in the staff's words (not the parents' « avant de réserver »)."""
    client.force_login(animateur)
    child = candidates["not_enrolled"]
    response = _walk_in(client, school, slots["matin"], child)
    assert _messages(response) == [
        "Ajout refusé : Zoé NOUVEAU n'a pas d'inscription acceptée au service « Périscolaire » "
        "pour 2026-2027. Seul le pôle administratif peut l'ajouter par dérogation."
    ]
    assert not Booking.objects.filter(child=child).exists()


@pytest.mark.parametrize(
    "case, message",
    [
        ("other_school", "la fiche de Tom PETIT indique une autre école (École des Vignes)."),
        ("already_booked", "Léa LAGRANGE est déjà sur la liste de ce créneau."),
    ],
)
def test_forged_walk_in_of_another_school_or_a_child_on_the_list_is_refused(
    client, animateur, candidates, school, slots, today, case, message
):
    """A child of another school, or already on the list, is refused, nothing saved."""
    client.force_login(animateur)
    child = (
        candidates["other_school"]
        if case == "other_school"
        else Booking.objects.get(child__first_name="Léa").child
    )
    before = Booking.objects.count()
    response = _walk_in(client, school, slots["matin"], child)
    assert message in _messages(response)[0]
    assert Booking.objects.count() == before


def test_no_walk_in_on_a_day_to_come(client, animateur, candidates, school, slots, today):
    """A child is added present on the day (or afterwards), never in advance."""
    client.force_login(animateur)
    friday = THURSDAY + datetime.timedelta(days=1)
    page = client.get(_list_url(school, slots["matin"], friday))
    assert page.context["walk_ins"] == []
    assert "pas à l&#x27;avance" in page.content.decode()
    response = _walk_in(client, school, slots["matin"], candidates["enrolled"], day=friday)
    assert "pas à l'avance" in _messages(response)[0]
    assert not Booking.objects.filter(child=candidates["enrolled"]).exists()


def test_override_with_permission_and_reason_is_recorded(
    client, assistant, candidates, school, slots, today
):
    """Office staff may add by derogation, with a reason, a child the rules refuse: the
    booking records who, why and which rule was set aside, and the register shows it."""
    client.force_login(assistant)
    page = client.get(_list_url(school, slots["matin"]))
    assert [c.first_name for c, _ in page.context["overrides"]] == ["Zoé", "Tom"]
    child = candidates["not_enrolled"]
    response = _walk_in(
        client,
        school,
        slots["matin"],
        child,
        derogation="1",
        motif="Inscription en cours de traitement",
    )
    booking = Booking.objects.get(child=child)
    assert booking.origin == Booking.Origin.WALK_IN and booking.presence == Booking.Presence.PRESENT
    assert booking.is_override and booking.override_by == assistant
    assert booking.override_reason == "Inscription en cours de traitement"
    assert booking.override_rule == (
        "Zoé NOUVEAU n'a pas d'inscription acceptée au service « Périscolaire » pour 2026-2027."
    )
    assert booking.school == school and Booking.objects.billable().filter(pk=booking.pk).exists()
    assert _messages(response) == [
        "Zoé NOUVEAU figure désormais sur la liste, pointage « Présent », sans réservation, "
        "par dérogation."
    ]
    html = response.content.decode()
    assert "par dérogation" in html
    assert "Dérogation de Claire ROUX : Inscription en cours de traitement" in html


def test_override_of_a_child_of_another_school_counts_at_the_register_school(
    client, assistant, candidates, school, slots, today
):
    """A child of another school added by derogation takes a place at the register's school."""
    client.force_login(assistant)
    child = candidates["other_school"]
    _walk_in(client, school, slots["matin"], child, derogation="1", motif="Garde exceptionnelle")
    booking = Booking.objects.get(child=child)
    assert booking.school == school and booking.override_rule.startswith("La fiche de Tom PETIT")


def test_override_needs_a_reason(client, assistant, candidates, school, slots, today):
    """Without a reason, nothing is saved and the form says what is missing."""
    client.force_login(assistant)
    child = candidates["not_enrolled"]
    response = _walk_in(client, school, slots["matin"], child, derogation="1", motif="  ")
    assert _messages(response) == ["Indiquez le motif de la dérogation."]
    assert not Booking.objects.filter(child=child).exists()


def test_override_without_the_permission_is_refused(
    client, animateur, candidates, school, slots, today
):
    """An animateur without the right cannot add by derogation, even with a reason."""
    client.force_login(animateur)
    child = candidates["not_enrolled"]
    response = _walk_in(
        client, school, slots["matin"], child, derogation="1", motif="Je le connais"
    )
    assert _messages(response) == ["Vous n'avez pas le droit d'ajouter un enfant par dérogation."]
    assert not Booking.objects.filter(child=child).exists()


def test_override_never_sets_aside_a_closure_or_a_second_place(
    client, assistant, register, school, slots, today
):
    """A child already on the list, or a closed créneau, stays refused by derogation too."""
    client.force_login(assistant)
    lea = Booking.objects.get(child__first_name="Léa").child
    response = _walk_in(client, school, slots["matin"], lea, derogation="1", motif="Erreur")
    assert "est déjà sur la liste" in _messages(response)[0]
    assert Booking.objects.filter(child=lea).count() == 1
    Closure.objects.create(
        start_date=THURSDAY, end_date=THURSDAY, school=school, reason="Grève du personnel"
    )
    child = make_family("NOUVEAU", school, enrolled=False).children.get()
    response = _walk_in(client, school, slots["matin"], child, derogation="1", motif="Urgence")
    assert "fermé ce jour-là (Grève du personnel)" in _messages(response)[0]
    assert not Booking.objects.filter(child=child).exists()


def test_override_shows_in_the_admin(client, assistant, candidates, school, slots, today):
    """The booking list of the admin filters and flags the walk-ins added by derogation."""
    client.force_login(assistant)
    child = candidates["not_enrolled"]
    _walk_in(client, school, slots["matin"], child, derogation="1", motif="Accord de la direction")
    booking = Booking.objects.get(child=child)
    listing = client.get(reverse("admin:reservations_booking_changelist") + "?derogation=oui")
    assert list(listing.context["cl"].result_list) == [booking]
    detail = client.get(reverse("admin:reservations_booking_change", args=[booking.pk]))
    html = detail.content.decode()
    assert "Accord de la direction" in html and "n&#x27;a pas d&#x27;inscription acceptée" in html


# Three states: présent, absent, absent excusé -----------------------------------------------


def test_absent_excused_is_a_third_tap(client, animateur, register, school, slots, today):
    """« Absent excusé » is recorded by the animateur like the other two, and counted."""
    booking = Booking.objects.get(child__first_name="Léa")
    client.force_login(animateur)
    response = client.post(
        reverse("pointage:attendance_mark"),
        {"reservation": booking.pk, "presence": "excused"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "is-excused" in html and 'aria-pressed="true">Absent excusé<' in html
    assert "0 présent, 0 absent, 1 absent excusé, 2 à pointer." in html
    booking.refresh_from_db()
    assert booking.presence == Booking.Presence.EXCUSED and booking.presence_marked_by == animateur
    assert not Booking.objects.billable().filter(pk=booking.pk).exists()
    client.post(
        reverse("pointage:attendance_mark"), {"reservation": booking.pk, "presence": "absent"}
    )
    booking.refresh_from_db()
    assert booking.presence == Booking.Presence.ABSENT
    assert Booking.objects.billable().filter(pk=booking.pk).exists()


def test_an_absence_decided_by_the_office_stays_as_decided(
    client, animateur, assistant, register, school, slots, today
):
    """Once the office has excused a declared absence, the register shows it and no tap
    changes it (the row has no buttons; a forged tap is refused)."""
    booking = Booking.objects.get(child__first_name="Léa")
    absence = Absence.objects.create(
        child=booking.child, start_date=THURSDAY, end_date=THURSDAY, reason="Varicelle"
    )
    Booking.objects.filter(pk=booking.pk).update(absence=absence)
    services.absence_decide(absence=absence, excused=True, by=assistant)
    client.force_login(animateur)
    html = client.get(_list_url(school, slots["matin"])).content.decode()
    row = html[html.index(f'id="enfant-{booking.pk}"') :].split('class="attendance-row', 1)[0]
    assert "Absent excusé — absence excusée par le pôle administratif" in row
    assert "pointage/presence/" not in row
    response = client.post(
        reverse("pointage:attendance_mark"),
        {"reservation": booking.pk, "presence": "present"},
        follow=True,
    )
    assert "déjà été traitée par le pôle administratif" in _messages(response)[0]
    booking.refresh_from_db()
    assert booking.presence == Booking.Presence.EXCUSED


def test_an_unknown_state_is_refused(client, animateur, register, today):
    """Only présent, absent, absent excusé (or non pointé) are accepted."""
    booking = Booking.objects.get(child__first_name="Léa")
    client.force_login(animateur)
    response = client.post(
        reverse("pointage:attendance_mark"),
        {"reservation": booking.pk, "presence": "cancelled"},
        follow=True,
    )
    assert _messages(response) == ["Choisissez présent, absent ou absent excusé."]
    booking.refresh_from_db()
    assert booking.presence == Booking.Presence.RESERVED


# The heading: the day, the créneau, the school, each said once -------------------------------


@pytest.mark.parametrize(
    "code, day, heading",
    [
        (
            "mercredi",
            D(2026, 12, 2),
            "Mercredi 2 décembre 2026 — Accueil de loisirs d'Alaï (3-12 ans) · École du Prainet",
        ),
        (
            "matin",
            THURSDAY,
            "Jeudi 26 novembre 2026 — Accueil du matin (07h20-08h20) · École du Prainet",
        ),
        (
            "soir-1",
            D(2026, 12, 1),
            "Mardi 1er décembre 2026 — Accueil périscolaire (soir 1 : 16h30 à 17h30) · "
            "École du Prainet",
        ),
    ],
)
def test_heading_says_each_thing_once(
    client, animateur, register, school, slots, today, code, day, heading, tmp_path
):
    """The register's heading, page title and PDF name the day, the créneau and the school
    without repeating the créneau's name (no more « Mercredi : Mercredi »)."""
    client.force_login(animateur)
    response = client.get(_list_url(school, slots[code], day))
    html = unescape(response.content.decode())
    assert f'<h2 class="h5 mb-0">{heading}</h2>' in html
    assert f"<title>Pointage — {heading}" in html
    assert "Mercredi : Mercredi" not in html
    pdf = client.get(
        f"{reverse('pointage:attendance_pdf')}?ecole={school.pk}&creneau={slots[code].pk}"
        f"&date={day.isoformat()}"
    )
    path = tmp_path / "pointage.pdf"
    path.write_bytes(pdf.content)
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
        ).stdout.split()
    )
    assert f"Pointage — {heading}" in text


def test_pdf_has_the_three_states(client, animateur, register, school, slots, today, tmp_path):
    """The printed sheet has a column for each state, ticked as marked on the tablet."""
    for name, presence in [("Léa", "present"), ("Lalo", "absent"), ("Nina", "excused")]:
        Booking.objects.filter(child__first_name=name).update(presence=presence)
    client.force_login(animateur)
    pdf = client.get(
        f"{reverse('pointage:attendance_pdf')}?ecole={school.pk}&creneau={slots['matin'].pk}"
        f"&date={THURSDAY.isoformat()}"
    )
    path = tmp_path / "pointage.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "Présent" in text and "Absent excusé" in text
    assert text.count("X") == 3
    # Rendered to look at, beside the other documents' first pages.
    folder = Path(__file__).resolve().parents[2] / "test-artifacts" / "pdf"
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-singlefile", str(path), str(folder / "pointage")],
        check=True,
    )


def test_a_parent_gets_404_on_every_register_url(client, register, school, slots, today):
    """A parent reaches none of the register's pages, by GET or POST."""
    client.force_login(register.guardians.first().user)
    query = f"?ecole={school.pk}&creneau={slots['matin'].pk}&date={THURSDAY.isoformat()}"
    for name in ["attendance", "attendance_pdf"]:
        assert client.get(reverse(f"pointage:{name}") + query).status_code == 404
    booking = Booking.objects.get(child__first_name="Léa")
    child = booking.child
    assert (
        client.post(
            reverse("pointage:attendance_mark"), {"reservation": booking.pk, "presence": "excused"}
        ).status_code
        == 404
    )
    assert _walk_in(client, school, slots["matin"], child).status_code == 404
    booking.refresh_from_db()
    assert booking.presence == Booking.Presence.RESERVED
    assert Booking.objects.filter(child=child).count() == 1
