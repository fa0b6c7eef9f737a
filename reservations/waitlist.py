"""The waiting list (« liste d'attente »): children waiting for a place on a full créneau.

A line is one (créneau, school, day). A parent joins it when the créneau is full for the child;
when a place frees — a cancellation, a capacity raised, a closure lifted, a booking removed by
staff — `fill` books the first children in line whose day can still be booked (the 3-working-day
rule) and who may be booked (enrolment, school, closures: the rules of any booking), and tells
their family in « Échanges » (and by e-mail, through the outbox). A line whose day is past the
deadline empties, each family told. The nightly `sweep` does the same for every line.

Every change to a line happens under the lock of its (créneau, school, day) row
(`capacity.lock`), the one every booking takes: the place counted free is still free when the
child in line takes it, and two freed places never book the same child.
"""

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from exchanges.services import notify_family

from . import capacity
from .availability import Availability, Reason
from .calendar import ensure_calendar
from .deadlines import MIN_WORKING_DAYS, is_modifiable, last_day_to_modify, nth_working_day_after
from .models import WEEKDAY_NAMES, Booking, Slot, WaitlistEntry

logger = logging.getLogger(__name__)

Key = tuple[int, int, datetime.date]  # (slot id, school id, date)


def day_label(day: datetime.date) -> str:
    """« lundi 07/12/2026 »."""
    return f"{WEEKDAY_NAMES[day.weekday()].lower()} {day:%d/%m/%Y}"


def rank_label(rank: int) -> str:
    """A place in line as French writes it: « 1re place », « 2e place »."""
    return f"{rank}{'re' if rank == 1 else 'e'} place"


def agreed(child, word: str) -> str:
    """`word` agreeing with the child: « inscrite » for a girl, « inscrit » for a boy,
    « inscrit(e) » when the record does not say."""
    return word + {"F": "e", "M": ""}.get(child.sex, "(e)")


def _family_of(child):
    return child.family


# Joining and leaving ----------------------------------------------------------------------


def join(*, child, slot: Slot, day: datetime.date, by, today, family=None) -> WaitlistEntry:
    """Put `child` in line for `slot` on `day`, at the end. Refused (ValidationError, in French)
    when the child could be booked now (book instead), when the day is past the deadline, when
    the child may not be booked there at all, or when it is already in that line."""
    family = family or _family_of(child)
    ensure_calendar(day, day)  # outside the transaction, as every booking does
    with transaction.atomic():
        if not child.school_id:
            raise ValidationError(
                "L'école de l'enfant n'est pas renseignée : complétez sa fiche dans « Mon foyer »."
            )
        capacity.lock([(slot.pk, child.school_id, day)])
        availability = Availability([child], [slot], day, day, today, family=family)
        _check_can_join(availability, child, slot, day)
        if WaitlistEntry.objects.waiting().filter(child=child, slot=slot, date=day).exists():
            raise ValidationError(
                f"{child.first_name} est déjà en liste d'attente pour « {slot} » le {day:%d/%m/%Y}."
            )
        entry = WaitlistEntry(
            child=child,
            family=family,
            slot=slot,
            date=day,
            school_id=child.school_id,
            position=_next_positions([(slot.pk, child.school_id, day)])[
                (slot.pk, child.school_id, day)
            ],
            created_by=by,
        )
        entry.save()
    return entry


def _check_can_join(availability: Availability, child, slot, day) -> None:
    reason = availability.book_refusal(child, slot, day)
    if reason is None:
        raise ValidationError(
            f"Il reste de la place sur « {slot} » le {day:%d/%m/%Y} : réservez directement "
            "ce créneau, sans liste d'attente."
        )
    if reason == Reason.FULL:
        return
    if reason == Reason.DEADLINE:
        raise ValidationError(
            "Délai dépassé : la liste d'attente d'un jour se rejoint, comme une réservation, au "
            f"plus tard 3 jours ouvrés avant, soit jusqu'au {last_day_to_modify(day):%d/%m/%Y}."
        )
    raise ValidationError(availability.explain(reason, child, slot, day))


def _next_positions(keys) -> dict:
    """The position after the last one of each line of `keys` (1 for an empty line): one
    query. Under the lines' lock."""
    keys = set(keys)
    rows = (
        WaitlistEntry.objects.filter(**_rectangle(keys))
        .values_list("slot", "school", "date")
        .annotate(last=Max("position"))
        .order_by()
    )
    last = {(slot, school, day): n for slot, school, day, n in rows}
    return {key: (last.get(key) or 0) + 1 for key in keys}


@dataclass
class JoinOutcome:
    """What « M'inscrire en liste d'attente » did for the full days of a saisie groupée."""

    joined: list = field(default_factory=list)  # bulk Items put in line
    already: list = field(default_factory=list)  # bulk Items already in line


def join_full_items(items, *, by, today, family) -> JoinOutcome:
    """Put in line every (child, créneau, day) of `items` — the full days of a bulk plan made
    under the lines' lock, which the caller holds — except those already in line. Two queries,
    whatever the number of days."""
    outcome = JoinOutcome()
    items = [item for item in items if item.child.school_id]
    if not items:
        return outcome
    keys = {(item.slot.pk, item.child.school_id, item.day) for item in items}
    waiting = set(
        WaitlistEntry.objects.waiting()
        .filter(**_rectangle(keys), child__in={item.child.pk for item in items})
        .values_list("child", "slot", "date")
    )
    positions = _next_positions(keys)
    now = timezone.now()
    entries = []
    for item in sorted(items, key=lambda i: (i.day, i.slot.position, i.child.first_name)):
        if (item.child.pk, item.slot.pk, item.day) in waiting:
            outcome.already.append(item)
            continue
        key = (item.slot.pk, item.child.school_id, item.day)
        entries.append(
            WaitlistEntry(
                child=item.child,
                family=family,
                slot=item.slot,
                date=item.day,
                school_id=item.child.school_id,
                position=positions[key],
                created_by=by,
                created_at=now,
            )
        )
        positions[key] += 1
        outcome.joined.append(item)
    WaitlistEntry.objects.bulk_create(entries)
    return outcome


@transaction.atomic
def leave(*, entry: WaitlistEntry, by) -> WaitlistEntry:
    """The family takes the child out of the line. Refused once the child has left it (booked
    meanwhile, say)."""
    capacity.lock([entry.key])
    entry = WaitlistEntry.objects.select_related("child", "slot").get(pk=entry.pk)
    if not entry.is_waiting:
        raise ValidationError(
            f"{entry.child.first_name} n'est plus en liste d'attente pour « {entry.slot} » le "
            f"{entry.date:%d/%m/%Y} ({entry.get_status_display().lower()})."
        )
    entry.move_to(WaitlistEntry.Status.LEFT)
    entry.closed_at = timezone.now()
    entry.note = "Retiré par la famille"
    entry.save(update_fields=["status", "closed_at", "note"])
    return entry


@transaction.atomic
def move(*, entry: WaitlistEntry, up: bool) -> bool:
    """Staff move an entry one place up (or down) its line, swapping with its neighbour.
    Returns False when it is already first (or last) or no longer waiting."""
    capacity.lock([entry.key])
    line = list(_line_query([entry.key]))
    ids = [other.pk for other in line]
    if entry.pk not in ids:
        return False
    index = ids.index(entry.pk)
    other_index = index - 1 if up else index + 1
    if not 0 <= other_index < len(line):
        return False
    # Positions renumbered 1…n first, so that two equal positions never stop a swap.
    for number, item in enumerate(line, start=1):
        item.position = number
    line[index].position, line[other_index].position = (
        line[other_index].position,
        line[index].position,
    )
    WaitlistEntry.objects.bulk_update(line, ["position"])
    return True


# Places freed -----------------------------------------------------------------------------


def _rectangle(keys) -> dict:
    """A filter covering `keys` (créneaux × schools × dates between the first and last); rows
    outside `keys` are dropped by the caller."""
    keys = list(keys)
    return {
        "slot__in": {key[0] for key in keys},
        "school__in": {key[1] for key in keys},
        "date__range": (min(key[2] for key in keys), max(key[2] for key in keys)),
    }


def _line_query(keys):
    keys = set(keys)
    return [
        entry
        for entry in WaitlistEntry.objects.waiting()
        .filter(**_rectangle(keys))
        .select_related("child__family", "family", "slot__activity__service")
        .order_by("date", "slot", "school", "position", "pk")
        if entry.key in keys
    ]


def _waiting_entries(keys) -> list:
    """The entries waiting in the lines of `keys`, in order (read under their lock)."""
    return _line_query(keys)


@dataclass
class FillOutcome:
    booked: list = field(default_factory=list)  # entries booked
    expired: list = field(default_factory=list)  # entries out: day past the deadline
    dropped: list = field(default_factory=list)  # entries out: child no longer bookable there

    def __len__(self):
        return len(self.booked) + len(self.expired) + len(self.dropped)


def fill(keys, *, today: datetime.date) -> FillOutcome:
    """Book the first children in line on the lines of `keys` (slot id, school id, date) while
    places are free; empty the lines whose day is past the deadline. Call it in the transaction
    that freed the places: it takes the lines' lock (already held by a booking's write)."""
    outcome = FillOutcome()
    keys = set(keys)
    if not keys or not WaitlistEntry.objects.waiting().filter(**_rectangle(keys)).exists():
        return outcome  # the usual case: one query
    with transaction.atomic():
        capacity.lock(keys)
        entries = _waiting_entries(keys)
        if not entries:
            return outcome
        now = timezone.now()
        lines = defaultdict(list)
        for entry in entries:
            lines[entry.key].append(entry)
        dates = [key[2] for key in lines]
        availability = Availability(
            {entry.child for entry in entries},
            {entry.slot for entry in entries},
            min(dates),
            max(dates),
            today,
        )
        for key in sorted(lines, key=lambda k: (k[2], k[0], k[1])):
            _fill_line(lines[key], availability, today, now, outcome)
    return outcome


def _fill_line(line, availability: Availability, today, now, outcome: FillOutcome) -> None:
    slot, school_id, day = line[0].slot, line[0].school_id, line[0].date
    if not is_modifiable(day, today):
        for entry in line:
            _close(entry, WaitlistEntry.Status.EXPIRED, now, "Délai de 3 jours ouvrés dépassé")
            _tell_expired(entry)
            outcome.expired.append(entry)
        return
    for entry in line:
        if availability.places_left(slot, school_id, day) <= 0:
            return
        child = entry.child
        if child.school_id != school_id:
            _close(entry, WaitlistEntry.Status.DROPPED, now, "L'enfant a changé d'école")
            _tell_dropped(entry, "l'école de l'enfant a changé depuis son inscription")
            outcome.dropped.append(entry)
            continue
        reason = availability.book_refusal(child, slot, day)
        if reason == Reason.CLOSED:
            return  # the whole line waits: the closure may be lifted
        if reason == Reason.FULL:
            return
        if reason in (Reason.ALREADY_BOOKED, Reason.OTHER_HOUSEHOLD):
            # Booked meanwhile (by staff, or by the child's other household): nothing to wait
            # for any more.
            _close(entry, WaitlistEntry.Status.DROPPED, now, "Déjà réservé")
            outcome.dropped.append(entry)
            continue
        if reason is not None:
            why = availability.explain(reason, child, slot, day)
            _close(entry, WaitlistEntry.Status.DROPPED, now, why[:300])
            _tell_dropped(entry, why[:1].lower() + why[1:].rstrip("."))
            outcome.dropped.append(entry)
            continue
        booking = _book(entry, now)
        availability.take(slot, school_id, day)
        entry.booking = booking
        _close(entry, WaitlistEntry.Status.BOOKED, now, "", booking=booking)
        _tell_booked(entry, booking)
        outcome.booked.append(entry)


def _book(entry: WaitlistEntry, now) -> Booking:
    booking = Booking(
        child=entry.child,
        family=entry.family,  # the household that joined: its booking, its invoice
        slot=entry.slot,
        date=entry.date,
        school_id=entry.school_id,
        origin=Booking.Origin.WAITLIST,
        created_by_id=entry.created_by_id,
        created_at=now,
    )
    booking.save()
    return booking


def _close(entry: WaitlistEntry, status, now, note: str, booking=None) -> None:
    entry.move_to(status)
    entry.closed_at, entry.note = now, note
    fields = ["status", "closed_at", "note"]
    if booking is not None:
        entry.booking = booking
        fields.append("booking")
    entry.save(update_fields=fields)


def _what(entry: WaitlistEntry) -> str:
    return f"« {entry.slot} » ({entry.slot.activity}) le {day_label(entry.date)}"


def _tell_booked(entry: WaitlistEntry, booking: Booking) -> None:
    notify_family(
        family=entry.family,
        subject=f"Liste d'attente : {entry.child.first_name} a une place le {entry.date:%d/%m/%Y}",
        body=(
            f"Bonjour,\n\nUne place s'est libérée : {entry.child.first_name} est "
            f"{agreed(entry.child, 'inscrit')} sur le créneau {_what(entry)}. La réservation "
            f"n° {booking.number} est validée et sera facturée comme les autres.\n\n"
            "Si vous n'en avez plus besoin, vous pouvez la "
            "supprimer depuis l'agenda jusqu'au "
            f"{last_day_to_modify(entry.date):%d/%m/%Y}.\n\nLe pôle administratif"
        ),
        related=entry,
    )


def _tell_expired(entry: WaitlistEntry) -> None:
    notify_family(
        family=entry.family,
        subject=f"Liste d'attente : pas de place pour {entry.child.first_name} le "
        f"{entry.date:%d/%m/%Y}",
        body=(
            f"Bonjour,\n\nAucune place ne s'est libérée à temps sur le créneau {_what(entry)}. "
            "Le délai de 3 jours ouvrés étant passé, "
            f"{entry.child.first_name} quitte la liste d'attente de ce jour-là : aucune "
            "réservation n'est faite.\n\nLe pôle administratif"
        ),
        related=entry,
    )


def _tell_dropped(entry: WaitlistEntry, why: str) -> None:
    notify_family(
        family=entry.family,
        subject=f"Liste d'attente : {entry.child.first_name} le {entry.date:%d/%m/%Y}",
        body=(
            f"Bonjour,\n\nUne place s'est libérée sur le créneau {_what(entry)}, mais "
            f"{entry.child.first_name} ne peut pas y être {agreed(entry.child, 'inscrit')} : "
            f"{why}. "
            f"{entry.child.first_name} quitte donc la liste d'attente de ce jour-là.\n\n"
            "Le pôle administratif"
        ),
        related=entry,
    )


def refill(*, today: datetime.date, slot_ids=None, school_ids=None, start=None, end=None):
    """Fill every line with children waiting among these créneaux, schools and dates (all when
    not given): after a capacity is raised or a closure lifted. In the caller's transaction."""
    entries = WaitlistEntry.objects.waiting()
    if slot_ids is not None:
        entries = entries.filter(slot__in=list(slot_ids))
    if school_ids is not None:
        entries = entries.filter(school__in=list(school_ids))
    if start is not None:
        entries = entries.filter(date__gte=start)
    if end is not None:
        entries = entries.filter(date__lte=end)
    keys = set(entries.values_list("slot", "school", "date").distinct().order_by())
    if not keys:
        return FillOutcome()
    ensure_calendar(min(k[2] for k in keys), max(k[2] for k in keys))
    return fill(keys, today=today)


def sweep(*, today: datetime.date) -> FillOutcome:
    """The nightly job: the lines whose day is now past the deadline empty (each family told),
    and the others take any place that freed without news. Each run claims its entries: a
    second run finds nothing to do."""
    outcome = FillOutcome()
    last_closed_day = nth_working_day_after(today, MIN_WORKING_DAYS)
    past = refill(today=today, end=last_closed_day)
    future = refill(today=today, start=last_closed_day + datetime.timedelta(days=1))
    for part in (past, future):
        outcome.booked += part.booked
        outcome.expired += part.expired
        outcome.dropped += part.dropped
    if len(outcome):
        logger.info(
            "Waiting list: %d booked, %d expired, %d dropped",
            len(outcome.booked),
            len(outcome.expired),
            len(outcome.dropped),
        )
    return outcome


# What parents see -------------------------------------------------------------------------


def entries_for(child, start: datetime.date, end: datetime.date, *, family=None) -> dict:
    """The child's waiting entries between `start` and `end`, with their `rank` in line, by
    (slot id, date): one query, and a second one for the ranks only when there are entries
    (most children wait for nothing, and the ranks' query is the costlier to build)."""
    entries = WaitlistEntry.objects.waiting().filter(child=child, date__range=(start, end))
    if family is not None:
        entries = entries.filter(family=family)
    entries = list(entries.order_by())
    if not entries:
        return {}
    ranks = dict(
        WaitlistEntry.objects.filter(pk__in=[entry.pk for entry in entries])
        .with_rank()
        .order_by()
        .values_list("pk", "rank")
    )
    for entry in entries:
        entry.rank = ranks[entry.pk]
    return {(entry.slot_id, entry.date): entry for entry in entries}
