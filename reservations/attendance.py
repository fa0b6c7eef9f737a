"""The register of a créneau (pointage): who is expected at a school on a day, how many
children are marked present, absent or not yet, and who may be added without booking."""

import datetime
from dataclasses import dataclass

from django.db.models import Q

from common.dates import long_date
from families.models import Child, School

from .availability import Availability
from .calendar import ServiceCalendar
from .models import WEEKDAY_NAMES, Absence, Booking, Slot

OVERRIDE_PERMISSION = "reservations.add_walkin_override"


def register_rows(school: School | None, slot: Slot | None, day: datetime.date) -> list[Booking]:
    """The children expected (or welcomed) on the créneau, by name."""
    if school is None or slot is None:
        return []
    return list(
        Booking.objects.active()
        .filter(school=school, slot=slot, date=day)
        .select_related("child", "absence", "override_by")
        .order_by("child__last_name", "child__first_name", "pk")
    )


def register_counts(bookings) -> dict:
    """Présents, absents, absents excusés and children still to mark on a register."""
    counts = {"present": 0, "absent": 0, "excused": 0}
    for booking in bookings:
        if booking.presence in counts:
            counts[booking.presence] += 1
    counts["unmarked"] = len(bookings) - sum(counts.values())
    return counts


def decided_by_office(booking: Booking) -> bool:
    """True when the presence comes from an absence the office has decided on (excused or not):
    the register shows it and no longer changes it."""
    return booking.absence_id is not None and booking.absence.status != Absence.Status.PENDING


def slot_title(slot: Slot, day: datetime.date) -> str:
    """The créneau's name on the register, without saying the same word twice:
    "Accueil du matin (07h20-08h20)", "Accueil périscolaire (soir 1 : 16h30 à 17h30)", and the
    service's name for a créneau named after its weekday ("Mercredi" on a Wednesday)."""
    weekday = WEEKDAY_NAMES[day.weekday()].casefold()
    name = slot.activity.name
    if name.casefold() == weekday:
        name = slot.activity.service.label
    detail = slot.label.strip()
    first, _, rest = detail.partition(" ")
    if first.casefold() in name.casefold().split():  # "Matin 07h20-08h20" of "Accueil du matin"
        detail = rest.strip()
    if not detail or detail.casefold() in {weekday, name.casefold()}:
        return name
    return f"{name} ({detail})"


def register_heading(school: School, slot: Slot, day: datetime.date) -> str:
    """ "Mercredi 2 décembre 2026 — Accueil de loisirs d'Alaï (3-12 ans) · École du Prainet"."""
    return f"{WEEKDAY_NAMES[day.weekday()]} {long_date(day)} — {slot_title(slot, day)} · {school}"


def child_name(child: Child) -> str:
    return f"{child.first_name} {child.last_name.upper()}"


@dataclass(frozen=True)
class Refusal:
    """Why a child cannot be added to a register without booking, in the staff's words, and
    whether staff allowed to may add the child anyway, by derogation."""

    message: str
    overridable: bool = False


class WalkInRules:
    """Who may be added, present without booking, to the register of `slot` at `school` on
    `day`: a child of that school, with an accepted enrolment in the créneau's service for the
    school year, not on the list yet, on a day the créneau runs, today or earlier."""

    def __init__(self, school: School, slot: Slot, day: datetime.date, today, children):
        self.school, self.slot, self.day, self.today = school, slot, day, today
        self.calendar = ServiceCalendar(day, day)
        self.children = list(children)
        self.availability = Availability(
            self.children, [slot], day, day, today, calendar=self.calendar
        )

    def day_refusal(self) -> Refusal | None:
        """Why nobody at all can be added on this register (not even by derogation), or None."""
        if self.day > self.today:
            return Refusal(
                "un enfant s'ajoute au pointage le jour même (ou après coup), pas à l'avance."
            )
        if not self.slot.runs_on_weekday(self.day):
            weekday = WEEKDAY_NAMES[self.day.weekday()].lower()
            return Refusal(f"le créneau « {self.slot} » n'a pas lieu le {weekday}.")
        closed = self.calendar.slot_closure(self.day, self.slot, self.school.pk)
        if closed:
            return Refusal(f"le créneau est fermé ce jour-là ({closed.reason}).")
        return None

    def refusal(self, child: Child) -> Refusal | None:
        """Why `child` cannot be added on this register, or None."""
        day_refusal = self.day_refusal()
        if day_refusal:
            return day_refusal
        name = child_name(child)
        if self.availability.booking(child, self.slot, self.day):
            return Refusal(f"{name} est déjà sur la liste de ce créneau.")
        if child.school_id is None:
            return Refusal(f"la fiche de {name} n'indique pas d'école.", overridable=True)
        if child.school_id != self.school.pk:
            return Refusal(
                f"la fiche de {name} indique une autre école ({child.school}).", overridable=True
            )
        if not self.availability.is_enrolled(child, self.slot, self.day):
            year = self.calendar.school_year(self.day)
            return Refusal(
                f"{name} n'a pas d'inscription acceptée au service "
                f"« {self.slot.activity.service} »" + (f" pour {year}" if year else "") + ".",
                overridable=True,
            )
        return None


def walk_in_choices(
    school: School, slot: Slot, day: datetime.date, today, *, with_overrides: bool
) -> tuple[Refusal | None, list[Child], list[tuple[Child, Refusal]]]:
    """What the register offers to add: why nobody can be added (or None), the children who
    can be, and — for staff allowed to add by derogation — the children who could only be added
    that way (those of the school without an accepted enrolment, and those enrolled in the
    service whose file names another school or none)."""
    children = Child.objects.filter(school=school)
    if with_overrides:
        year = ServiceCalendar(day, day).school_year(day)
        if year is not None:
            children = Child.objects.filter(
                Q(school=school)
                | Q(enrolments__service=slot.activity.service_id, enrolments__school_year=year)
            ).distinct()
    children = children.select_related("school").order_by("last_name", "first_name", "pk")
    rules = WalkInRules(school, slot, day, today, children)
    day_refusal = rules.day_refusal()
    if day_refusal:
        return day_refusal, [], []
    eligible, by_override = [], []
    for child in rules.children:
        refusal = rules.refusal(child)
        if refusal is None:
            eligible.append(child)
        elif refusal.overridable and with_overrides:
            by_override.append((child, refusal))
    return None, eligible, by_override
