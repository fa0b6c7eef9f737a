"""Saisie groupée: create or delete bookings for several children over a period, set-based.

`plan()` computes what would be done and what would be skipped (grouped by reason) from a fixed
number of queries, whatever the period or the number of children; `apply()` locks the créneaux
concerned, plans again under the lock, writes everything in one transaction (one INSERT or one
UPDATE) and reports what changed since the preview the parent confirmed.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from common.bulk import insert_rows

from . import capacity, waitlist
from .availability import Availability, Reason
from .calendar import days_between, ensure_calendar, iso_week_parity_matches
from .models import Booking

CREATE, DELETE = "create", "delete"
MAX_DAYS = 366


@dataclass(frozen=True)
class BulkRequest:
    """What the bulk form asks for."""

    children: tuple  # Child instances of the family
    action: str  # CREATE or DELETE
    start: datetime.date
    end: datetime.date
    slots: tuple  # Slot instances (with their activity)
    parity: str = ""  # "", "even" or "odd" (ISO week number)
    weekdays: frozenset = frozenset()  # ISO weekdays; empty: every weekday of each créneau
    family: object = None  # the household asking; None: each child's own family (staff)

    def candidates(self):
        """(child, slot, day) asked for, before any rule: the créneau's own weekdays only."""
        for day in days_between(self.start, self.end):
            if self.weekdays and day.isoweekday() not in self.weekdays:
                continue
            if not iso_week_parity_matches(day, self.parity):
                continue
            for slot in self.slots:
                if slot.runs_on_weekday(day):
                    for child in self.children:
                        yield child, slot, day


@dataclass(frozen=True)
class Item:
    child: object
    slot: object
    day: datetime.date

    @property
    def key(self):
        return (self.child.pk, self.slot.pk, self.day)


@dataclass
class Plan:
    request: BulkRequest
    todo: list = field(default_factory=list)  # Items to create or delete
    skipped: dict = field(default_factory=lambda: defaultdict(list))  # reason → Items

    @property
    def keys(self) -> set:
        return {item.key for item in self.todo}

    def token(self) -> str:
        """The items to do, compactly, so that the confirmation can say what changed since."""
        origin = self.request.start.toordinal()
        return " ".join(
            f"{child}.{slot}.{day.toordinal() - origin}" for child, slot, day in sorted(self.keys)
        )

    def keys_from_token(self, token: str) -> set:
        origin = self.request.start.toordinal()
        keys = set()
        for part in (token or "").split():
            try:
                child, slot, offset = (int(x) for x in part.split("."))
            except ValueError:
                continue
            keys.add((child, slot, datetime.date.fromordinal(origin + offset)))
        return keys

    def skipped_groups(self):
        """[(reason label, count, grouped items)] in a stable order, for the templates."""
        return [
            (Reason.LABELS[reason], len(self.skipped[reason]), group_items(self.skipped[reason]))
            for reason in Reason.ORDER
            if self.skipped.get(reason)
        ]

    def todo_groups(self):
        return group_items(self.todo)

    @property
    def full_items(self) -> list:
        """The days skipped because the créneau is full: those a waiting line can take."""
        return self.skipped.get(Reason.FULL, [])


SHORT_WEEKDAYS = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."]


def group_items(items):
    """Items grouped per child and créneau: [(child, slot, number of days, "lun. 07/12/2026, …")],
    the dates formatted here rather than one by one in the template (a year is 1,000 dates)."""
    groups = defaultdict(list)
    for item in items:
        groups[(item.child, item.slot)].append(item.day)
    ordered = sorted(
        groups.items(), key=lambda g: (g[0][0].first_name, g[0][1].position, g[0][1].pk)
    )
    return [
        (
            child,
            slot,
            len(days),
            ", ".join(f"{SHORT_WEEKDAYS[d.weekday()]} {d:%d/%m/%Y}" for d in sorted(days)),
        )
        for (child, slot), days in ordered
    ]


def plan(request: BulkRequest, *, today: datetime.date) -> Plan:
    """What applying `request` today would do, and what it would skip and why."""
    availability = Availability(
        request.children,
        request.slots,
        request.start,
        request.end,
        today,
        family=request.family,
    )
    return _plan(request, availability)


def _plan(request: BulkRequest, availability: Availability) -> Plan:
    result = Plan(request)
    for child, slot, day in request.candidates():
        item = Item(child, slot, day)
        if request.action == CREATE:
            reason = availability.book_refusal(child, slot, day)
            if reason is None:
                availability.take(slot, child.school_id, day)
        else:
            closed = availability.calendar.slot_closure(day, slot, child.school_id)
            if closed and not availability.booking(child, slot, day):
                reason = Reason.CLOSED
            else:
                reason = availability.cancel_refusal(child, slot, day)
        if reason:
            result.skipped[reason].append(item)
        else:
            result.todo.append(item)
    return result


@dataclass
class Outcome:
    """What confirming did: the plan applied, and how it differs from the preview."""

    plan: Plan
    lost: list = field(default_factory=list)  # (Item, reason label): previewed, not done
    gained: list = field(default_factory=list)  # Items done that the preview did not show
    waitlist: object = None  # waitlist.JoinOutcome: the full days put in their waiting lines

    @property
    def waitlist_groups(self):
        return group_items(self.waitlist.joined) if self.waitlist else []

    @property
    def changed_since_preview(self) -> bool:
        return bool(self.lost or self.gained)


def apply(
    request: BulkRequest,
    *,
    by,
    today: datetime.date,
    preview_token: str | None = None,
    waitlist_family=None,
) -> Outcome:
    """Lock, plan again, write, in one transaction; report the differences from the preview.
    With `waitlist_family` (the household asking), the full days of a creation are put in
    their waiting lines, in the same transaction."""
    now = timezone.now()
    ensure_calendar(request.start, request.end)  # outside the transaction (see services.day_save)
    with transaction.atomic():
        capacity.lock(
            (slot.pk, child.school_id, day)
            for child, slot, day in request.candidates()
            if child.school_id
        )
        availability = Availability(
            request.children,
            request.slots,
            request.start,
            request.end,
            today,
            family=request.family,
        )
        result = _plan(request, availability)
        if request.action == CREATE:
            origin = Booking.Origin.BULK
            insert_rows(
                Booking,
                [
                    Booking(  # ids rather than objects: 1,250 of these, descriptors are slow
                        child_id=item.child.pk,
                        family_id=request.family.pk
                        if request.family is not None
                        else item.child.family_id,
                        slot_id=item.slot.pk,
                        date=item.day,
                        school_id=item.child.school_id,
                        origin=origin,
                        created_by_id=by.pk,
                        created_at=now,
                    )
                    for item in result.todo
                ],
            )
            if waitlist_family is not None:
                waiting = waitlist.join_full_items(
                    result.full_items, by=by, today=today, family=waitlist_family
                )
        else:
            ids = [availability.booking(item.child, item.slot, item.day).pk for item in result.todo]
            Booking.objects.filter(pk__in=ids).move_to(
                Booking.Status.CANCELLED, cancelled_at=now, cancelled_by=by
            )
            # The places freed go to the children waiting for them.
            waitlist.fill(
                {(item.slot.pk, item.child.school_id, item.day) for item in result.todo},
                today=today,
            )
    outcome = Outcome(result)
    if request.action == CREATE and waitlist_family is not None:
        outcome.waitlist = waiting
    if preview_token:  # confirming a preview (never empty: there is no Confirmer without items)
        previewed = result.keys_from_token(preview_token)
        done = result.keys
        reasons = {item.key: reason for reason, items in result.skipped.items() for item in items}
        items = {item.key: item for items in result.skipped.values() for item in items}
        outcome.lost = [
            (items[key], Reason.LABELS[reasons[key]])
            for key in sorted(previewed - done)
            if key in items
        ]
        outcome.gained = [item for item in result.todo if item.key not in previewed]
    return outcome
