"""The animateurs' register (pointage): a staff page for a phone, outside the admin.

Pick a school, a créneau and a day (default: today, the créneau running now); one tap per child
for présent / absent / absent excusé (htmx, or a plain POST); add a child present without
booking — only a child the register may take, or any child by derogation for staff allowed to,
with a reason —; print the same list as a PDF. Only staff allowed to take attendance reach it;
anyone else gets a 404.
"""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from families.models import School

from .. import pdfs, services
from ..attendance import (
    OVERRIDE_PERMISSION,
    child_name,
    register_counts,
    register_heading,
    register_rows,
    walk_in_choices,
)
from ..forms import AttendanceFilterForm, AttendanceMarkForm, WalkInForm
from ..models import Booking, Slot


def attendance_required(view):
    """Staff with the "take attendance" permission; for anyone else the page does not exist."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (
            user.is_authenticated
            and user.is_staff
            and user.has_perm("reservations.take_attendance")
        ):
            raise Http404("Page introuvable.")
        return view(request, *args, **kwargs)

    return wrapper


def _selection(data):
    """(school, slot, day) chosen in `data`, or the defaults (today, the créneau running now)."""
    initial = AttendanceFilterForm.initial_for(timezone.localtime())
    form = AttendanceFilterForm(data if data.get("ecole") else None, initial=initial)
    if form.is_bound and form.is_valid():
        return (
            form,
            form.cleaned_data["ecole"],
            form.cleaned_data["creneau"],
            form.cleaned_data["date"],
        )
    # Nothing chosen yet, or an invalid choice (shown with its errors): the defaults.
    school = School.objects.filter(pk=initial["ecole"]).first()
    slot = Slot.objects.select_related("activity__service").filter(pk=initial["creneau"]).first()
    return form, school, slot, initial["date"]


def _list_url(school, slot, day):
    query = urlencode({"ecole": school.pk, "creneau": slot.pk, "date": day.isoformat()})
    return f"{reverse('pointage:attendance')}?{query}"


@require_GET
@attendance_required
def attendance(request):
    """The register of a créneau at a school on a day, with the walk-in forms."""
    form, school, slot, day = _selection(request.GET)
    bookings = register_rows(school, slot, day)
    context = {"form": form, "school": school, "slot": slot, "day": day, "bookings": bookings}
    if school is not None and slot is not None:
        may_override = request.user.has_perm(OVERRIDE_PERMISSION)
        walk_in_closed, walk_ins, overrides = walk_in_choices(
            school, slot, day, timezone.localdate(), with_overrides=may_override
        )
        context |= {
            "heading": register_heading(school, slot, day),
            "walk_in_closed": walk_in_closed,
            "walk_ins": walk_ins,
            "overrides": overrides,
            "overrides_here": [c for c, _ in overrides if c.school_id == school.pk],
            "overrides_elsewhere": [c for c, _ in overrides if c.school_id != school.pk],
            "may_override": may_override,
        }
    return render(
        request,
        "reservations/attendance.html",
        {**context, "counts": register_counts(bookings)},
    )


@require_POST
@attendance_required
def attendance_mark(request):
    """Mark one child present, absent, absent excusé or back to « non pointé »; the row alone
    for htmx, with the refusal in it if any."""
    bookings = Booking.objects.active().select_related(
        "child", "slot__activity__service", "school", "absence", "override_by"
    )
    form = AttendanceMarkForm(request.POST, bookings=bookings)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(reverse("pointage:attendance"))
    booking, error = form.cleaned_data["reservation"], None
    try:
        services.attendance_mark(
            booking=booking, presence=form.cleaned_data["presence"], by=request.user
        )
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.htmx:
        rows = register_rows(booking.school, booking.slot, booking.date)
        # The counter is swapped out of band: only the htmx response carries a copy of it.
        context = {"booking": booking, "bookings": rows, "oob_counts": register_counts(rows)}
        return render(
            request,
            "reservations/_attendance_row.html",
            {**context, "slot": booking.slot, "error": error},
        )
    if error:
        messages.error(request, error)
    return redirect(_list_url(booking.school, booking.slot, booking.date) + f"#enfant-{booking.pk}")


@require_POST
@attendance_required
def attendance_walk_in(request):
    """Add a child present without booking to the register (by derogation, with a reason)."""
    _, school, slot, day = _selection(request.POST)
    if school is None or slot is None:
        raise Http404("Liste introuvable.")
    form = WalkInForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(_list_url(school, slot, day))
    child = form.cleaned_data["enfant"]
    try:
        booking = services.walk_in_add(
            child=child,
            school=school,
            slot=slot,
            day=day,
            by=request.user,
            today=timezone.localdate(),
            override_reason=form.override_reason(),
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect(_list_url(school, slot, day))
    messages.success(
        request,
        f"{child_name(child)} figure désormais sur la liste, pointage « Présent », sans "
        + ("réservation, par dérogation." if booking.is_override else "réservation."),
    )
    return redirect(_list_url(school, slot, day) + f"#enfant-{booking.pk}")


@require_GET
@attendance_required
def attendance_pdf(request):
    """The register as a PDF to print."""
    _, school, slot, day = _selection(request.GET)
    if school is None or slot is None:
        raise Http404("Liste introuvable.")
    sheet = pdfs.AttendanceSheet(
        heading=register_heading(school, slot, day),
        school=school,
        slot=slot,
        day=day,
        bookings=register_rows(school, slot, day),
        printed_at=timezone.localtime(),
    )
    response = HttpResponse(pdfs.attendance_pdf(sheet), content_type="application/pdf")
    filename = f"pointage-{slot.code}-{day:%Y-%m-%d}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
