"""What the agenda pages show: a child's month grid and the day panel, as plain data built
from one `Availability` (a fixed number of queries), so that templates only display."""

import calendar as pycalendar
import datetime
from dataclasses import dataclass, field

from django.urls import get_script_prefix, get_urlconf, reverse

from . import waitlist
from .availability import Availability, Enrolled, Reason
from .calendar import ServiceCalendar, all_slots, reference
from .deadlines import first_modifiable_day, is_modifiable, last_day_to_modify
from .models import Absence, Booking, Slot

MONTH_NAMES = [
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
]  # fmt: skip
WEEKDAYS = ["Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"]


class State:
    BOOKABLE = "bookable"
    NOT_BOOKABLE = "not-bookable"
    WEEKEND = "weekend"
    CLOSED = "closed"

    LABELS = {
        BOOKABLE: "Réservable",
        NOT_BOOKABLE: "Non réservable",
        WEEKEND: "Week-end",
        CLOSED: "Fermé",
    }


def month_label(year: int, month: int) -> str:
    """The month as the agenda titles it, e.g. "Novembre 2026"."""
    return f"{MONTH_NAMES[month - 1]} {year}"


class PathMaker:
    """The paths of one URL pattern for many objects, reversed once: a month page links each of
    its ~40 days and bookings, and reversing each link costs more than the rest of its cell."""

    # Stand for the varying argument (an id or a day); no real id or portal day prints like them.
    SENTINEL_ID = "987654321"
    SENTINEL_DAY = datetime.date(1901, 2, 3)

    def __init__(self, name: str, *fixed):
        self.name, self.fixed = name, fixed
        self._patterns = {}

    def __call__(self, value) -> str:
        is_day = isinstance(value, datetime.date)
        # Per URLconf and script prefix, as reverse() itself depends on them.
        key = (is_day, get_urlconf(), get_script_prefix())
        pattern = self._patterns.get(key)
        if pattern is None:
            sentinel = self.SENTINEL_DAY if is_day else self.SENTINEL_ID
            pattern = self._patterns[key] = reverse(self.name, args=[*self.fixed, sentinel])
        if is_day:
            return pattern.replace(self.SENTINEL_DAY.isoformat(), value.isoformat())
        return pattern.replace(self.SENTINEL_ID, str(int(value)))


BOOKING_PATH = PathMaker("reservations:booking_detail")


@dataclass(frozen=True)
class CellLine:
    """One line under a day of the month grid, worded as the household sees it."""

    text: str
    css: str = ""
    url: str = ""  # the booking's page: only the household's own active bookings have one
    hidden: str = ""  # what only a screen reader hears after the text


def booking_line(booking) -> CellLine:
    """How a booking reads in the grid: the other household's as « Réservé par l'autre foyer »
    and nothing more, a cancelled one as struck out, the household's own with its link."""
    short = booking.slot.short
    if getattr(booking, "other_household", False):
        return CellLine(f"{short} · Réservé par l'autre foyer", "booking-other")
    if not booking.is_active:
        return CellLine(short, "booking-cancelled", hidden=" : annulé pour fermeture")
    absent = booking.presence in (Booking.Presence.ABSENT, Booking.Presence.EXCUSED)
    text = short
    if booking.presence != Booking.Presence.RESERVED:
        text = f"{short} · {booking.get_presence_display()}"
    return CellLine(text, "booking-absent" if absent else "", BOOKING_PATH(booking.pk))


@dataclass
class DayCell:
    day: datetime.date
    in_month: bool
    state: str = State.NOT_BOOKABLE
    reason: str = ""  # what the state means for this day, in French
    bookings: list = field(default_factory=list)
    is_today: bool = False
    has_panel: bool = False
    text: str = ""  # says the state better than its generic label (« Aujourd'hui »…)
    waiting: list = field(default_factory=list)  # WaitlistEntries of the child that day
    url: str = ""  # the day panel, for a day that has one

    @property
    def label(self) -> str:
        return self.text or State.LABELS[self.state]

    @property
    def label_says_today(self) -> bool:
        return self.text == "Aujourd'hui"

    @property
    def today_badge(self) -> bool:
        """Today, when the state's label does not already say so."""
        return self.is_today and not self.label_says_today

    @property
    def anchor(self) -> str:
        return f"jour-{self.day.isoformat()}"

    @property
    def weekday(self) -> str:
        return WEEKDAYS[self.day.weekday()]

    @property
    def date_label(self) -> str:
        return f"{self.day:%d/%m/%Y}"

    @property
    def month_label(self) -> str:
        return month_label(self.day.year, self.day.month)

    @property
    def lines(self) -> list[CellLine]:
        return [booking_line(booking) for booking in self.bookings]

    @property
    def waiting_lines(self) -> list[str]:
        return [f"{entry.slot.short} · attente, {entry.rank_label}" for entry in self.waiting]


def active_slots():
    """The créneaux on offer, with their activity and service."""
    return reference(
        "active-slots", lambda: list(Slot.objects.active().select_related("activity__service"))
    )


def _cell(cell: DayCell, child, slots, availability: Availability, today) -> DayCell:
    day = cell.day
    calendar = availability.calendar
    cell.is_today = day == today
    if day.weekday() >= 5:
        cell.state = State.WEEKEND
        return cell
    cell.has_panel = True
    closed = calendar.day_closure(day)
    if closed:
        cell.state, cell.reason = State.CLOSED, closed.reason
        return cell
    running = [s for s in slots if s.runs_on_weekday(day)]
    open_slots = [s for s in running if not calendar.slot_closure(day, s, child.school_id)]
    if not open_slots:
        closures = [calendar.slot_closure(day, s, child.school_id) for s in running]
        cell.state = State.CLOSED
        cell.reason = closures[0].reason if closures else "Aucun accueil ce jour-là"
        return cell
    if day == today:
        # Never modifiable under the deadline: « Aujourd'hui » says it, with why once.
        cell.state, cell.text, cell.reason = State.NOT_BOOKABLE, "Aujourd'hui", "Plus modifiable"
        return cell
    if day < today:
        cell.state, cell.text = State.NOT_BOOKABLE, "Jour passé"
        return cell
    enrolments = {availability.enrolment_state(child, s, day) for s in open_slots}
    if Enrolled.YES not in enrolments:
        # Not bookable whatever the date: the enrolment is what the parent has to act on.
        cell.state = State.NOT_BOOKABLE
        for state in (Enrolled.PENDING, Enrolled.DRAFT, Enrolled.NO):
            if state in enrolments:
                cell.text = Enrolled.LABELS[state]
                break
    elif not is_modifiable(day, today):
        cell.state = State.NOT_BOOKABLE
        cell.reason = "Délai de 3 jours ouvrés dépassé"
    else:
        cell.state = State.BOOKABLE
    return cell


@dataclass
class EnrolmentNote:
    """A service the child cannot be booked on this month, and where its enrolment stands."""

    service: object
    school_year: object
    state: str  # an Enrolled value other than YES

    @property
    def label(self) -> str:
        return Enrolled.LABELS[self.state]


def _enrolment_notes(child, slots, availability, year, month) -> list:
    """The enrolments a parent waits for or has to make before booking this month."""
    days = [
        datetime.date(year, month, d) for d in range(1, pycalendar.monthrange(year, month)[1] + 1)
    ]
    years = []
    for day in days:
        school_year = availability.calendar.school_year(day)
        if school_year is not None and school_year not in [y for y, _ in years]:
            years.append((school_year, day))
    notes = []
    for school_year, day in years:
        states = {}
        for slot in slots:
            if slot.activity.service_id not in states:
                states[slot.activity.service_id] = (
                    slot.activity.service,
                    availability.enrolment_state(child, slot, day),
                )
        enrolled_somewhere = any(state == Enrolled.YES for _, state in states.values())
        for service, state in states.values():
            # A service the family chose not to use is no news, unless nothing is bookable.
            if state in (Enrolled.PENDING, Enrolled.DRAFT) or (
                state == Enrolled.NO and not enrolled_somewhere
            ):
                notes.append(EnrolmentNote(service, school_year, state))
    return notes


@dataclass
class MonthView:
    child: object
    year: int
    month: int
    weeks: list  # of 7 DayCells
    today: datetime.date
    first_modifiable: datetime.date
    absences: list
    enrolment_notes: list = field(default_factory=list)  # of EnrolmentNote

    @property
    def label(self) -> str:
        return month_label(self.year, self.month)

    @property
    def previous(self) -> tuple[int, int]:
        return (self.year - 1, 12) if self.month == 1 else (self.year, self.month - 1)

    @property
    def next(self) -> tuple[int, int]:
        return (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)


def _mark_households(bookings, availability: Availability) -> list:
    """The bookings a household may see, each marked `other_household` when the child's other
    household made it (résidence alternée): shown as « Réservé par l'autre foyer » and nothing
    more. The other household's cancelled bookings are not shown at all."""
    shown = []
    for booking in bookings:
        booking.other_household = availability.is_other_household(booking)
        if booking.is_active or not booking.other_household:
            shown.append(booking)
    return shown


def month_view(child, year: int, month: int, today: datetime.date, *, family=None) -> MonthView:
    """The month grid of `child`: weeks from Monday to Sunday, each day with its state.
    `family`: the household looking (see `Availability`)."""
    weeks_dates = pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    start, end = weeks_dates[0][0], weeks_dates[-1][-1]
    slots = active_slots()
    shown = list(
        Booking.objects.filter(child=child, date__range=(start, end))
        .filter(status__in=[Booking.Status.VALIDATED, Booking.Status.CANCELLED_BY_CLOSURE])
        .order_by("date", "pk")
    )
    availability = Availability(
        [child],
        slots,
        start,
        end,
        today,
        bookings=[b for b in shown if b.is_active],
        family=family,
        calendar=ServiceCalendar(start, end, cached_closures=True),  # shown, not booked on
    )
    shown = _mark_households(shown, availability)
    slots_by_pk = {slot.pk: slot for slot in slots}
    bookings = {}
    for booking in shown:
        if booking.slot_id in slots_by_pk:
            booking.slot = slots_by_pk[booking.slot_id]
        bookings.setdefault(booking.date, []).append(booking)
    for day_bookings in bookings.values():
        day_bookings.sort(key=lambda b: (b.slot.position, b.slot.start_time, b.pk))
    day_path = PathMaker("reservations:day", child.pk)
    weeks = []
    for week in weeks_dates:
        cells = []
        for day in week:
            cell = _cell(DayCell(day, day.month == month), child, slots, availability, today)
            cell.bookings = bookings.get(day, [])
            if cell.has_panel:
                cell.url = day_path(day)
            cells.append(cell)
        weeks.append(cells)
    _mark_waiting(weeks, child, start, end, family, slots_by_pk)
    absences = Absence.objects.filter(child=child, start_date__lte=end, end_date__gte=start)
    if family is not None:
        absences = absences.filter(family=family)
    absences = list(absences.order_by("start_date"))
    return MonthView(
        child,
        year,
        month,
        weeks,
        today,
        first_modifiable_day(today),
        absences,
        _enrolment_notes(child, slots, availability, year, month),
    )


@dataclass
class SlotRow:
    slot: Slot
    booking: Booking | None
    editable: bool
    reason: str  # why the box is disabled, in French, unless the day's notice says it
    places_left: int | None = None
    refusal: str | None = None  # the Reason key
    waiting: object = None  # the child's WaitlistEntry on this créneau, with its rank

    @property
    def can_join_waitlist(self) -> bool:
        """Full, and the child could be booked otherwise: it may wait for a place."""
        return self.refusal == Reason.FULL and self.waiting is None

    @property
    def reason_id(self) -> str:
        """The id of the text a disabled box points to: its own reason, or the day's."""
        return f"raison-{self.slot.pk}" if self.reason else "raison-jour"

    @property
    def checked(self) -> bool:
        return self.booking is not None

    @property
    def other_household(self) -> bool:
        """Booked by the child's other household (résidence alternée)."""
        return self.booking is not None and getattr(self.booking, "other_household", False)


@dataclass
class DayPanel:
    child: object
    day: datetime.date
    rows: list
    closed_reason: str
    today: datetime.date
    modifiable: bool
    cell: DayCell
    cancelled: list  # bookings cancelled by a closure, shown for information
    notice: str = ""  # why no créneau can be changed, when they share a reason other than time

    @property
    def is_today(self) -> bool:
        return self.day == self.today

    @property
    def is_past(self) -> bool:
        return self.day < self.today

    @property
    def shown(self):
        return [row.slot.pk for row in self.rows]

    @property
    def rendered(self):
        return [row.slot.pk for row in self.rows if row.booking]

    @property
    def editable(self):
        return [row.slot.pk for row in self.rows if row.editable]

    @property
    def any_editable(self) -> bool:
        return any(row.editable for row in self.rows)

    @property
    def has_own_booking(self) -> bool:
        return any(row.booking and not row.other_household for row in self.rows)

    @property
    def last_day_to_modify(self) -> datetime.date:
        return last_day_to_modify(self.day)

    @property
    def title_date(self) -> str:
        return f"{self.day:%d/%m/%Y}"


def day_panel(child, day: datetime.date, today: datetime.date, *, family=None) -> DayPanel:
    """The créneaux of `day` for `child`: booked or not, and whether each can be changed.
    `family`: the household looking (see `Availability`)."""
    slots = [s for s in active_slots() if s.runs_on_weekday(day)]
    # One query for the day's bookings of the child: the active ones, and those a closure
    # cancelled (shown for information, to the household that made them).
    day_bookings = list(
        Booking.objects.filter(
            child=child,
            date=day,
            status__in=[Booking.Status.VALIDATED, Booking.Status.CANCELLED_BY_CLOSURE],
        ).order_by("pk")
    )
    availability = Availability(
        [child],
        slots,
        day,
        day,
        today,
        bookings=[b for b in day_bookings if b.is_active],
        family=family,
        # Shown, not booked on: saving reads closures and capacities afresh, under its lock.
        calendar=ServiceCalendar(day, day, cached_closures=True),
        cached_capacities=True,
    )
    cell = _cell(DayCell(day, True), child, slots, availability, today)
    if cell.has_panel:
        cell.url = reverse("reservations:day", args=[child.pk, day])
    closed = availability.calendar.day_closure(day) if day.weekday() < 5 else None
    rows = []
    if closed is None and day.weekday() < 5:
        for slot in slots:
            booking = availability.booking(child, slot, day)
            if booking:
                booking.other_household = availability.is_other_household(booking)
                reason = availability.cancel_refusal(child, slot, day)
            else:
                reason = availability.book_refusal(child, slot, day)
            places = (
                availability.places_left(slot, child.school_id, day) if child.school_id else None
            )
            rows.append(
                SlotRow(
                    slot=slot,
                    booking=booking,
                    editable=reason is None,
                    reason=availability.explain(reason, child, slot, day) if reason else "",
                    places_left=places,
                    refusal=reason,
                )
            )
    notice = _shared_refusal(rows, day, today)
    _add_waiting(rows, child, day, family)
    slots_by_pk = {slot.pk: slot for slot in all_slots()}
    cancelled = [
        b
        for b in day_bookings
        if b.status == Booking.Status.CANCELLED_BY_CLOSURE
        and (family is None or b.family_id == family.pk)
    ]
    for booking in cancelled:
        booking.slot = slots_by_pk[booking.slot_id]
    cell.bookings = [row.booking for row in rows if row.booking] + cancelled
    return DayPanel(
        child=child,
        day=day,
        rows=rows,
        closed_reason=(closed.reason if closed else ("Week-end" if day.weekday() >= 5 else "")),
        today=today,
        modifiable=is_modifiable(day, today),
        cell=cell,
        cancelled=cancelled,
        notice=notice,
    )


def _shared_refusal(rows, day, today) -> str:
    """Say once, above the créneaux, a reason they all share (the deadline, the enrolment),
    rather than under each; the rows that share it keep no reason of their own."""
    if not rows:
        return ""
    if not is_modifiable(day, today):
        # The panel words the deadline itself (today, a past day, the last day to modify).
        for row in rows:
            if row.refusal == Reason.DEADLINE:
                row.reason = ""
        return ""
    if any(row.editable or row.refusal != Reason.NOT_ENROLLED for row in rows):
        return ""
    reasons = {row.reason for row in rows}
    if len(reasons) != 1:
        return ""
    for row in rows:
        row.reason = ""
    return reasons.pop()


def _add_waiting(rows, child, day, family) -> None:
    """Each créneau's place in its waiting line for the child, if it waits there (one query)."""
    waiting = waitlist.entries_for(child, day, day, family=family)
    for row in rows:
        row.waiting = waiting.get((row.slot.pk, day))
        if row.waiting is not None:
            row.waiting.rank_label = waitlist.rank_label(row.waiting.rank)


def _mark_waiting(weeks, child, start, end, family, slots_by_pk) -> None:
    """The month's days on which the child waits for a place, with its place (one query)."""
    waiting = waitlist.entries_for(child, start, end, family=family)
    if not waiting:
        return
    by_day = {}
    for entry in waiting.values():
        if entry.slot_id in slots_by_pk:
            entry.slot = slots_by_pk[entry.slot_id]
            entry.rank_label = waitlist.rank_label(entry.rank)
            by_day.setdefault(entry.date, []).append(entry)
    for week in weeks:
        for cell in week:
            cell.waiting = sorted(by_day.get(cell.day, []), key=lambda e: e.slot.position)
