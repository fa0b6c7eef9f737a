"""Reservation objects for the cross-family access matrix, relative to the real clock (the
matrix does not pin "today")."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from enrolment.models import Enrolment, Service
from families.demo import ensure_school_years
from families.models import SchoolYear
from reservations.deadlines import first_modifiable_day
from reservations.models import Absence, Booking, WaitlistEntry
from reservations.reference import ensure_reference_data


def modifiable_day(today):
    """The first Monday, Tuesday, Thursday or Friday that can still be changed on `today`."""
    day = first_modifiable_day(today)
    while day.isoweekday() not in (1, 2, 4, 5):
        day += datetime.timedelta(days=1)
    return day


def reservation_objects(family, certificate: bytes):
    """Family's first child: enrolled, a modifiable booking, a booking past the deadline, a
    place in a waiting line, and an absence with a medical certificate."""
    today = timezone.localdate()
    slots = ensure_reference_data()
    ensure_school_years(today)
    child = family.children.order_by("pk").first()
    year = SchoolYear.objects.current(today)
    for slug in ("periscolaire", "alai"):
        Enrolment.objects.get_or_create(
            child=child,
            service=Service.objects.get(slug=slug),
            school_year=year,
            defaults={"effective_on": year.start_date},
        )
    Booking.objects.create(
        child=child, slot=slots["soir-1"], date=modifiable_day(today), school=child.school
    )
    Booking.objects.create(
        child=child,
        slot=slots["matin"],
        date=today + datetime.timedelta(days=1),
        school=child.school,
    )
    WaitlistEntry.objects.create(
        child=child,
        family=family,
        slot=slots["matin"],
        date=modifiable_day(today),
        school=child.school,
        position=1,
    )
    absence = Absence(child=child, start_date=today, end_date=today, reason="Maladie")
    absence.certificate = SimpleUploadedFile("certificat.png", certificate)
    absence.certificate_name, absence.certificate_type = "certificat.png", "image/png"
    absence.save()


def modifiable_booking(family):
    return Booking.objects.for_family(family).filter(slot__code="soir-1").order_by("pk").first()


def late_booking(family):
    return Booking.objects.for_family(family).filter(slot__code="matin").order_by("pk").first()


def absence(family):
    return Absence.objects.for_family(family).order_by("pk").first()


def waiting_entry(family):
    return WaitlistEntry.objects.for_family(family).order_by("pk").first()
