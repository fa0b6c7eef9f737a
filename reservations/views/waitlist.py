"""The family's waiting lists: joining from the day panel, the list of the family's places in
line, leaving a line. Every lookup goes through the family's querysets (another family's entry is
a 404); every write goes through `reservations.waitlist`, under the lines' lock."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from families.decorators import family_required

from .. import waitlist
from ..deadlines import is_modifiable
from ..models import Slot, WaitlistEntry


def day_action(request, child, day) -> None:
    """The day panel's « M'inscrire en liste d'attente » (`liste_attente`: the créneau) or
    « Quitter la liste d'attente » (`quitter_attente`: the entry); the outcome goes to the
    messages, which the day's panel or page shows."""
    try:
        if "quitter_attente" in request.POST:
            entry = _entry(request, request.POST.get("quitter_attente"))
            waitlist.leave(entry=entry, by=request.user)
            messages.success(
                request,
                f"{child.first_name} ne fait plus partie de la liste d'attente pour "
                f"« {entry.slot} » le {day:%d/%m/%Y}.",
            )
        else:
            slot = _slot(request.POST.get("liste_attente"), day)
            entry = waitlist.join(
                child=child,
                slot=slot,
                day=day,
                by=request.user,
                today=timezone.localdate(),
                family=request.family,
            )
            rank = WaitlistEntry.objects.with_rank().get(pk=entry.pk).rank
            messages.success(
                request,
                f"{child.first_name} est {waitlist.agreed(child, 'inscrit')} en liste "
                f"d'attente pour « {slot} » le {day:%d/%m/%Y} : {waitlist.rank_label(rank)}. "
                "Vous serez prévenu(e) dans « Échanges » et par e-mail si une place se libère.",
            )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))


def _slot(value, day):
    slot = Slot.objects.active().select_related("activity").filter(pk=_int(value)).first()
    if slot is None or not slot.runs_on_weekday(day):
        raise ValidationError("Ce créneau n'est pas proposé ce jour-là : rechargez la page.")
    return slot


def _entry(request, value):
    entry = (
        WaitlistEntry.objects.for_family(request.family)
        .select_related("child", "slot")
        .filter(pk=_int(value))
        .first()
    )
    if entry is None:
        raise ValidationError("Cette inscription en liste d'attente est introuvable.")
    return entry


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@require_GET
@family_required
def waitlist_list(request):
    """Mes listes d'attente: each child waiting, on which créneau and day, and its place."""
    today = timezone.localdate()
    entries = list(
        WaitlistEntry.objects.for_family(request.family)
        .waiting()
        .filter(date__gte=today)
        .with_rank()
        .select_related("child", "slot__activity")
        .order_by("date", "slot__position", "child__first_name")
    )
    for entry in entries:
        entry.modifiable = is_modifiable(entry.date, today)
        entry.rank_label = waitlist.rank_label(entry.rank)
    return render(request, "reservations/waitlist_list.html", {"entries": entries})


@require_http_methods(["GET", "POST"])
@family_required
def waitlist_leave(request, pk):
    """Quitter la liste d'attente: the confirmation (GET), then leaving (POST)."""
    entry = get_object_or_404(
        WaitlistEntry.objects.for_family(request.family)
        .with_rank()
        .select_related("child", "slot__activity"),
        pk=pk,
    )
    if request.method == "GET":
        entry.rank_label = waitlist.rank_label(entry.rank)
        return render(request, "reservations/waitlist_leave.html", {"entry": entry})
    try:
        waitlist.leave(entry=entry, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"{entry.child.first_name} ne fait plus partie de la liste d'attente pour "
            f"« {entry.slot} » le {entry.date:%d/%m/%Y}.",
        )
    return redirect("reservations:waitlist")
