"""Can this child be booked on (or taken off) this créneau on this day, and if not, why?

`Availability` reads everything the answer needs for children × créneaux × a period in a fixed
number of queries (calendar, enrolments, capacities, places taken, the children's bookings),
then answers each question in memory. The day panel, the bulk entry and the staff services all
ask it, so that every write path applies the same rules.
"""

import datetime
from collections import Counter
from functools import cached_property

from enrolment.models import Enrolment, EnrolmentRequest

from .calendar import ServiceCalendar
from .capacity import Capacities, taken_places
from .deadlines import is_modifiable, last_day_to_modify
from .models import Booking


class Reason:
    """Why a booking cannot be made or cancelled (the keys of the bulk preview's groups)."""

    CLOSED = "closed"
    DEADLINE = "deadline"
    NO_SCHOOL = "no_school"
    NOT_ENROLLED = "not_enrolled"
    FULL = "full"
    ALREADY_BOOKED = "already_booked"
    OTHER_HOUSEHOLD = "other_household"
    NOTHING_TO_CANCEL = "nothing_to_cancel"

    LABELS = {
        CLOSED: "jour fermé",
        DEADLINE: "délai dépassé",
        NO_SCHOOL: "école non renseignée",
        NOT_ENROLLED: "enfant non inscrit",
        FULL: "complet",
        ALREADY_BOOKED: "déjà réservé",
        OTHER_HOUSEHOLD: "réservé par l'autre foyer",
        NOTHING_TO_CANCEL: "rien à supprimer",
    }
    ORDER = [
        DEADLINE, CLOSED, NOT_ENROLLED, NO_SCHOOL, FULL, ALREADY_BOOKED, OTHER_HOUSEHOLD,
        NOTHING_TO_CANCEL,
    ]  # fmt: skip


class Enrolled:
    """A child's enrolment in a service for a school year, as the agenda tells it."""

    YES = "yes"
    PENDING = "pending"  # request en traitement, not accepted yet
    DRAFT = "draft"  # request still a draft: the parent has to send it
    NO = "no"

    LABELS = {
        PENDING: "Inscription en attente",
        DRAFT: "Inscription à valider",
        NO: "Inscription requise",
    }


class Availability:
    def __init__(
        self,
        children,
        slots,
        start: datetime.date,
        end: datetime.date,
        today,
        *,
        calendar: ServiceCalendar | None = None,
        bookings=None,
        family=None,
        cached_capacities=False,
    ):
        # `family`: the household asking (a parent's); a child in résidence alternée may be
        # booked by the other household, whose bookings it can neither book again nor cancel.
        # None (staff): every booking counts as one's own.
        # `cached_capacities`: places are shown, not taken (a page, not a booking; see
        # Capacities).
        self.family_id = family.pk if family is not None else None
        self._cached_capacities = cached_capacities
        self.today = today
        self.start, self.end = start, end
        self.slots = {slot.pk: slot for slot in slots}
        self.calendar = calendar or ServiceCalendar(start, end)
        children = list(children)
        self._children = children
        self._school_ids = sorted({child.school_id for child in children if child.school_id})
        years = [year.pk for year in self.calendar.school_years]
        self._enrolled = set(
            Enrolment.objects.filter(child__in=children, school_year__in=years)
            .order_by()
            .values_list("child", "service", "school_year")
        )
        if bookings is None:  # else: the active bookings of these children, already read
            bookings = Booking.objects.active().filter(
                child__in=children, slot__in=list(self.slots), date__range=(start, end)
            )
        self.booked: dict[tuple, Booking] = {}
        for booking in bookings:
            if booking.slot_id not in self.slots:
                continue
            booking.slot = self.slots[booking.slot_id]  # already loaded, with its activity
            self.booked[(booking.child_id, booking.slot_id, booking.date)] = booking

    # Places are read on first use only: the month grid never needs them.
    @cached_property
    def capacities(self) -> Capacities:
        return Capacities(
            self.slots.values(),
            self._school_ids,
            self.start,
            self.end,
            cached=self._cached_capacities,
        )

    @cached_property
    def taken(self) -> Counter:
        return taken_places(list(self.slots), self._school_ids, self.start, self.end)

    # Questions -----------------------------------------------------------------------------

    def booking(self, child, slot, day) -> Booking | None:
        """The child's active booking of the créneau that day, whichever household made it."""
        return self.booked.get((child.pk, slot.pk, day))

    def is_other_household(self, booking) -> bool:
        """Whether `booking` was made by the child's other household (résidence alternée)."""
        return (
            booking is not None
            and self.family_id is not None
            and booking.family_id != self.family_id
        )

    def is_enrolled(self, child, slot, day) -> bool:
        year = self.calendar.school_year(day)
        return year is not None and (child.pk, slot.activity.service_id, year.pk) in self._enrolled

    @cached_property
    def _requests(self) -> dict:
        """The state of the live enrolment request (brouillon or en traitement) of each
        (child, service, school year) without an enrolment; read only when a day needs it."""
        State = EnrolmentRequest.State
        years = [year.pk for year in self.calendar.school_years]
        states = {}
        rows = (
            EnrolmentRequest.objects.filter(
                child__in=self._children,
                school_year__in=years,
                state__in=[State.DRAFT, State.SUBMITTED],
                teleservice__service__isnull=False,
            )
            .order_by()
            .values_list("child", "teleservice__service", "school_year", "state")
        )
        for child_id, service_id, year_id, state in rows:
            key = (child_id, service_id, year_id)
            if states.get(key) != State.SUBMITTED:  # a request being processed wins over a draft
                states[key] = state
        return states

    def enrolment_state(self, child, slot, day) -> str:
        """Where the child's enrolment in the créneau's service stands for that day's school
        year: one of the `Enrolled` values."""
        if self.is_enrolled(child, slot, day):
            return Enrolled.YES
        year = self.calendar.school_year(day)
        if year is None:
            return Enrolled.NO
        state = self._requests.get((child.pk, slot.activity.service_id, year.pk))
        if state == EnrolmentRequest.State.SUBMITTED:
            return Enrolled.PENDING
        if state == EnrolmentRequest.State.DRAFT:
            return Enrolled.DRAFT
        return Enrolled.NO

    def places_left(self, slot, school_id, day) -> int:
        return (
            self.capacities.places(slot.pk, school_id, day) - self.taken[(slot.pk, school_id, day)]
        )

    def book_refusal(
        self, child, slot, day, *, check_deadline=True, check_capacity=True
    ) -> str | None:
        """The Reason a new booking is refused, or None if it can be made."""
        if not slot.runs_on_weekday(day) or self.calendar.slot_closure(day, slot, child.school_id):
            return Reason.CLOSED
        if check_deadline and not is_modifiable(day, self.today):
            return Reason.DEADLINE
        if not child.school_id:
            return Reason.NO_SCHOOL
        if not self.is_enrolled(child, slot, day):
            return Reason.NOT_ENROLLED
        booking = self.booking(child, slot, day)
        if booking:
            return (
                Reason.OTHER_HOUSEHOLD
                if self.is_other_household(booking)
                else Reason.ALREADY_BOOKED
            )
        if check_capacity and self.places_left(slot, child.school_id, day) <= 0:
            return Reason.FULL
        return None

    def cancel_refusal(self, child, slot, day, *, check_deadline=True) -> str | None:
        """The Reason a cancellation is refused, or None if the booking can be cancelled."""
        booking = self.booking(child, slot, day)
        if not booking:
            return Reason.NOTHING_TO_CANCEL
        if self.is_other_household(booking):
            return Reason.OTHER_HOUSEHOLD
        if check_deadline and not is_modifiable(day, self.today):
            return Reason.DEADLINE
        return None

    def take(self, slot, school_id, day) -> None:
        """Count a place as taken by a booking about to be inserted."""
        self.taken[(slot.pk, school_id, day)] += 1

    def release(self, slot, school_id, day) -> None:
        self.taken[(slot.pk, school_id, day)] -= 1

    def explain(self, reason: str, child, slot, day) -> str:
        """A French sentence for the day panel."""
        if reason == Reason.DEADLINE:
            if day == self.today:
                return "Aujourd'hui : ce créneau ne peut plus être réservé ni supprimé."
            if day < self.today:
                return "Jour passé : ce créneau ne peut plus être modifié."
            return (
                "Délai dépassé : les réservations et suppressions se font au plus tard 3 jours "
                f"ouvrés avant, soit jusqu'au {last_day_to_modify(day):%d/%m/%Y}."
            )
        if reason == Reason.CLOSED:
            closed = self.calendar.slot_closure(day, slot, child.school_id)
            return f"Fermé : {closed.reason}." if closed else "Ce créneau n'a pas lieu ce jour-là."
        if reason == Reason.NO_SCHOOL:
            return (
                "L'école de l'enfant n'est pas renseignée : complétez sa fiche dans « Mon foyer »."
            )
        if reason == Reason.NOT_ENROLLED:
            return self._explain_enrolment(child, slot, day)
        if reason == Reason.FULL:
            return "Complet : il ne reste plus de place sur ce créneau."
        if reason == Reason.ALREADY_BOOKED:
            return "Déjà réservé."
        if reason == Reason.OTHER_HOUSEHOLD:
            return "Réservé par l'autre foyer."
        if reason == Reason.NOTHING_TO_CANCEL:
            return "Aucune réservation à supprimer."
        return ""

    def _explain_enrolment(self, child, slot, day) -> str:
        year = self.calendar.school_year(day)
        service = f"« {slot.activity.service} »" + (f" pour {year}" if year else "")
        state = self.enrolment_state(child, slot, day)
        if state == Enrolled.PENDING:
            return (
                f"Inscription en attente : la demande d'inscription de {child.first_name} au "
                f"service {service} n'est pas encore acceptée par le pôle administratif. "
                "Vous pourrez réserver dès son acceptation."
            )
        if state == Enrolled.DRAFT:
            return (
                f"Inscription à valider : la demande d'inscription de {child.first_name} au "
                f"service {service} est encore un brouillon. Validez-la dans « Mes demandes » ; "
                "vous pourrez réserver dès son acceptation."
            )
        return (
            f"Inscription requise : {child.first_name} n'est pas inscrit(e) au service {service}. "
            "L'inscription doit être acceptée avant de réserver."
        )
