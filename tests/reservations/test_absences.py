"""Absences: a parent declares an illness past the deadline, the office excuses it or not."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from exchanges.models import Thread
from reservations.models import Absence, Booking
from reservations.services import absence_decide
from tests.common.test_uploads import png_bytes
from tests.factories import UserFactory
from tests.reservations.conftest import MONDAY

D = datetime.date
FRIDAY = D(2026, 11, 27)  # tomorrow: past the deadline


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def bookings(child, slots):
    return [
        Booking.objects.create(child=child, slot=slots[code], date=day, school=child.school)
        for day in (FRIDAY, MONDAY)
        for code in ("matin", "soir-1")
    ]


def _declare(client, child, start, end, *, certificate=True):
    data = {"du": start.isoformat(), "au": end.isoformat(), "motif": "Maladie (varicelle)"}
    if certificate:
        data["certificat"] = SimpleUploadedFile(
            "certificat.png", png_bytes(), content_type="image/png"
        )
    return client.post(reverse("reservations:absence_create", args=[child.pk]), data)


def test_declare_absence_with_certificate(client, parent, child, bookings, today):
    """Past-deadline bookings are marked absent and wait for the office; still-modifiable ones
    are simply cancelled."""
    client.force_login(parent)
    response = _declare(client, child, FRIDAY, MONDAY)

    absence = Absence.objects.get()
    assert response.status_code == 302 and response.url == absence.get_absolute_url()
    assert absence.status == Absence.Status.PENDING and absence.certificate_name == "certificat.png"
    late = Booking.objects.filter(date=FRIDAY)
    assert all(
        b.absence == absence and b.presence == Booking.Presence.ABSENT and b.is_active for b in late
    )
    assert all(b.status == Booking.Status.CANCELLED for b in Booking.objects.filter(date=MONDAY))
    page = client.get(response.url).content.decode()
    assert "En attente" in page and "certificat.png" in page
    download = client.get(reverse("reservations:absence_certificate", args=[absence.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "image/png"


def test_no_booking_no_absence(client, parent, child, slots, today):
    """Declaring an absence on days without bookings is a form error."""
    client.force_login(parent)
    response = _declare(client, child, FRIDAY, FRIDAY, certificate=False)
    assert response.status_code == 200
    assert "aucune réservation sur cette période" in response.content.decode()
    assert not Absence.objects.exists()


def test_modifiable_days_only_are_sent_to_the_agenda(client, parent, child, slots, today):
    """On days still modifiable, the parent is told to delete the bookings instead."""
    Booking.objects.create(child=child, slot=slots["matin"], date=MONDAY, school=child.school)
    client.force_login(parent)
    response = _declare(client, child, MONDAY, MONDAY, certificate=False)
    assert "supprimez simplement les réservations" in response.content.decode()


def test_not_a_pdf_or_image_is_refused(client, parent, child, bookings, today):
    """The certificate is checked by content (PDF, JPEG or PNG)."""
    client.force_login(parent)
    data = {
        "du": FRIDAY.isoformat(),
        "au": FRIDAY.isoformat(),
        "motif": "Maladie",
        "certificat": SimpleUploadedFile("certificat.pdf", b"MZ\x90\x00 not a pdf"),
    }
    response = client.post(reverse("reservations:absence_create", args=[child.pk]), data)
    assert "Ce type de fichier n&#x27;est pas accepté" in response.content.decode()
    assert not Absence.objects.exists()


def test_office_excuses_the_absence(client, parent, child, bookings, today):
    """Excused: the bookings are "absent excusé", not billable, and the family is told."""
    client.force_login(parent)
    _declare(client, child, FRIDAY, FRIDAY)
    absence = Absence.objects.get()
    assistant = UserFactory(is_staff=True)

    absence_decide(absence=absence, excused=True, by=assistant, note="Certificat reçu, merci.")

    absence.refresh_from_db()
    assert absence.status == Absence.Status.EXCUSED and absence.decided_by == assistant
    assert set(absence.bookings.values_list("presence", flat=True)) == {Booking.Presence.EXCUSED}
    assert not Booking.objects.billable().filter(date=FRIDAY).exists()
    thread = Thread.objects.get(family=child.family)
    assert "excusée" in thread.messages.get().body


def test_office_does_not_excuse(child, bookings, parent, today):
    """Not excused: the bookings stay absent and billable."""
    from reservations.services import absence_declare

    absence, marked, _ = absence_declare(
        child=child, start=FRIDAY, end=FRIDAY, reason="Maladie", by=parent, today=today
    )
    absence_decide(absence=absence, excused=False, by=UserFactory(is_staff=True))
    assert marked == 2
    assert (
        Booking.objects.billable().filter(date=FRIDAY, presence=Booking.Presence.ABSENT).count()
        == 2
    )


def test_admin_action_excuses(client, child, bookings, parent, today):
    """The assistant excuses from the admin list (action)."""
    from django.contrib.auth.models import Group

    from reservations.services import absence_declare

    absence, _, _ = absence_declare(
        child=child, start=FRIDAY, end=FRIDAY, reason="Maladie", by=parent, today=today
    )
    assistant = UserFactory(is_staff=True)
    assistant.groups.add(Group.objects.get(name="Assistant administratif"))
    client.force_login(assistant)
    response = client.post(
        reverse("admin:reservations_absence_changelist"),
        {"action": "excuse", "_selected_action": [absence.pk]},
    )
    assert response.status_code == 302
    absence.refresh_from_db()
    assert absence.status == Absence.Status.EXCUSED


def test_late_certificate(client, parent, child, bookings, today):
    """A certificate can be added to a pending absence afterwards."""
    from reservations.services import absence_declare

    absence, _, _ = absence_declare(
        child=child, start=FRIDAY, end=FRIDAY, reason="Maladie", by=parent, today=today
    )
    client.force_login(parent)
    response = client.post(
        absence.get_absolute_url(),
        {"certificat": SimpleUploadedFile("scan.png", png_bytes(), content_type="image/png")},
    )
    assert response.status_code == 302
    absence.refresh_from_db()
    assert absence.certificate_name == "scan.png"
