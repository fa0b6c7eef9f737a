"""What the agenda pages show: a child's month grid and the day panel, as plain data built
from one `Availability` (a fixed number of queries), so that templates only display."""

import calendar as pycalendar
import datetime
from dataclasses import dataclass, field

from .availability import Availability
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


@dataclass
class DayCell:
    day: datetime.date
    in_month: bool
    state: str = State.NOT_BOOKABLE
    reason: str = ""  # what the state means for this day, in French
    bookings: list = field(default_factory=list)
    is_today: bool = False
    has_panel: bool = False

    @property
    def label(self) -> str:
        return State.LABELS[self.state]

    @property
    def anchor(self) -> str:
        return f"jour-{self.day.isoformat()}"

    @property
    def weekday(self) -> str:
        return WEEKDAYS[self.day.weekday()]


def active_slots():
    """The créneaux on offer, with their activity and service."""
    return list(Slot.objects.active().select_related("activity__service"))


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
    if day <= today:
        cell.state, cell.reason = State.NOT_BOOKABLE, "Jour passé"
    elif not is_modifiable(day, today):
        cell.state = State.NOT_BOOKABLE
        cell.reason = "Délai de 3 jours ouvrés dépassé"
    elif not any(availability.is_enrolled(child, s, day) for s in open_slots):
        cell.state, cell.reason = State.NOT_BOOKABLE, "Inscription requise"
    else:
        cell.state = State.BOOKABLE
    return cell


@dataclass
class MonthView:
    child: object
    year: int
    month: int
    weeks: list  # of 7 DayCells
    today: datetime.date
    first_modifiable: datetime.date
    absences: list

    @property
    def label(self) -> str:
        return month_label(self.year, self.month)

    @property
    def previous(self) -> tuple[int, int]:
        return (self.year - 1, 12) if self.month == 1 else (self.year, self.month - 1)

    @property
    def next(self) -> tuple[int, int]:
        return (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)


def month_view(child, year: int, month: int, today: datetime.date) -> MonthView:
    """The month grid of `child`: weeks from Monday to Sunday, each day with its state."""
    weeks_dates = pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    start, end = weeks_dates[0][0], weeks_dates[-1][-1]
    slots = active_slots()
    shown = list(
        Booking.objects.filter(child=child, date__range=(start, end))
        .filter(status__in=[Booking.Status.VALIDATED, Booking.Status.CANCELLED_BY_CLOSURE])
        .order_by("date", "pk")
    )
    availability = Availability(
        [child], slots, start, end, today, bookings=[b for b in shown if b.is_active]
    )
    slots_by_pk = {slot.pk: slot for slot in slots}
    bookings = {}
    for booking in shown:
        if booking.slot_id in slots_by_pk:
            booking.slot = slots_by_pk[booking.slot_id]
        bookings.setdefault(booking.date, []).append(booking)
    for day_bookings in bookings.values():
        day_bookings.sort(key=lambda b: (b.slot.position, b.slot.start_time, b.pk))
    weeks = []
    for week in weeks_dates:
        cells = []
        for day in week:
            cell = _cell(DayCell(day, day.month == month), child, slots, availability, today)
            cell.bookings = bookings.get(day, [])
            cells.append(cell)
        weeks.append(cells)
    absences = list(
        Absence.objects.filter(child=child, start_date__lte=end, end_date__gte=start).order_by(
            "start_date"
        )
    )
    return MonthView(child, year, month, weeks, today, first_modifiable_day(today), absences)


@dataclass
class SlotRow:
    slot: Slot
    booking: Booking | None
    editable: bool
    reason: str  # why the box is disabled, in French
    places_left: int | None = None

    @property
    def checked(self) -> bool:
        return self.booking is not None


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
    def last_day_to_modify(self) -> datetime.date:
        return last_day_to_modify(self.day)

    @property
    def title_date(self) -> str:
        return f"{self.day:%d/%m/%Y}"


def day_panel(child, day: datetime.date, today: datetime.date) -> DayPanel:
    """The créneaux of `day` for `child`: booked or not, and whether each can be changed."""
    slots = [s for s in active_slots() if s.runs_on_weekday(day)]
    availability = Availability([child], slots, day, day, today)
    cell = _cell(DayCell(day, True), child, slots, availability, today)
    closed = availability.calendar.day_closure(day) if day.weekday() < 5 else None
    rows = []
    if closed is None and day.weekday() < 5:
        for slot in slots:
            booking = availability.booking(child, slot, day)
            if booking:
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
                )
            )
    cancelled = list(
        Booking.objects.filter(
            child=child, date=day, status=Booking.Status.CANCELLED_BY_CLOSURE
        ).select_related("slot__activity")
    )
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
    )
