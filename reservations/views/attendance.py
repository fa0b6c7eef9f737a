"""The animateurs' register (pointage): a staff page for a phone, outside the admin.

Pick a school, a créneau and a day (default: today, the créneau running now); one tap per child
for présent / absent (htmx, or a plain POST); add a child present without booking; print the
same list as a PDF. Only staff allowed to take attendance reach it; anyone else gets a 404.
"""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from families.models import School

from .. import pdfs, services
from ..attendance import register_counts, register_rows
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
    slot = Slot.objects.select_related("activity").filter(pk=initial["creneau"]).first()
    return form, school, slot, initial["date"]


def _list_url(school, slot, day):
    query = urlencode({"ecole": school.pk, "creneau": slot.pk, "date": day.isoformat()})
    return f"{reverse('pointage:attendance')}?{query}"


@require_GET
@attendance_required
def attendance(request):
    """The register of a créneau at a school on a day, with the walk-in form."""
    form, school, slot, day = _selection(request.GET)
    bookings = register_rows(school, slot, day)
    walk_in = None
    if school is not None and slot is not None:
        walk_in = WalkInForm(school=school)
        walk_in.fields["enfant"].queryset = walk_in.fields["enfant"].queryset.exclude(
            pk__in=[b.child_id for b in bookings]
        )
    return render(
        request,
        "reservations/attendance.html",
        {
            "form": form,
            "school": school,
            "slot": slot,
            "day": day,
            "bookings": bookings,
            "walk_in": walk_in,
            "counts": register_counts(bookings),
        },
    )


@require_POST
@attendance_required
def attendance_mark(request):
    """Mark one child present, absent or back to réservé; the row alone for htmx."""
    form = AttendanceMarkForm(
        request.POST, bookings=Booking.objects.active().select_related("child", "slot", "school")
    )
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(reverse("pointage:attendance"))
    booking = form.cleaned_data["reservation"]
    try:
        services.attendance_mark(
            booking=booking, presence=form.cleaned_data["presence"], by=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if request.htmx:
        bookings = register_rows(booking.school, booking.slot, booking.date)
        # The counter is swapped out of band: only the htmx response carries a copy of it.
        context = {
            "booking": booking,
            "bookings": bookings,
            "oob_counts": register_counts(bookings),
        }
        return render(
            request, "reservations/_attendance_row.html", {**context, "slot": booking.slot}
        )
    return redirect(_list_url(booking.school, booking.slot, booking.date) + f"#enfant-{booking.pk}")


@require_POST
@attendance_required
def attendance_walk_in(request):
    """Add a child present without booking to the register."""
    _, school, slot, day = _selection(request.POST)
    if school is None or slot is None:
        raise Http404("Liste introuvable.")
    form = WalkInForm(request.POST, school=school)
    if form.is_valid():
        child = form.cleaned_data["enfant"]
        try:
            services.walk_in_add(
                child=child, slot=slot, day=day, by=request.user, today=timezone.localdate()
            )
        except ValidationError as exc:
            messages.error(request, f"{child.first_name} : " + " ".join(exc.messages))
        else:
            messages.success(
                request,
                f"{child.first_name} {child.last_name.upper()} est ajouté(e), présent(e), sans réservation.",
            )
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(_list_url(school, slot, day))


@require_GET
@attendance_required
def attendance_pdf(request):
    """The register as a PDF to print."""
    _, school, slot, day = _selection(request.GET)
    if school is None or slot is None:
        raise Http404("Liste introuvable.")
    sheet = pdfs.AttendanceSheet(
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
