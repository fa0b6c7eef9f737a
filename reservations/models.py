"""The school calendar, the activities and their créneaux, bookings and absences.

Two notions of day stay apart: *working days* count the booking deadline
(`reservations.deadlines`), *service days* say when a créneau runs (school-term days of its
weekdays, minus public holidays, school holidays and closures — `reservations.calendar`).
"""

import datetime
from functools import cached_property

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from common.files import get_private_storage, random_upload_path
from common.states import StateMachine
from enrolment.models import Service
from families.models import Child, Family, School

WEEKDAY_NAMES = ["Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"]


def absence_certificate_upload_to(instance, filename):
    """A random private path for an absence's medical certificate."""
    return random_upload_path("absences", filename)


class Holiday(models.Model):
    """A public holiday or a period of zone A school holidays (first and last day included).

    Loaded from the `holidays` package for the school years around today (see
    `reservations.calendar.ensure_calendar`); school holidays may be corrected by staff. Public
    holidays are the law: they also count the deadline, so they are not edited here.
    """

    class Kind(models.TextChoices):
        PUBLIC = "public", "Jour férié"
        SCHOOL = "school", "Vacances scolaires"

    kind = models.CharField("type", max_length=10, choices=Kind.choices, default=Kind.SCHOOL)
    name = models.CharField("nom", max_length=120)
    start_date = models.DateField("premier jour")
    end_date = models.DateField(
        "dernier jour", help_text="Inclus : la reprise a lieu le lendemain."
    )

    class Meta:
        verbose_name = "jour férié ou vacances"
        verbose_name_plural = "jours fériés et vacances scolaires"
        ordering = ["start_date", "kind"]
        indexes = [models.Index(fields=["start_date", "end_date"], name="holiday_dates")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="holiday_end_after_start",
                violation_error_message="Le dernier jour doit suivre le premier.",
            )
        ]

    def __str__(self):
        if self.start_date == self.end_date:
            return f"{self.name} ({self.start_date:%d/%m/%Y})"
        return f"{self.name} (du {self.start_date:%d/%m/%Y} au {self.end_date:%d/%m/%Y})"


class CalendarImport(models.Model):
    """Marks the school year (by its first calendar year) whose holidays have been loaded, so
    that loading again never duplicates nor overwrites what staff corrected."""

    start_year = models.PositiveSmallIntegerField("année de la rentrée", unique=True)
    imported_at = models.DateTimeField("chargé le", default=timezone.now)

    class Meta:
        verbose_name = "chargement du calendrier"
        verbose_name_plural = "chargements du calendrier"

    def __str__(self):
        return f"Calendrier {self.start_year}-{self.start_year + 1}"


class Activity(models.Model):
    """What the bulk form lists ("Accueil du matin", "Accueil périscolaire", "Mercredi"), each
    belonging to the service a child must be enrolled in."""

    name = models.CharField("nom", max_length=100)
    slug = models.SlugField("identifiant", max_length=50, unique=True)
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="activities", verbose_name="service"
    )
    position = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "activité"
        verbose_name_plural = "activités"
        ordering = ["position", "pk"]

    def __str__(self):
        return self.name


weekdays_validator = RegexValidator(
    r"^[1-7]{1,7}$",
    "Indiquez les jours par leur numéro (1 = lundi … 7 = dimanche), par exemple 1245.",
)


class SlotQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Slot(models.Model):
    """A créneau that parents book for a day, e.g. "Matin 07h20-08h20" (Accueil du matin)."""

    activity = models.ForeignKey(
        Activity, on_delete=models.PROTECT, related_name="slots", verbose_name="activité"
    )
    label = models.CharField("libellé", max_length=100)
    short_label = models.CharField(
        "libellé court", max_length=20, blank=True, help_text="Affiché dans les cases de l'agenda."
    )
    code = models.SlugField("identifiant", max_length=50, unique=True)
    start_time = models.TimeField("début")
    end_time = models.TimeField("fin")
    admission_until = models.TimeField(
        "arrivée jusqu'à",
        null=True,
        blank=True,
        help_text="Heure limite d'arrivée des enfants, s'il y en a une (08h10 le matin).",
    )
    weekdays = models.CharField(
        "jours",
        max_length=7,
        validators=[weekdays_validator],
        help_text="Numéros des jours où le créneau a lieu en période scolaire : 1 = lundi … "
        "5 = vendredi. Par exemple 1245 (lundi, mardi, jeudi, vendredi) ou 3 (mercredi).",
    )
    default_capacity = models.PositiveSmallIntegerField(
        "capacité par défaut",
        default=30,
        help_text="Places par école et par jour, sauf capacité propre à une école ou à une date.",
    )
    position = models.PositiveSmallIntegerField("ordre", default=0)
    is_active = models.BooleanField("proposé", default=True)

    objects = SlotQuerySet.as_manager()

    class Meta:
        verbose_name = "créneau"
        verbose_name_plural = "créneaux"
        ordering = ["position", "start_time", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="slot_end_after_start",
                violation_error_message="La fin du créneau doit suivre son début.",
            )
        ]

    def __str__(self):
        return self.label

    @property
    def short(self) -> str:
        return self.short_label or self.label

    @cached_property
    def iso_weekdays(self) -> frozenset[int]:
        return frozenset(int(digit) for digit in self.weekdays)

    def runs_on_weekday(self, day: datetime.date) -> bool:
        return day.isoweekday() in self.iso_weekdays

    @property
    def hours(self) -> str:
        """ "07:20 - 08:20", as the tutorial prints it."""
        return f"{self.start_time:%H:%M} - {self.end_time:%H:%M}"

    @property
    def weekday_names(self) -> str:
        return ", ".join(WEEKDAY_NAMES[d - 1].lower() for d in sorted(self.iso_weekdays))


class SlotCapacity(models.Model):
    """The places of a créneau at a school, each day (the créneau's default otherwise)."""

    slot = models.ForeignKey(
        Slot, on_delete=models.CASCADE, related_name="capacities", verbose_name="créneau"
    )
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="slot_capacities", verbose_name="école"
    )
    places = models.PositiveSmallIntegerField("places par jour")

    class Meta:
        verbose_name = "capacité d'un créneau dans une école"
        verbose_name_plural = "capacités des créneaux par école"
        ordering = ["slot", "school"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "school"],
                name="slotcapacity_once",
                violation_error_message="Cette école a déjà une capacité pour ce créneau.",
            )
        ]

    def __str__(self):
        return f"{self.slot} — {self.school} : {self.places} places"


class CapacityOverride(models.Model):
    """The places of a créneau at a school on one date, replacing the usual capacity."""

    slot = models.ForeignKey(
        Slot, on_delete=models.CASCADE, related_name="capacity_overrides", verbose_name="créneau"
    )
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="capacity_overrides", verbose_name="école"
    )
    date = models.DateField("date")
    places = models.PositiveSmallIntegerField("places ce jour-là")
    reason = models.CharField("motif", max_length=200, blank=True)

    class Meta:
        verbose_name = "capacité pour une date"
        verbose_name_plural = "capacités pour une date"
        ordering = ["-date", "slot", "school"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "school", "date"],
                name="capacityoverride_once",
                violation_error_message="Une capacité existe déjà pour ce créneau, cette école et cette date.",
            )
        ]

    def __str__(self):
        return f"{self.slot} — {self.school} le {self.date:%d/%m/%Y} : {self.places} places"


class SlotDay(models.Model):
    """One row per créneau, school and day that someone booked: the row every booking of that
    créneau locks (SELECT … FOR UPDATE) before counting the places left, so that concurrent
    requests for the last place give exactly one booking."""

    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()

    class Meta:
        verbose_name = "verrou de créneau"
        verbose_name_plural = "verrous de créneaux"
        constraints = [
            models.UniqueConstraint(fields=["slot", "school", "date"], name="slotday_once")
        ]

    def __str__(self):
        return f"{self.slot} — {self.school} — {self.date}"


class Closure(models.Model):
    """A day or period when care does not run: town-wide, for one school, for one activity, or
    for one activity at one school. Adding one cancels the bookings it covers
    (`reservations.services.closure_apply`)."""

    start_date = models.DateField("du")
    end_date = models.DateField("au", help_text="Inclus.")
    school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="closures",
        verbose_name="école",
        help_text="Laissez vide pour toutes les écoles.",
    )
    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="closures",
        verbose_name="activité",
        help_text="Laissez vide pour toutes les activités.",
    )
    reason = models.CharField(
        "motif",
        max_length=200,
        help_text="Affiché aux familles sur l'agenda et dans le message d'annulation, par "
        "exemple « Grève du personnel communal ».",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="créée par",
    )
    created_at = models.DateTimeField("créée le", default=timezone.now)

    class Meta:
        verbose_name = "fermeture"
        verbose_name_plural = "fermetures"
        ordering = ["-start_date", "pk"]
        indexes = [models.Index(fields=["start_date", "end_date"], name="closure_dates")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="closure_end_after_start",
                violation_error_message="La fin de la fermeture doit suivre son début.",
            )
        ]

    def __str__(self):
        return f"{self.reason} ({self.period_label})"

    @property
    def period_label(self) -> str:
        if self.start_date == self.end_date:
            return f"le {self.start_date:%d/%m/%Y}"
        return f"du {self.start_date:%d/%m/%Y} au {self.end_date:%d/%m/%Y}"

    @property
    def scope_label(self) -> str:
        if self.school_id and self.activity_id:
            return f"{self.activity} à {self.school}"
        if self.school_id:
            return str(self.school)
        if self.activity_id:
            return f"{self.activity}, toutes les écoles"
        return "Toute la commune"

    def covers(self, day: datetime.date, slot: Slot, school_id) -> bool:
        return (
            self.start_date <= day <= self.end_date
            and (self.school_id is None or self.school_id == school_id)
            and (self.activity_id is None or self.activity_id == slot.activity_id)
        )


class BookingQuerySet(models.QuerySet):
    def for_family(self, family):
        """The bookings `family` made: those of its children and, for a child in résidence
        alternée, only those of its own household (never the other household's)."""
        return self.filter(family=family) if family else self.none()

    def active(self):
        """Bookings that hold a place (validated, walk-ins included)."""
        return self.filter(status=Booking.Status.VALIDATED)

    def billable(self):
        """What billing may charge: active bookings and walk-ins, except excused absences.
        Bookings cancelled by the family or by a closure are never billable."""
        return self.active().exclude(presence=Booking.Presence.EXCUSED)

    def move_to(self, state, **fields) -> int:
        """Move the bookings of this queryset that Booking.TRANSITIONS allow to `state` in one
        UPDATE (setting `fields` too); the others are left as they are. Returns how many moved."""
        return self.filter(status__in=Booking.sources_of(state)).update(status=state, **fields)


class BookingStatus(models.TextChoices):
    """The states of a booking (`Booking.Status`); at module level so that `Booking.Meta`'s
    constraints, which cannot see the class body, name them too."""

    VALIDATED = "validated", "Validée"
    CANCELLED = "cancelled", "Annulée"
    CANCELLED_BY_CLOSURE = "closure", "Annulée (fermeture)"


class Booking(StateMachine, models.Model):
    """A child booked on a créneau for one day (or welcomed there without booking: a walk-in)."""

    Status = BookingStatus

    # A cancelled booking stays cancelled: booking the créneau again makes a new booking.
    TRANSITIONS = {
        Status.VALIDATED: {Status.CANCELLED, Status.CANCELLED_BY_CLOSURE},
        Status.CANCELLED: set(),
        Status.CANCELLED_BY_CLOSURE: set(),
    }
    STATE_SUBJECT = "Une réservation"

    class Presence(models.TextChoices):
        RESERVED = "reserved", "Réservé"
        PRESENT = "present", "Présent"
        ABSENT = "absent", "Absent"
        EXCUSED = "excused", "Absent excusé"

    class Origin(models.TextChoices):
        PARENT = "parent", "Agenda du portail"
        BULK = "bulk", "Saisie groupée"
        STAFF = "staff", "Pôle administratif"
        WALK_IN = "walk_in", "Sans réservation (pointage)"
        WAITLIST = "waitlist", "Liste d'attente"

    # Few indexes on purpose: a whole year of bulk entry inserts ~1,250 rows at once. Lookups go
    # through the composite indexes below (child + date; date + créneau + school + status).
    child = models.ForeignKey(
        Child,
        on_delete=models.CASCADE,
        related_name="bookings",
        verbose_name="enfant",
        db_index=False,
    )
    family = models.ForeignKey(
        Family,
        on_delete=models.CASCADE,
        related_name="bookings",
        verbose_name="foyer",
        db_index=False,
        help_text="Le foyer qui a réservé : lui seul voit, supprime et paie cette réservation "
        "(l'un des deux foyers d'un enfant en résidence alternée).",
    )
    slot = models.ForeignKey(
        Slot,
        on_delete=models.PROTECT,
        related_name="bookings",
        verbose_name="créneau",
        db_index=False,
    )
    date = models.DateField("date")
    school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        related_name="bookings",
        verbose_name="école",
        db_index=False,
        help_text="L'école de l'enfant au moment de la réservation : celle dont la capacité compte.",
    )
    status = models.CharField(
        "statut de la réservation", max_length=10, choices=Status.choices, default=Status.VALIDATED
    )
    presence = models.CharField(
        "présence", max_length=10, choices=Presence.choices, default=Presence.RESERVED
    )
    origin = models.CharField(
        "origine", max_length=10, choices=Origin.choices, default=Origin.PARENT
    )
    past_deadline = models.BooleanField(
        "hors délai",
        default=False,
        help_text="Réservée ou annulée par le pôle administratif après le délai de 3 jours ouvrés.",
    )
    over_capacity = models.BooleanField(
        "au-delà de la capacité",
        default=False,
        help_text="Ajoutée par le personnel alors que le créneau était complet.",
    )
    created_at = models.DateTimeField("réservée le", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="réservée par",
        db_index=False,
    )
    cancelled_at = models.DateTimeField("annulée le", null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="annulée par",
        db_index=False,
    )
    cancel_reason = models.CharField("motif d'annulation", max_length=200, blank=True)
    closure = models.ForeignKey(
        Closure,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bookings",
        verbose_name="fermeture",
        db_index=False,
    )
    absence = models.ForeignKey(
        "Absence",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bookings",
        verbose_name="absence signalée",
        db_index=False,
    )
    presence_marked_at = models.DateTimeField("pointée le", null=True, blank=True)
    presence_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="pointée par",
        db_index=False,
    )
    # A walk-in the rules would refuse (no accepted enrolment, another school), added anyway by
    # staff allowed to: who, why, and which rule was set aside.
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="dérogation accordée par",
        db_index=False,
    )
    override_reason = models.CharField("motif de la dérogation", max_length=300, blank=True)
    override_rule = models.CharField(
        "règle levée par la dérogation",
        max_length=300,
        blank=True,
        help_text="Ce qui empêchait normalement d'ajouter l'enfant au pointage.",
    )

    objects = BookingQuerySet.as_manager()

    class Meta:
        verbose_name = "réservation"
        verbose_name_plural = "réservations"
        ordering = ["date", "slot__position", "pk"]
        indexes = [
            models.Index(fields=["child", "date"], name="booking_child_date"),
            models.Index(fields=["date", "slot", "school", "status"], name="booking_day_slot"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["child", "slot", "date"],
                condition=models.Q(status=BookingStatus.VALIDATED),
                name="booking_one_active_per_child_slot_day",
                violation_error_message="Cet enfant est déjà inscrit sur ce créneau ce jour-là.",
            ),
            models.CheckConstraint(
                condition=models.Q(override_reason="") | models.Q(origin="walk_in"),
                name="booking_override_only_for_walk_ins",
                violation_error_message="Seul un ajout au pointage peut se faire par dérogation.",
            ),
        ]
        permissions = [
            ("take_attendance", "Peut faire le pointage des enfants"),
            ("book_past_deadline", "Peut réserver ou annuler après le délai de 3 jours ouvrés"),
            ("exceed_capacity", "Peut réserver au-delà de la capacité d'un créneau"),
            (
                "add_walkin_override",
                "Peut ajouter au pointage, par dérogation, un enfant non inscrit ou d'une autre école",
            ),
        ]

    def __str__(self):
        return f"n° {self.number} — {self.child} — {self.slot} le {self.date:%d/%m/%Y}"

    def save(self, *args, **kwargs):
        if self.family_id is None and self.child_id is not None:
            # Unless a household is named (résidence alternée), the child's own family books.
            self.family_id = self.child.family_id
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("reservations:booking_detail", args=[self.pk])

    def get_parent_url(self):
        """The booking's page on the parents' side (what Échanges links a message to)."""
        return self.get_absolute_url()

    @property
    def parent_link_label(self) -> str:
        return f"Voir la réservation n° {self.number}"

    @property
    def number(self) -> str:
        """The booking's number, as the tutorial's detail shows it (404787)."""
        return str(self.pk)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.VALIDATED

    @property
    def is_walk_in(self) -> bool:
        return self.origin == self.Origin.WALK_IN

    @property
    def is_override(self) -> bool:
        """Added to the register by derogation from the usual rules (see override_reason)."""
        return bool(self.override_reason)

    def cancel(self, *, by, now, reason="", past_deadline=False) -> None:
        """Move to « annulée » (checked against TRANSITIONS), recording who cancelled, when,
        why, and whether it was past the deadline. In memory: the caller saves."""
        self.move_to(self.Status.CANCELLED)
        self.cancelled_at, self.cancelled_by, self.cancel_reason = now, by, reason
        self.past_deadline = self.past_deadline or past_deadline


class AbsenceQuerySet(models.QuerySet):
    def for_family(self, family):
        """The absences `family` declared (for a child in résidence alternée, only its own)."""
        return self.filter(family=family) if family else self.none()


class Absence(StateMachine, models.Model):
    """An absence a parent declares for booked days past the deadline (illness), with an
    optional medical certificate; the office excuses it (then it is not billed) or not."""

    class Status(models.TextChoices):
        PENDING = "pending", "En attente"
        EXCUSED = "excused", "Excusée"
        NOT_EXCUSED = "not_excused", "Non excusée"

    TRANSITIONS = {
        Status.PENDING: {Status.EXCUSED, Status.NOT_EXCUSED},
        Status.EXCUSED: {Status.NOT_EXCUSED},
        Status.NOT_EXCUSED: {Status.EXCUSED},
    }
    STATE_SUBJECT = "Une absence"

    child = models.ForeignKey(
        Child, on_delete=models.CASCADE, related_name="absences", verbose_name="enfant"
    )
    family = models.ForeignKey(
        Family,
        on_delete=models.CASCADE,
        related_name="absences",
        verbose_name="foyer",
        help_text="Le foyer qui a signalé l'absence, pour ses propres réservations.",
    )
    start_date = models.DateField("du")
    end_date = models.DateField("au")
    reason = models.TextField("motif", help_text="Par exemple : maladie.")
    certificate = models.FileField(
        "certificat médical",
        storage=get_private_storage,
        upload_to=absence_certificate_upload_to,
        blank=True,
        max_length=200,
    )
    certificate_name = models.CharField("nom du fichier", max_length=150, blank=True)
    certificate_type = models.CharField("type du fichier", max_length=50, blank=True)
    status = models.CharField(
        "décision", max_length=12, choices=Status.choices, default=Status.PENDING
    )
    office_note = models.TextField(
        "réponse du pôle administratif", blank=True, help_text="Communiquée à la famille."
    )
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="signalée par",
    )
    declared_at = models.DateTimeField("signalée le", default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="décidée par",
    )
    decided_at = models.DateTimeField("décidée le", null=True, blank=True)

    objects = AbsenceQuerySet.as_manager()

    class Meta:
        verbose_name = "absence signalée"
        verbose_name_plural = "absences signalées"
        ordering = ["-start_date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="absence_end_after_start",
                violation_error_message="La fin de l'absence doit suivre son début.",
            )
        ]

    def __str__(self):
        return f"Absence de {self.child} {self.period_label}"

    def save(self, *args, **kwargs):
        if self.family_id is None and self.child_id is not None:
            self.family_id = self.child.family_id
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("reservations:absence_detail", args=[self.pk])

    def get_parent_url(self):
        """The absence's page on the parents' side (what Échanges links a message to)."""
        return self.get_absolute_url()

    @property
    def parent_link_label(self) -> str:
        return f"Voir l'absence de {self.child.first_name}"

    @property
    def period_label(self) -> str:
        if self.start_date == self.end_date:
            return f"le {self.start_date:%d/%m/%Y}"
        return f"du {self.start_date:%d/%m/%Y} au {self.end_date:%d/%m/%Y}"

    def teleservice_label(self) -> str:
        """What the Échanges list shows in its "Téléservice" column for this absence."""
        return "Absences"

    def set_status(self, status, *, by, now):
        """Move to `status` if the move is allowed, recording who decided and when; the
        bookings follow (see services)."""
        self.move_to(status)
        self.decided_by = by
        self.decided_at = now


class CalendarFeedQuerySet(models.QuerySet):
    def for_family(self, family):
        return self.filter(family=family) if family else self.none()


class CalendarFeed(models.Model):
    """The private address of a child's calendar (an iCalendar feed) for one household.

    The address holds a token that calendar apps send without logging in. The token is not
    stored: it is an HMAC of `key` under the project's secret key, and only its SHA-256
    (`token_digest`) is kept, to find the feed. Regenerating draws a new key: the old address
    finds nothing at once (`reservations.feeds`)."""

    child = models.ForeignKey(
        Child, on_delete=models.CASCADE, related_name="calendar_feeds", verbose_name="enfant"
    )
    family = models.ForeignKey(
        Family, on_delete=models.CASCADE, related_name="+", verbose_name="foyer"
    )
    key = models.CharField("clé", max_length=64)
    token_digest = models.CharField("empreinte du jeton", max_length=64, unique=True)
    created_at = models.DateTimeField("créé le", default=timezone.now)

    objects = CalendarFeedQuerySet.as_manager()

    class Meta:
        verbose_name = "agenda en ligne"
        verbose_name_plural = "agendas en ligne"
        constraints = [
            models.UniqueConstraint(fields=["child", "family"], name="calendarfeed_once")
        ]

    def __str__(self):
        return f"Agenda en ligne de {self.child}"


class WaitlistEntryQuerySet(models.QuerySet):
    def for_family(self, family):
        return self.filter(family=family) if family else self.none()

    def waiting(self):
        return self.filter(status=WaitlistEntry.Status.WAITING)

    def with_rank(self):
        """Annotate `rank`: the entry's place in its line (1 for the first), counted among the
        entries still waiting for the same créneau, school and day."""
        ahead = (
            WaitlistEntry.objects.filter(
                status=WaitlistEntry.Status.WAITING,
                slot=models.OuterRef("slot"),
                school=models.OuterRef("school"),
                date=models.OuterRef("date"),
            )
            .filter(
                models.Q(position__lt=models.OuterRef("position"))
                | models.Q(position=models.OuterRef("position"), pk__lt=models.OuterRef("pk"))
            )
            .order_by()
            .values("slot")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        return self.annotate(rank=Coalesce(models.Subquery(ahead), 0) + 1)


class WaitlistEntry(StateMachine, models.Model):
    """A child waiting for a place on a full créneau, one day, at its school: booked
    automatically when a place frees while the day can still be booked
    (`reservations.waitlist`)."""

    class Status(models.TextChoices):
        WAITING = "waiting", "En attente"
        BOOKED = "booked", "Réservé"
        EXPIRED = "expired", "Délai dépassé"
        LEFT = "left", "Retiré par la famille"
        DROPPED = "dropped", "Retiré (plus réservable)"

    TRANSITIONS = {
        Status.WAITING: {Status.BOOKED, Status.EXPIRED, Status.LEFT, Status.DROPPED},
        Status.BOOKED: set(),
        Status.EXPIRED: set(),
        Status.LEFT: set(),
        Status.DROPPED: set(),
    }
    STATE_SUBJECT = "Une inscription en liste d'attente"

    child = models.ForeignKey(
        Child, on_delete=models.CASCADE, related_name="waitlist_entries", verbose_name="enfant"
    )
    family = models.ForeignKey(
        Family,
        on_delete=models.CASCADE,
        related_name="waitlist_entries",
        verbose_name="foyer",
        help_text="Le foyer qui a inscrit l'enfant : la réservation obtenue sera la sienne.",
    )
    slot = models.ForeignKey(
        Slot, on_delete=models.PROTECT, related_name="waitlist_entries", verbose_name="créneau"
    )
    date = models.DateField("date")
    school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        related_name="waitlist_entries",
        verbose_name="école",
        help_text="L'école de l'enfant à l'inscription : celle dont une place doit se libérer.",
    )
    position = models.PositiveIntegerField(
        "ordre", default=0, help_text="Les plus petits passent en premier."
    )
    status = models.CharField(
        "statut", max_length=10, choices=Status.choices, default=Status.WAITING
    )
    created_at = models.DateTimeField("inscrit le", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="inscrit par",
    )
    closed_at = models.DateTimeField("sorti de la liste le", null=True, blank=True)
    booking = models.ForeignKey(
        Booking,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="réservation obtenue",
    )
    note = models.CharField("motif de sortie", max_length=300, blank=True)

    objects = WaitlistEntryQuerySet.as_manager()

    class Meta:
        verbose_name = "inscription en liste d'attente"
        verbose_name_plural = "liste d'attente"
        ordering = ["date", "slot__position", "school", "position", "pk"]
        indexes = [
            models.Index(fields=["date", "slot", "school", "status"], name="waitlist_line"),
            models.Index(fields=["child", "date"], name="waitlist_child_date"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["child", "slot", "date"],
                condition=models.Q(status="waiting"),
                name="waitlist_once_per_child_slot_day",
                violation_error_message="Cet enfant est déjà en liste d'attente sur ce créneau "
                "ce jour-là.",
            )
        ]

    def __str__(self):
        return f"{self.child} — {self.slot} le {self.date:%d/%m/%Y}"

    def get_absolute_url(self):
        return reverse("reservations:waitlist_leave", args=[self.pk])

    def get_parent_url(self):
        """What Échanges links a message about this entry to: the booking it obtained, else
        the family's waiting lists."""
        if self.booking_id:
            return reverse("reservations:booking_detail", args=[self.booking_id])
        return reverse("reservations:waitlist")

    @property
    def parent_link_label(self) -> str:
        if self.booking_id:
            return f"Voir la réservation n° {self.booking_id}"
        return "Voir mes listes d'attente"

    def teleservice_label(self) -> str:
        """What the Échanges list shows in its "Téléservice" column."""
        return "Liste d'attente"

    @property
    def is_waiting(self) -> bool:
        return self.status == self.Status.WAITING

    @property
    def key(self) -> tuple:
        return (self.slot_id, self.school_id, self.date)
