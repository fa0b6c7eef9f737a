"""The agenda's bench scenarios (reservations): their URLs, data and resets, resolved after
seeding, on the demo parent's Léa and on the bench family of three children."""

import datetime

DEMO_PARENT = "parent@example.org"
PERISCOLAIRE = ("matin", "soir-1", "soir-2")


def _lea():
    from families.models import Child

    return Child.objects.get(first_name="Léa", family__guardians__user__email=DEMO_PARENT)


def _slot(code):
    from reservations.models import Slot

    return Slot.objects.get(code=code)


def _today():
    from django.utils import timezone

    return timezone.localdate()


def save_day() -> datetime.date:
    """The first modifiable Monday, Tuesday, Thursday or Friday (Léa has no "soir 2" then)."""
    from reservations.deadlines import first_modifiable_day

    day = first_modifiable_day(_today())
    while day.isoweekday() not in (1, 2, 4, 5):
        day += datetime.timedelta(days=1)
    return day


def month_url():
    """The month page of Léa's agenda, this month."""
    today = _today()
    return f"/agenda/{_lea().pk}/{today.year}/{today.month:02d}/"


def day_url():
    """The day panel of Léa on the day the save scenario books."""
    return f"/agenda/{_lea().pk}/{save_day().isoformat()}/"


def day_save_data():
    """Tick "soir 2" on the panel as rendered (nothing booked for it)."""
    slot = str(_slot("soir-2").pk)
    return {"affiches": [slot], "modifiables": [slot], "creneau": [slot]}


def day_save_reset():
    """Delete the "soir 2" booking the save scenario made."""
    from reservations.models import Booking

    Booking.objects.filter(child=_lea(), slot=_slot("soir-2"), date=save_day()).delete()


def _bulk_family():
    from bench.seeding import bulk_scenario_family

    family = bulk_scenario_family()
    if family is None:
        raise RuntimeError("the bulk-entry scenario needs a bench family with three children")
    return family


def bulk_user():
    """The e-mail of the first guardian of the bulk-entry scenario's family."""
    return _bulk_family().guardians.order_by("pk").first().user.email


def _next_school_year():
    from families.models import SchoolYear

    return SchoolYear.objects.filter(start_date__gt=_today()).order_by("start_date").first()


def bulk_data(step):
    """The whole next school year, three children, Mon/Tue/Thu/Fri, the three périscolaire créneaux."""
    year = _next_school_year()
    return {
        "enfants": list(_bulk_family().children.values_list("pk", flat=True)),
        "action": "create",
        "du": year.start_date.isoformat(),
        "au": year.end_date.isoformat(),
        "creneaux": [_slot(code).pk for code in PERISCOLAIRE],
        "periodicite": "",
        "jours": ["1", "2", "4", "5"],
        "etape": step,
    }


def bulk_reset():
    """Delete the bookings the bulk-entry scenario made."""
    from reservations.models import Booking

    Booking.objects.filter(child__family=_bulk_family(), origin=Booking.Origin.BULK).delete()


def attendance_url():
    """The register of today's "soir 1" at the first school with a booking."""
    from reservations.models import Booking

    booking = (
        Booking.objects.active()
        .filter(date=_today(), slot__code="soir-1")
        .order_by("school")
        .first()
    )
    return f"/pointage/?ecole={booking.school_id}&creneau={booking.slot_id}&date={booking.date.isoformat()}"


def day_save_refusal(response):
    """Why the day save did not book "soir 2" (None when the booking is there)."""
    from reservations.models import Booking

    booked = (
        Booking.objects.active()
        .filter(child=_lea(), slot=_slot("soir-2"), date=save_day())
        .exists()
    )
    return None if booked else "no booking of « soir 2 » after the save"


def bulk_refusal(response):
    """Why the bulk entry did not book all it previewed (None when it did): days skipped as
    full, or changes since the preview."""
    from reservations.availability import Reason
    from reservations.models import Booking

    page = response.content.decode()
    full = Reason.LABELS[Reason.FULL]
    if f"{full[:1].upper()}{full[1:]} : " in page:
        return f"days skipped as « {full} »"
    if 'id="changements"' in page:
        return "changes since the preview"
    made = Booking.objects.filter(
        child__family=_bulk_family(), origin=Booking.Origin.BULK, status=Booking.Status.VALIDATED
    ).count()
    return None if made else "no booking made"
