"""Workflows of the reservations: saving a day, cancelling, staff bookings, closures, absences,
attendance. Keyword-only, atomic; every write re-checks the rules on the server (deadline,
calendar, enrolment, places) under the créneau's lock, whatever the page showed."""

import datetime
import logging
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from exchanges.services import notify_family

from . import capacity, waitlist
from .attendance import OVERRIDE_PERMISSION, WalkInRules, child_name, decided_by_office
from .availability import Availability, Reason
from .calendar import all_slots, ensure_calendar
from .capacity import Capacities, taken_places
from .deadlines import is_modifiable
from .models import Absence, Booking, Closure, Slot, WaitlistEntry

logger = logging.getLogger(__name__)

ABSENCE_LOOKBACK_DAYS = 31  # how far back a parent may declare an illness


def _refused_write(what: str, *, by, child, slot, day, reason):
    """Log a write the server refused although the page would not have offered it (a forged or
    stale POST): the deadline is enforced here, whatever the browser sent."""
    logger.warning(
        "Refused %s: %s (user=%s child=%s slot=%s day=%s)",
        what,
        reason,
        getattr(by, "pk", None),
        child.pk,
        getattr(slot, "code", slot),
        day.isoformat(),
    )


@dataclass
class DayResult:
    """What ENREGISTRER did on a day, to tell the parent."""

    created: list = field(default_factory=list)  # slots
    cancelled: list = field(default_factory=list)  # slots
    refused: list = field(default_factory=list)  # (slot, French explanation)
    already: list = field(default_factory=list)  # (slot, French explanation): done meanwhile
    changed_meanwhile: bool = False  # another guardian changed this day since it was shown

    @property
    def changed(self) -> bool:
        return bool(self.created or self.cancelled)


def _new_booking(child, slot, day, *, by, origin, now, family=None, **extra) -> Booking:
    """A booking of `child` made for `family` (its own family unless named: résidence
    alternée), not saved yet."""
    return Booking(
        child=child,
        family_id=family.pk if family is not None else child.family_id,
        slot=slot,
        date=day,
        school_id=child.school_id,
        origin=origin,
        created_by=by,
        created_at=now,
        **extra,
    )


def _cancel(bookings, *, by, now, reason="") -> int:
    """Cancel those of `bookings` that may still be cancelled, in one UPDATE; returns how many
    were cancelled."""
    return Booking.objects.filter(pk__in=[b.pk for b in bookings]).move_to(
        Booking.Status.CANCELLED, cancelled_at=now, cancelled_by=by, cancel_reason=reason
    )


def day_save(
    *, child, day: datetime.date, wanted, editable, rendered, shown, by, today, family=None
) -> DayResult:
    """Apply the créneaux the parent toggled on the day panel, in one transaction.

    `shown` are the créneaux the panel listed, `rendered` those it showed as booked, `editable`
    those it offered to change, `wanted` those ticked on submit. Only the toggled editable
    créneaux change; each is re-checked under lock. A créneau another guardian has meanwhile
    put in the wanted state is left alone and reported, never overwritten. `family` is the
    household saving (the child's own unless named): it changes only its own bookings, never
    the other household's of a child in résidence alternée."""
    wanted, editable, rendered, shown = (set(x) for x in (wanted, editable, rendered, shown))
    toggled_on = (wanted - rendered) & editable & shown
    toggled_off = (rendered - wanted) & editable & shown
    result = DayResult()
    slots = {slot.pk: slot for slot in all_slots() if slot.pk in shown}
    if not (toggled_on | toggled_off):
        return result
    now = timezone.now()
    ensure_calendar(day, day)  # outside the transaction: loading a year must not hold its lock
    with transaction.atomic():
        if child.school_id:
            capacity.lock((pk, child.school_id, day) for pk in sorted(toggled_on | toggled_off))
        availability = Availability([child], slots.values(), day, day, today, family=family)
        current = {pk for pk in slots if availability.booking(child, slots[pk], day)}
        result.changed_meanwhile = current != (rendered & set(slots))
        day_state = _DayState(child, day, slots, availability, current, family)
        to_create = _day_bookings_to_create(day_state, toggled_on, result, by=by, now=now)
        to_cancel = _day_bookings_to_cancel(day_state, toggled_off, result, by=by)
        Booking.objects.bulk_create(to_create)
        _cancel(to_cancel, by=by, now=now)
        if to_cancel:  # the places freed go to the children waiting for them
            waitlist.fill([(b.slot_id, b.school_id, b.date) for b in to_cancel], today=today)
    return result


@dataclass
class _DayState:
    """A child's day as read under the créneaux' lock: the créneaux shown, what is booked."""

    child: object
    day: datetime.date
    slots: dict  # slot id → Slot
    availability: Availability
    current: set  # ids of the créneaux booked now
    family: object = None  # the household saving (None: the child's own family)


def _day_bookings_to_create(state: _DayState, toggled_on, result: DayResult, *, by, now) -> list:
    """The bookings to insert for the créneaux ticked on the panel, each re-checked (deadline,
    enrolment, places) and its place taken; the others are reported in `result`."""
    child, day, availability = state.child, state.day, state.availability
    to_create = []
    for pk in sorted(toggled_on):
        slot = state.slots.get(pk)
        if slot is None:
            continue
        if availability.is_other_household(availability.booking(child, slot, day)):
            result.refused.append((slot, "Réservé entre-temps par l'autre foyer."))
            continue
        if pk in state.current:
            result.already.append((slot, "déjà réservé entre-temps par un autre responsable"))
            continue
        reason = availability.book_refusal(child, slot, day)
        if reason:
            if reason == Reason.DEADLINE:
                _refused_write("booking", by=by, child=child, slot=slot, day=day, reason=reason)
            result.refused.append((slot, availability.explain(reason, child, slot, day)))
            continue
        availability.take(slot, child.school_id, day)
        to_create.append(
            _new_booking(
                child, slot, day, by=by, origin=Booking.Origin.PARENT, now=now, family=state.family
            )
        )
        result.created.append(slot)
    return to_create


def _day_bookings_to_cancel(state: _DayState, toggled_off, result: DayResult, *, by) -> list:
    """The bookings to cancel for the créneaux unticked on the panel, each re-checked
    (deadline); the others are reported in `result`."""
    child, day, availability = state.child, state.day, state.availability
    to_cancel = []
    for pk in sorted(toggled_off):
        slot = state.slots.get(pk)
        if slot is None:
            continue
        if pk not in state.current:
            result.already.append((slot, "déjà supprimé entre-temps par un autre responsable"))
            continue
        reason = availability.cancel_refusal(child, slot, day)
        if reason:
            _refused_write("cancellation", by=by, child=child, slot=slot, day=day, reason=reason)
            result.refused.append((slot, availability.explain(reason, child, slot, day)))
            continue
        to_cancel.append(availability.booking(child, slot, day))
        result.cancelled.append(slot)
    return to_cancel


@transaction.atomic
def booking_cancel(*, booking: Booking, by, today, staff=False) -> Booking:
    """Cancel one booking ("Supprimer"). Parents only until the deadline; staff with the
    permission at any time, which is recorded as past the deadline."""
    capacity.lock([(booking.slot_id, booking.school_id, booking.date)])
    booking = Booking.objects.select_related("child", "slot").get(pk=booking.pk)
    if not booking.is_active:
        raise ValidationError("Cette réservation est déjà annulée.")
    past_deadline = not is_modifiable(booking.date, today)
    if past_deadline and not staff:
        _refused_write(
            "cancellation",
            by=by,
            child=booking.child,
            slot=booking.slot,
            day=booking.date,
            reason=Reason.DEADLINE,
        )
        raise ValidationError(
            "Le délai est dépassé : une réservation se supprime au plus tard 3 jours ouvrés avant."
        )
    booking.cancel(by=by, now=timezone.now(), past_deadline=past_deadline)
    booking.save(
        update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason", "past_deadline"]
    )
    waitlist.fill([(booking.slot_id, booking.school_id, booking.date)], today=today)
    return booking


UNLINK_REASON = "Second foyer retiré par le pôle administratif"


def second_household_removed(*, child, family, by, today: datetime.date, **signal) -> int:
    """The office removed `family` as the second household of `child` (résidence alternée):
    in the transaction that removed the link, cancel that household's active bookings of the
    child on the days after `today` as a staff cancellation does (past the deadline too,
    recorded), take the child out of the household's waiting lines, give the freed places to
    the children waiting for them, and tell the household in « Échanges ». Past days and
    today stay as they were (invoiced as booked). Returns how many bookings were cancelled."""
    bookings = list(
        Booking.objects.active()
        .filter(child=child, family=family, date__gt=today)
        .order_by("date", "slot__start_time")
    )
    entries = list(WaitlistEntry.objects.waiting().filter(child=child, family=family))
    keys = [(b.slot_id, b.school_id, b.date) for b in bookings]
    capacity.lock(keys + [entry.key for entry in entries])
    now = timezone.now()
    # The entries leave first: a place freed here must not go back to this household.
    WaitlistEntry.objects.waiting().filter(pk__in=[e.pk for e in entries]).update(
        status=WaitlistEntry.Status.DROPPED, closed_at=now, note=UNLINK_REASON
    )
    cancel = {"cancelled_at": now, "cancelled_by": by, "cancel_reason": UNLINK_REASON}
    late = [b.pk for b in bookings if not is_modifiable(b.date, today)]
    in_time = [b.pk for b in bookings if b.pk not in set(late)]
    # Past the deadline is recorded, as for any staff cancellation (never unset).
    cancelled = Booking.objects.filter(pk__in=late).move_to(
        Booking.Status.CANCELLED, past_deadline=True, **cancel
    )
    cancelled += Booking.objects.filter(pk__in=in_time).move_to(Booking.Status.CANCELLED, **cancel)
    if bookings:
        waitlist.fill(keys, today=today)
    _tell_unlinked(child, family, sorted({b.date for b in bookings}), len(entries))
    return cancelled


def _tell_unlinked(child, family, days, left_lines: int) -> None:
    first_name = child.first_name
    linked = waitlist.agreed(child, "rattaché")
    if days:
        count = f"{len(days)} jour{'s' if len(days) > 1 else ''}"
        cancelled = (
            f"Les réservations que votre foyer avait faites pour {first_name} à partir de "
            f"demain sont annulées, soit {count} : "
            + ", ".join(waitlist.day_label(day) for day in days)
            + ". Elles ne vous seront pas facturées ; les jours passés restent facturés comme "
            "réservés."
        )
    else:
        cancelled = f"Votre foyer n'avait aucune réservation à venir pour {first_name}."
    lines = (
        f" {first_name} quitte aussi les listes d'attente où votre foyer l'avait "
        f"{waitlist.agreed(child, 'inscrit')}."
        if left_lines
        else ""
    )
    notify_family(
        family=family,
        subject=f"Résidence alternée : {first_name} n'est plus {linked} à votre foyer",
        body=(
            f"Bonjour,\n\nLe pôle administratif a retiré le rattachement de {first_name} à "
            f"votre foyer (résidence alternée) : vous ne pouvez plus réserver pour "
            f"{first_name}.\n\n{cancelled}{lines}\n\nLe pôle administratif"
        ),
    )


def staff_book_check(
    *, child, slot: Slot, day: datetime.date, by, today, exceed_capacity=False, availability=None
) -> bool:
    """Raise why staff may not book `child` on `slot` on `day`; returns True when the booking
    would exceed the capacity (allowed only when asked by someone with the permission)."""
    if exceed_capacity and not by.has_perm("reservations.exceed_capacity"):
        raise PermissionDenied("Vous n'avez pas le droit de dépasser la capacité d'un créneau.")
    if not is_modifiable(day, today) and not by.has_perm("reservations.book_past_deadline"):
        raise PermissionDenied(
            "Vous n'avez pas le droit de réserver après le délai de 3 jours ouvrés."
        )
    availability = availability or Availability([child], [slot], day, day, today)
    reason = availability.book_refusal(child, slot, day, check_deadline=False)
    if reason == Reason.FULL and exceed_capacity:
        return True
    if reason:
        raise ValidationError(availability.explain(reason, child, slot, day))
    return False


@transaction.atomic
def staff_book(
    *, child, slot: Slot, day: datetime.date, by, today, exceed_capacity=False, family=None
) -> Booking:
    """Book a child for a family from the admin: past the deadline too (recorded), and beyond
    the capacity only when asked explicitly by someone allowed to (recorded). `family`: the
    household booked and invoiced (the child's own unless named: résidence alternée)."""
    if child.school_id:
        capacity.lock([(slot.pk, child.school_id, day)])
    over = staff_book_check(
        child=child, slot=slot, day=day, by=by, today=today, exceed_capacity=exceed_capacity
    )
    booking = _new_booking(
        child,
        slot,
        day,
        by=by,
        origin=Booking.Origin.STAFF,
        now=timezone.now(),
        past_deadline=not is_modifiable(day, today),
        over_capacity=over,
        family=family,
    )
    booking.save()
    return booking


@transaction.atomic
def closure_apply(*, closure: Closure, by=None) -> int:
    """Cancel the active bookings a closure covers, with its reason, and tell each family
    concerned once. Safe to call again (after the closure is extended, say): bookings already
    cancelled are left alone and families are told only about what this call cancelled."""
    bookings = Booking.objects.active().filter(date__range=(closure.start_date, closure.end_date))
    if closure.school_id:
        bookings = bookings.filter(school=closure.school_id)
    if closure.activity_id:
        bookings = bookings.filter(slot__activity=closure.activity_id)
    bookings = list(
        bookings.select_related("family", "child", "slot")
        .select_for_update(of=("self",))
        .order_by("family", "date", "slot__position")
    )
    if not bookings:
        return 0
    Booking.objects.filter(pk__in=[b.pk for b in bookings]).move_to(
        Booking.Status.CANCELLED_BY_CLOSURE,
        closure=closure,
        cancelled_at=timezone.now(),
        cancelled_by=by,
        cancel_reason=closure.reason[:200],
    )
    by_family = {}
    for booking in bookings:
        # Each household hears of its own bookings only (résidence alternée).
        by_family.setdefault(booking.family, []).append(booking)
    for family, cancelled in by_family.items():
        lines = "\n".join(
            f"- {b.child.first_name} : {b.slot.activity} ({b.slot}) le {b.date:%d/%m/%Y}"
            for b in cancelled
        )
        notify_family(
            family=family,
            subject=f"Fermeture {closure.period_label} : réservations annulées",
            body=(
                f"Bonjour,\n\nEn raison de la fermeture suivante : « {closure.reason} » "
                f"({closure.scope_label}, {closure.period_label}), les réservations ci-dessous "
                f"sont annulées :\n\n{lines}\n\nElles ne vous seront pas facturées.\n\n"
                "Le pôle administratif"
            ),
            related=closure,
        )
    return len(bookings)


@transaction.atomic
def absence_declare(
    *,
    child,
    start: datetime.date,
    end: datetime.date,
    reason: str,
    certificate=None,
    by,
    today,
    family=None,
) -> tuple[Absence, int, int]:
    """A parent declares an absence (illness) for booked days. Bookings past the deadline are
    marked absent and wait for the office's decision; those still modifiable are simply
    cancelled, as the parent could do on the agenda. Returns (absence, marked, cancelled).
    `family`: the household declaring (the child's own unless named), for its own bookings."""
    family_id = family.pk if family is not None else child.family_id
    if end < start:
        raise ValidationError("La fin de l'absence doit suivre son début.")
    if start < today - datetime.timedelta(days=ABSENCE_LOOKBACK_DAYS):
        raise ValidationError(
            f"Une absence se signale dans les {ABSENCE_LOOKBACK_DAYS} jours : pour une date plus "
            "ancienne, écrivez au pôle administratif depuis « Échanges »."
        )
    if (end - start).days > 62:
        raise ValidationError("Une absence couvre au plus deux mois.")
    bookings = list(
        Booking.objects.active()
        .filter(child=child, family_id=family_id, date__range=(start, end), absence__isnull=True)
        .exclude(origin=Booking.Origin.WALK_IN)
        .exclude(presence=Booking.Presence.PRESENT)
        .select_for_update(of=("self",))
    )
    late = [b for b in bookings if not is_modifiable(b.date, today)]
    early = [b for b in bookings if is_modifiable(b.date, today)]
    if not late:
        if early:
            raise ValidationError(
                "Ces jours sont encore modifiables : supprimez simplement les réservations "
                "depuis l'agenda."
            )
        raise ValidationError(f"{child.first_name} n'a aucune réservation sur cette période.")
    absence = Absence(
        child=child,
        family_id=family_id,
        start_date=start,
        end_date=end,
        reason=reason,
        declared_by=by,
    )
    if certificate:
        absence.certificate = certificate
        absence.certificate_name = certificate.display_name
        absence.certificate_type = certificate.kind.content_type
    absence.save()
    Booking.objects.filter(pk__in=[b.pk for b in late]).update(
        absence=absence, presence=Booking.Presence.ABSENT
    )
    _cancel(early, by=by, now=timezone.now(), reason="Absence signalée")
    waitlist.fill([(b.slot_id, b.school_id, b.date) for b in early], today=today)
    return absence, len(late), len(early)


@transaction.atomic
def absence_add_certificate(*, absence: Absence, certificate) -> Absence:
    """Attach the medical certificate to an absence the office has not decided yet."""
    if absence.status != Absence.Status.PENDING:
        raise ValidationError("Le pôle administratif a déjà traité cette absence.")
    absence.certificate = certificate
    absence.certificate_name = certificate.display_name
    absence.certificate_type = certificate.kind.content_type
    absence.save(update_fields=["certificate", "certificate_name", "certificate_type"])
    return absence


@transaction.atomic
def absence_decide(*, absence: Absence, excused: bool, by, note: str = "") -> Absence:
    """The office excuses the absence (its bookings are then not billed) or not, and the family
    is told."""
    absence = (
        Absence.objects.select_for_update().select_related("child", "family").get(pk=absence.pk)
    )
    status = Absence.Status.EXCUSED if excused else Absence.Status.NOT_EXCUSED
    absence.set_status(status, by=by, now=timezone.now())
    if note:
        absence.office_note = note
    absence.save()
    absence.bookings.filter(status=Booking.Status.VALIDATED).update(
        presence=Booking.Presence.EXCUSED if excused else Booking.Presence.ABSENT
    )
    verdict = (
        "excusée : elle ne vous sera pas facturée"
        if excused
        else ("non excusée : les créneaux réservés restent facturés")
    )
    notify_family(
        family=absence.family,
        subject=f"Absence de {absence.child.first_name} {absence.period_label}",
        body=(
            f"Bonjour,\n\nL'absence de {absence.child.first_name} {absence.period_label} est "
            f"{verdict}."
            + (f"\n\n{absence.office_note}" if absence.office_note else "")
            + "\n\nLe pôle administratif"
        ),
        related=absence,
    )
    return absence


ATTENDANCE_MARKS = {
    Booking.Presence.PRESENT,
    Booking.Presence.ABSENT,
    Booking.Presence.EXCUSED,
    Booking.Presence.RESERVED,
}


def attendance_mark(*, booking: Booking, presence: str, by) -> Booking:
    """The animateur's tap: présent, absent, absent excusé (not billed), or back to « non
    pointé » after a wrong tap. An absence the office has decided on stays as decided."""
    if presence not in ATTENDANCE_MARKS:
        raise ValidationError("Choisissez présent, absent ou absent excusé.")
    if not booking.is_active:
        raise ValidationError("Cette réservation est annulée.")
    if decided_by_office(booking):
        raise ValidationError(
            f"L'absence de {child_name(booking.child)} a déjà été traitée par le pôle "
            "administratif : son pointage ne se modifie plus ici."
        )
    now = timezone.now()
    decided = Absence.objects.exclude(status=Absence.Status.PENDING)
    Booking.objects.filter(pk=booking.pk, status=Booking.Status.VALIDATED).exclude(
        absence__in=decided
    ).update(presence=presence, presence_marked_at=now, presence_marked_by=by)
    booking.presence, booking.presence_marked_at, booking.presence_marked_by = presence, now, by
    return booking


@transaction.atomic
def walk_in_add(
    *, child, school, slot: Slot, day: datetime.date, by, today, override_reason=None
) -> Booking:
    """A child present without booking, added to the register of `slot` at `school`: recorded
    as a walk-in, present, billable; allowed when the créneau is full (recorded).

    Only a child the register may take (see WalkInRules), unless `override_reason` is given by
    staff allowed to add by derogation: a child without an accepted enrolment or of another
    school is then added, recording who, why and which rule was set aside."""
    capacity.lock([(slot.pk, school.pk, day)])
    refusal = WalkInRules(school, slot, day, today, [child]).refusal(child)
    may_override = by.has_perm(OVERRIDE_PERMISSION)
    if refusal and (override_reason is None or not refusal.overridable):
        _refused_write("walk-in", by=by, child=child, slot=slot, day=day, reason=refusal.message)
        advice = ""
        if refusal.overridable:
            advice = (
                " Pour l'ajouter malgré tout, utilisez l'ajout par dérogation, avec son motif."
                if may_override
                else " Seul le pôle administratif peut l'ajouter par dérogation."
            )
        raise ValidationError(f"Ajout refusé : {refusal.message}{advice}")
    if refusal:
        if not may_override:
            _refused_write(
                "walk-in override", by=by, child=child, slot=slot, day=day, reason="no permission"
            )
            raise PermissionDenied("Vous n'avez pas le droit d'ajouter un enfant par dérogation.")
        if not override_reason.strip():
            raise ValidationError("Indiquez le motif de la dérogation.")
    places = Capacities([slot], [school.pk], day, day).places(slot.pk, school.pk, day)
    taken = taken_places([slot.pk], [school.pk], day, day)[(slot.pk, school.pk, day)]
    now = timezone.now()
    booking = Booking(
        child=child,
        slot=slot,
        date=day,
        school=school,
        origin=Booking.Origin.WALK_IN,
        created_by=by,
        created_at=now,
        presence=Booking.Presence.PRESENT,
        presence_marked_at=now,
        presence_marked_by=by,
        over_capacity=taken >= places,
    )
    if refusal:
        booking.override_by = by
        booking.override_reason = override_reason.strip()
        booking.override_rule = refusal.message[:1].upper() + refusal.message[1:]
    booking.save()
    return booking
