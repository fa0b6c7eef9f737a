"""The parent's agenda: month grid, day panel (htmx partial or plain page), booking detail,
saisie groupée, absences. Every lookup goes through the family's querysets (another family's
child or booking is a 404); every write goes through `services` / `bulk`, which re-check the
rules on the server."""

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods

from common.files import serve_private_file
from families.decorators import family_required
from families.models import Child

from .. import agenda, bulk, services
from ..deadlines import first_modifiable_day, is_modifiable
from ..forms import AbsenceForm, BulkForm, CertificateForm, DayForm
from ..models import Absence, Booking
from . import waitlist as waitlist_views


def _children(request):
    """The children the family looks after: its own and those it shares as their second
    household (résidence alternée)."""
    return list(Child.objects.in_household(request.family).select_related("school"))


def _child(request, child_id, children=None):
    for child in children if children is not None else _children(request):
        if child.pk == child_id:
            return child
    raise Http404("Enfant introuvable.")


def _month_url(child, day):
    return (
        reverse("reservations:month", args=[child.pk, day.year, day.month])
        + f"#jour-{day.isoformat()}"
    )


def _render_month(request, child, children, year, month):
    today = timezone.localdate()
    view = agenda.month_view(child, year, month, today, family=request.family)
    return render(
        request,
        "reservations/agenda_month.html",
        {"view": view, "child": child, "children": children, "weekdays": agenda.WEEKDAYS},
    )


@require_GET
@family_required
def agenda_home(request):
    """The agenda of the family's first child, this month."""
    children = _children(request)
    if not children:
        messages.info(request, "Ajoutez d'abord votre enfant dans « Mon foyer » pour réserver.")
        return redirect("families:family_detail")
    today = timezone.localdate()
    return _render_month(request, children[0], children, today.year, today.month)


@require_GET
@family_required
def month(request, child_id, year, month):
    """The agenda of one child for one month."""
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise Http404("Mois invalide.")
    children = _children(request)
    return _render_month(request, _child(request, child_id, children), children, year, month)


def _in_panel(request) -> bool:
    """Whether htmx asked for a piece of the month page's day panel (#panneau-jour); a plain
    request, or one from a page without that panel, gets a whole page."""
    htmx = request.htmx
    return bool(htmx) and not htmx.history_restore_request and htmx.target in (None, "panneau-jour")


def _render(request, template, partial, context, *, status=200):
    """The panel's piece for htmx, or the whole page; both from the same URL, hence Vary."""
    in_panel = _in_panel(request)
    context["in_panel"] = in_panel
    response = render(request, partial if in_panel else template, context, status=status)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _panel_response(request, child, day, *, form=None, result=None, confirm=None, status=200):
    today = timezone.localdate()
    panel = agenda.day_panel(child, day, today, family=request.family)
    context = {
        "panel": panel,
        "child": child,
        "result": result,
        "form": form,
        "confirm": confirm,
    }
    return _render(
        request,
        "reservations/day_panel.html",
        "reservations/_day_panel.html",
        context,
        status=status,
    )


@require_http_methods(["GET", "POST"])
@family_required
def day(request, child_id, day):
    """The day panel of a child (GET), or saving the créneaux ticked on it (POST). Removing a
    booked créneau takes a second step that says what will be removed."""
    child = _child(request, child_id)
    if request.method == "GET":
        return _panel_response(request, child, day)
    if "liste_attente" in request.POST or "quitter_attente" in request.POST:
        # The waiting list's buttons sit in the day's form: join or leave, then the day again.
        waitlist_views.day_action(request, child, day)
        if _in_panel(request):
            return _panel_response(request, child, day)
        return redirect(_month_url(child, day))
    slots = [s for s in agenda.active_slots() if s.runs_on_weekday(day)]
    form = DayForm(request.POST, slots=slots)
    if not form.is_valid():
        return _panel_response(
            request, child, day, form=form, status=200 if _in_panel(request) else 400
        )
    if form.needs_confirmation():
        return _panel_response(request, child, day, confirm=_confirmation(form, day))
    result = services.day_save(
        child=child,
        day=day,
        wanted=form.ids("creneau"),
        editable=form.ids("modifiables"),
        rendered=form.ids("reserves"),
        shown=form.ids("affiches"),
        by=request.user,
        today=timezone.localdate(),
        family=request.family,
    )
    if _in_panel(request):
        return _panel_response(request, child, day, result=result)
    for level, text in _result_messages(result, day):
        messages.add_message(request, level, text)
    return redirect(_month_url(child, day))


def _confirmation(form, day):
    """The second step of a save that removes booked créneaux: what goes, what comes, and the
    submitted fields to send again with « confirmer »."""
    data = form.cleaned_data
    return {
        "removed": form.removed(),
        "added": form.added(),
        "fields": [
            (name, value)
            for name in ("affiches", "reserves", "modifiables", "creneau")
            for value in data.get(name, [])
        ],
    }


def _result_messages(result, day):
    """The day-save outcome as (level, text) messages, in French."""
    out = []
    when = f"{day:%d/%m/%Y}"
    if result.created:
        out.append(
            (
                messages.SUCCESS,
                f"Réservé le {when} : " + ", ".join(str(s) for s in result.created) + ".",
            )
        )
    if result.cancelled:
        out.append(
            (
                messages.SUCCESS,
                f"Supprimé le {when} : " + ", ".join(str(s) for s in result.cancelled) + ".",
            )
        )
    for slot, why in result.refused:
        out.append((messages.ERROR, f"{slot} : non modifié. {why}"))
    if result.changed_meanwhile:
        out.append(
            (
                messages.WARNING,
                "Un autre responsable du foyer a modifié cette journée pendant que vous la "
                "consultiez : ses changements sont conservés, vérifiez la journée ci-dessous.",
            )
        )
    for slot, why in result.already:
        out.append((messages.INFO, f"{slot} : {why}."))
    if not out:
        out.append(
            (messages.INFO, "Aucun changement : cochez ou décochez un créneau, puis enregistrez.")
        )
    return out


@require_GET
@family_required
def booking_detail(request, pk):
    """One booking of the family, with what may still be done with it."""
    booking = get_object_or_404(
        Booking.objects.for_family(request.family).select_related("child", "slot__activity"), pk=pk
    )
    today = timezone.localdate()
    context = {
        "booking": booking,
        "can_delete": booking.is_active and is_modifiable(booking.date, today),
        "can_declare_absence": booking.is_active
        and not is_modifiable(booking.date, today)
        and booking.date >= today - datetime.timedelta(days=services.ABSENCE_LOOKBACK_DAYS)
        and booking.absence_id is None
        and booking.presence != Booking.Presence.PRESENT,
    }
    return _render(
        request, "reservations/booking_detail.html", "reservations/_booking_detail.html", context
    )


@require_http_methods(["GET", "POST"])
@family_required
def booking_delete(request, pk):
    """Supprimer: the confirmation, a page or the panel's piece (GET), then the cancellation
    (POST)."""
    booking = get_object_or_404(
        Booking.objects.for_family(request.family).select_related("child", "slot__activity"), pk=pk
    )
    if request.method == "GET":
        can_delete = booking.is_active and is_modifiable(booking.date, timezone.localdate())
        return _render(
            request,
            "reservations/booking_delete.html",
            "reservations/_booking_delete.html",
            {"booking": booking, "can_delete": can_delete},
        )
    try:
        services.booking_cancel(booking=booking, by=request.user, today=timezone.localdate())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        if _in_panel(request):
            return _panel_response(request, booking.child, booking.date)
        return redirect(booking)
    if _in_panel(request):
        result = services.DayResult(cancelled=[booking.slot])
        return _panel_response(request, booking.child, booking.date, result=result)
    messages.success(
        request,
        f"La réservation n° {booking.number} ({booking.slot}, le {booking.date:%d/%m/%Y}) est supprimée.",
    )
    return redirect(_month_url(booking.child, booking.date))


@require_http_methods(["GET", "POST"])
@family_required
def bulk_entry(request):
    """Saisie groupée: the form, its preview, then the confirmation."""
    today = timezone.localdate()
    step = request.POST.get("etape", "apercu")
    form = BulkForm(
        request.POST or None, family=request.family, initial=_bulk_initial(request, today)
    )
    if request.method == "POST" and step != "modifier" and form.is_valid():
        bulk_request = form.bulk_request()
        if step == "confirmer":
            outcome = bulk.apply(
                bulk_request,
                by=request.user,
                today=today,
                preview_token=request.POST.get("apercu", ""),
                waitlist_family=request.family if request.POST.get("liste_attente") else None,
            )
            return render(
                request,
                "reservations/bulk_result.html",
                {"form": form, "outcome": outcome, "plan": outcome.plan},
            )
        plan = bulk.plan(bulk_request, today=today)
        return render(request, "reservations/bulk_preview.html", {"form": form, "plan": plan})
    return render(
        request,
        "reservations/bulk_form.html",
        {"form": form, "first_modifiable": first_modifiable_day(today)},
    )


def _bulk_initial(request, today):
    start = first_modifiable_day(today)
    return {
        "du": start,
        "au": start + datetime.timedelta(days=13),
        "action": bulk.CREATE,
        "periodicite": "",
    }


@require_http_methods(["GET", "POST"])
@family_required
def absence_create(request, child_id):
    """Declare an absence of a child (illness) for booked days past the deadline."""
    child = _child(request, child_id)
    today = timezone.localdate()
    start = _date_param(request.GET.get("du")) or today
    form = AbsenceForm(
        request.POST or None, request.FILES or None, initial={"du": start, "au": start}
    )
    if request.method == "POST" and form.is_valid():
        try:
            absence, marked, cancelled = services.absence_declare(
                child=child,
                start=form.cleaned_data["du"],
                end=form.cleaned_data["au"],
                reason=form.cleaned_data["motif"],
                certificate=form.cleaned_data.get("certificat"),
                by=request.user,
                today=today,
                family=request.family,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            text = f"Absence de {child.first_name} signalée : {marked} réservation{'s' if marked > 1 else ''} en attente de la décision du pôle administratif."
            if cancelled:
                text += f" {cancelled} réservation{'s' if cancelled > 1 else ''} encore modifiable{'s' if cancelled > 1 else ''} supprimée{'s' if cancelled > 1 else ''}."
            messages.success(request, text)
            return redirect(absence)
    return render(request, "reservations/absence_form.html", {"form": form, "child": child})


def _date_param(value):
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@require_http_methods(["GET", "POST"])
@family_required
def absence_detail(request, pk):
    """One declared absence, its bookings, and the form to send the medical certificate."""
    absence = get_object_or_404(
        Absence.objects.for_family(request.family).select_related("child"), pk=pk
    )
    form = CertificateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.absence_add_certificate(
                absence=absence, certificate=form.cleaned_data["certificat"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Le certificat médical est transmis au pôle administratif.")
            return redirect(absence)
    bookings = absence.bookings.select_related("slot__activity").order_by("date", "slot__position")
    return render(
        request,
        "reservations/absence_detail.html",
        {"absence": absence, "bookings": bookings, "form": form},
    )


@require_GET
@family_required
def absence_certificate(request, pk):
    """Download the medical certificate of one of the family's absences."""
    absence = get_object_or_404(Absence.objects.for_family(request.family), pk=pk)
    if not absence.certificate:
        raise Http404("Aucun certificat.")
    return serve_private_file(
        absence.certificate,
        download_name=absence.certificate_name or "certificat",
        content_type=absence.certificate_type or "application/octet-stream",
    )
