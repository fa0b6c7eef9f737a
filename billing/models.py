"""Régies, tariffs, invoices and their lines, payments and their allocations, credit notes.

Money is integer cents throughout. An issued invoice and its lines never change: what happens
afterwards is a payment, a cancellation by a credit note, or a regularisation line on the
family's next invoice of the régie. `BookingCharge` records which booking each line charged,
so that a later change of a booking (a late excuse, a closure, a walk-in) is found and
regularised exactly once.
"""

import calendar
import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from billing.card.models import CheckoutSession, PaymentIssue, StripeEvent
from billing.directdebit.models import DebitRejection, DirectDebitTeleservice, Mandate, SepaBatch
from billing.recovery.models import RecoveryHandover, RecoveryHandoverLine
from common.bank import clean_bic, clean_iban
from common.models import StoredDocument
from common.money import format_cents
from common.states import StateMachine
from families.models import Child, Family, SchoolYear
from reservations.models import Activity, Booking, Slot

# The sub-domains' models (card payment, direct debit) belong to this app: imported here, they are
# registered with it like the core's.
__all__ = [
    "BookingCharge",
    "CheckoutSession",
    "CreditNote",
    "DebitRejection",
    "DirectDebitTeleservice",
    "Invoice",
    "InvoiceLine",
    "InvoicingRun",
    "Mandate",
    "NumberSequence",
    "Payment",
    "PaymentAllocation",
    "PaymentIssue",
    "RecoveryHandover",
    "RecoveryHandoverLine",
    "Regie",
    "RegieActivity",
    "SepaBatch",
    "StripeEvent",
    "Tariff",
    "TariffBracket",
]

prefix_validator = RegexValidator(
    r"^[A-Z]{2,8}$", "De 2 à 8 lettres majuscules sans accent, par exemple ALAI."
)
siret_validator = RegexValidator(r"^\d{14}$", "Le SIRET compte 14 chiffres.")


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def period_label(start: datetime.date, end: datetime.date) -> str:
    """ "Du 01/11/2026 au 30/11/2026", as "Mes factures" shows it."""
    return f"Du {start:%d/%m/%Y} au {end:%d/%m/%Y}"


class Regie(models.Model):
    """A régie de recettes: the town's cash office that bills and collects for some activities."""

    name = models.CharField(
        "nom",
        max_length=150,
        unique=True,
        help_text="Tel que les familles le lisent, par exemple « Régie de recette périscolaire "
        "municipale ».",
    )
    slug = models.SlugField("identifiant dans l'adresse", max_length=30, unique=True)
    code = models.CharField("code de la régie", max_length=20, blank=True)
    invoice_prefix = models.CharField(
        "préfixe des numéros",
        max_length=8,
        unique=True,
        validators=[prefix_validator],
        help_text="Les factures sont numérotées préfixe + année + rang, par exemple "
        "ALAI2026000123 ; les avoirs AV + préfixe + année + rang.",
    )
    position = models.PositiveSmallIntegerField("ordre", default=0)
    # The town's identity on every document.
    issuer = models.CharField("émetteur", max_length=150, default="Ville de Tassin la Demi-Lune")
    address = models.TextField("adresse", help_text="Une ligne par ligne d'adresse.")
    siret = models.CharField("SIRET", max_length=14, validators=[siret_validator])
    regisseur_name = models.CharField("régisseur", max_length=150)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    email = models.EmailField("e-mail", blank=True)
    payment_instructions = models.TextField(
        "modes de paiement",
        help_text="Imprimé sur chaque facture, sous « Comment payer ». Une ligne par mode.",
    )
    # Invoicing.
    issue_day = models.PositiveSmallIntegerField(
        "jour d'émission des factures",
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text="Les factures du mois M sont émises ce jour-là du mois M+1 (ou la nuit "
        "suivante).",
    )
    payment_delay_days = models.PositiveSmallIntegerField(
        "délai de paiement (jours)",
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="Date limite de paiement = date d'émission + ce nombre de jours.",
    )
    billing_start = models.DateField(
        "facturation à partir du",
        null=True,
        blank=True,
        help_text="Les réservations antérieures ne sont jamais facturées (mise en service).",
    )
    # Creditor details for SEPA direct debit (optional until direct debit is used).
    creditor_ics = models.CharField("identifiant créancier SEPA (ICS)", max_length=35, blank=True)
    creditor_iban = models.CharField("IBAN du compte de la régie", max_length=34, blank=True)
    creditor_bic = models.CharField("BIC", max_length=11, blank=True)
    activities = models.ManyToManyField(
        Activity,
        through="RegieActivity",
        related_name="+",
        verbose_name="activités facturées",
        blank=True,
    )

    class Meta:
        verbose_name = "régie"
        verbose_name_plural = "régies"
        ordering = ["position", "name"]
        permissions = [
            ("run_invoicing", "Peut lancer la facturation d'un mois"),
            ("view_journal", "Peut consulter le journal des encaissements"),
            ("view_caf_figures", "Peut consulter les chiffres pour la CAF"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        """The creditor's IBAN and BIC, when given, checked and normalised as the families'."""
        errors = {}
        if self.creditor_iban:
            try:
                self.creditor_iban = clean_iban(self.creditor_iban)
            except ValidationError as error:
                errors["creditor_iban"] = error.messages
        if self.creditor_bic:
            try:
                self.creditor_bic = clean_bic(self.creditor_bic, iban=self.creditor_iban)
            except ValidationError as error:
                errors["creditor_bic"] = error.messages
        if errors:
            raise ValidationError(errors)

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.address.splitlines() if line.strip()]

    @property
    def payment_lines(self) -> list[str]:
        return [line.strip() for line in self.payment_instructions.splitlines() if line.strip()]

    def issue_date_for(self, month: datetime.date) -> datetime.date:
        """The day the invoices of `month` are due to be issued (M+1, issue_day)."""
        following = month_end(month) + datetime.timedelta(days=1)
        return following.replace(day=self.issue_day)

    def slots(self):
        return Slot.objects.filter(activity__regie_link__regie=self)


class RegieActivity(models.Model):
    """The régie that bills an activity: each activity belongs to exactly one régie."""

    regie = models.ForeignKey(
        Regie, on_delete=models.CASCADE, related_name="activity_links", verbose_name="régie"
    )
    activity = models.OneToOneField(
        Activity,
        on_delete=models.PROTECT,
        related_name="regie_link",
        verbose_name="activité",
    )

    class Meta:
        verbose_name = "activité facturée"
        verbose_name_plural = "activités facturées"
        ordering = ["regie", "activity"]

    def __str__(self):
        return f"{self.activity} — {self.regie}"


class Tariff(models.Model):
    """The grid of one créneau for one school year: prices by quotient familial bracket."""

    slot = models.ForeignKey(
        Slot, on_delete=models.PROTECT, related_name="tariffs", verbose_name="créneau"
    )
    school_year = models.ForeignKey(
        SchoolYear, on_delete=models.PROTECT, related_name="tariffs", verbose_name="année scolaire"
    )
    walk_in_surcharge_cents = models.PositiveIntegerField(
        "majoration sans réservation (centimes)",
        default=0,
        help_text="Ajoutée au tarif pour un enfant accueilli sans réservation. 0 : aucune.",
    )

    class Meta:
        verbose_name = "grille tarifaire"
        verbose_name_plural = "grilles tarifaires"
        ordering = ["-school_year__start_date", "slot__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "school_year"],
                name="tariff_once_per_slot_and_year",
                violation_error_message="Ce créneau a déjà une grille pour cette année scolaire.",
            )
        ]

    def __str__(self):
        return f"{self.slot} — {self.school_year}"


class TariffBracket(models.Model):
    """One row of a grid: a unit price for the QF from `qf_min` (included) to `qf_max`
    (excluded; empty for the top bracket)."""

    tariff = models.ForeignKey(
        Tariff, on_delete=models.CASCADE, related_name="brackets", verbose_name="grille"
    )
    qf_min = models.PositiveIntegerField("QF à partir de (inclus)")
    qf_max = models.PositiveIntegerField(
        "QF jusqu'à (exclu)", null=True, blank=True, help_text="Vide pour la dernière tranche."
    )
    unit_price_cents = models.PositiveIntegerField("prix unitaire (centimes)")

    class Meta:
        verbose_name = "tranche de quotient familial"
        verbose_name_plural = "tranches de quotient familial"
        ordering = ["tariff", "qf_min"]
        constraints = [
            models.UniqueConstraint(
                fields=["tariff", "qf_min"],
                name="bracket_once_per_min",
                violation_error_message="Deux tranches commencent au même quotient.",
            ),
            models.CheckConstraint(
                condition=Q(qf_max__isnull=True) | Q(qf_max__gt=models.F("qf_min")),
                name="bracket_max_above_min",
                violation_error_message="La borne haute doit dépasser la borne basse.",
            ),
        ]

    def __str__(self):
        upper = f"{self.qf_max} €" if self.qf_max is not None else "∞"
        return f"[{self.qf_min} € ; {upper}[ : {format_cents(self.unit_price_cents)}"

    def contains(self, qf: int) -> bool:
        return self.qf_min <= qf and (self.qf_max is None or qf < self.qf_max)


class NumberSequence(models.Model):
    """The last number given, per régie, kind of document and year. Its row is locked
    (SELECT … FOR UPDATE) in the transaction that creates the document, so that numbers are
    sequential and gapless: a rolled-back transaction gives its numbers back."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", "Factures"
        CREDIT_NOTE = "credit", "Avoirs"
        HANDOVER = "handover", "Bordereaux de transmission au Trésor Public"

    regie = models.ForeignKey(Regie, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "compteur de numéros"
        verbose_name_plural = "compteurs de numéros"
        constraints = [
            models.UniqueConstraint(fields=["regie", "kind", "year"], name="sequence_once")
        ]

    def __str__(self):
        return f"{self.regie} — {self.get_kind_display()} {self.year} : {self.last_number}"


class InvoicingRunQuerySet(models.QuerySet):
    def stale(self, *, now: datetime.datetime):
        """Runs still marked running whose worker gave no sign of life for longer than
        INVOICING_RUN_STALE_AFTER before `now`: their process was stopped before their end."""
        return self.filter(
            status=InvoicingRun.Status.RUNNING,
            heartbeat_at__lt=now - settings.INVOICING_RUN_STALE_AFTER,
        )

    def mark_interrupted(self, *, now: datetime.datetime) -> int:
        """Move the stale runs to interrupted, finished at their last sign of life; returns how
        many. One UPDATE whose condition is checked again on a row that a batch has just
        refreshed, so a run that is alive is never taken."""
        return self.stale(now=now).update(
            status=InvoicingRun.Status.INTERRUPTED,
            finished_at=models.F("heartbeat_at"),
            error=InvoicingRun.INTERRUPTED_ERROR,
        )


class InvoicingRun(models.Model):
    """One run of the monthly invoicing for a régie and a month, with counts that grow while it
    runs (each batch commits its invoices and its counts together).

    The worker gives a sign of life (`heartbeat_at`) when it starts, when it has listed the
    families and with each batch. A run still running without a sign of life for longer than
    INVOICING_RUN_STALE_AFTER was stopped before its end (process killed, server restarted):
    it is interrupted. Its committed batches stay issued; running the month again issues the
    remaining families only, and the new run records which run it `resumes`."""

    class Status(models.TextChoices):
        RUNNING = "running", "En cours"
        DONE = "done", "Terminée"
        FAILED = "failed", "Échouée"
        INTERRUPTED = "interrupted", "Interrompue"

    INTERRUPTED_ERROR = (
        "La facturation s'est arrêtée avant la fin (processus interrompu). Les factures des "
        "lots terminés sont émises ; relancer la facturation de ce mois termine les familles "
        "restantes, sans doublon."
    )

    regie = models.ForeignKey(
        Regie, on_delete=models.PROTECT, related_name="runs", verbose_name="régie"
    )
    month = models.DateField("mois facturé", help_text="Le premier jour du mois.")
    issue_date = models.DateField("date d'émission")
    status = models.CharField("état", max_length=12, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField("lancée par", max_length=150, blank=True)
    started_at = models.DateTimeField("commencée le", default=timezone.now)
    heartbeat_at = models.DateTimeField(
        "dernier signe d'activité",
        default=timezone.now,
        help_text="Mis à jour à chaque lot de factures validé.",
    )
    finished_at = models.DateTimeField("terminée le", null=True, blank=True)
    resumes = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resumed_by",
        verbose_name="reprend la facturation",
        help_text="La facturation interrompue de ce mois que celle-ci termine.",
    )
    families_seen = models.PositiveIntegerField("familles examinées", default=0)
    invoices_issued = models.PositiveIntegerField("factures émises", default=0)
    skipped = models.PositiveIntegerField(
        "familles sans facture",
        default=0,
        help_text="Déjà facturées pour ce mois, ou rien à facturer.",
    )
    amount_cents = models.BigIntegerField("montant émis (centimes)", default=0)
    error = models.TextField("erreur", blank=True)

    objects = InvoicingRunQuerySet.as_manager()

    class Meta:
        verbose_name = "facturation mensuelle"
        verbose_name_plural = "facturations mensuelles"
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["regie", "month", "status"], name="run_regie_month")]

    def __str__(self):
        return f"{self.regie} — {self.month:%m/%Y} ({self.display_status_label()})"

    @property
    def month_label(self) -> str:
        return f"{self.month:%m/%Y}"

    def is_stale(self, *, now: datetime.datetime) -> bool:
        """Still marked running, but without a sign of life for too long on `now`."""
        return (
            self.status == self.Status.RUNNING
            and self.heartbeat_at < now - settings.INVOICING_RUN_STALE_AFTER
        )

    def display_status(self, *, now: datetime.datetime | None = None) -> str:
        """The state as staff must read it: a stale running run is already interrupted, even
        before `mark_interrupted` has recorded it."""
        if self.is_stale(now=now or timezone.now()):
            return self.Status.INTERRUPTED
        return self.status

    def display_status_label(self, *, now: datetime.datetime | None = None) -> str:
        return self.Status(self.display_status(now=now)).label


class InvoiceQuerySet(models.QuerySet):
    def for_family(self, family):
        return self.filter(family=family) if family else self.none()

    def live(self):
        """Invoices that count: every state but cancelled."""
        return self.exclude(status=Invoice.Status.CANCELLED)

    def open(self):
        """Invoices that still ask for money through the portal: impayée and prélèvement
        programmé (what "Solde au" adds up). Recovery is counted apart (see `in_recovery`)."""
        return self.filter(status__in=Invoice.OPEN_STATUSES)

    def in_recovery(self):
        return self.filter(status=Invoice.Status.RECOVERY)

    def owed(self):
        """Everything the family still owes the régie: open invoices and those in recovery."""
        return self.filter(status__in=[*Invoice.OPEN_STATUSES, Invoice.Status.RECOVERY])

    def with_paid(self):
        """Annotates `paid_total`: the sum of the invoice's payments, in cents."""
        paid = (
            Payment.objects.filter(invoice=models.OuterRef("pk"))
            .order_by()
            .values("invoice")
            .annotate(total=Sum("amount_cents"))
            .values("total")
        )
        return self.annotate(paid_total=Coalesce(models.Subquery(paid), 0))


class InvoiceStatus(models.TextChoices):
    """The states of an invoice (Invoice.Status); at module level so that Meta can name them."""

    UNPAID = "impayee", "Impayée"
    DIRECT_DEBIT = "prelevement", "Prélèvement programmé"
    PAID = "payee", "Payée"
    RECOVERY = "recouvrement", "Mise en recouvrement"
    CANCELLED = "annulee", "Annulée"


class Invoice(StateMachine, models.Model):
    """A family's invoice of one régie for one month. Once issued it never changes, but for
    its state (see TRANSITIONS) and the payments and credit note that refer to it."""

    Status = InvoiceStatus

    # Allowed moves. A programmed debit goes back to impayée when its mandate is revoked before
    # the collection; a paid invoice goes back to impayée only when its direct debit is
    # rejected by the bank (a reversing payment is recorded). Recovery is final on the portal:
    # the Trésor Public collects from then on.
    TRANSITIONS = {
        Status.UNPAID: {Status.PAID, Status.CANCELLED, Status.RECOVERY, Status.DIRECT_DEBIT},
        Status.DIRECT_DEBIT: {Status.PAID, Status.UNPAID, Status.CANCELLED},
        Status.PAID: {Status.UNPAID},
        Status.RECOVERY: set(),
        Status.CANCELLED: set(),
    }
    # What "Solde au" counts and what a counter payment may settle.
    OPEN_STATUSES = [Status.UNPAID, Status.DIRECT_DEBIT]

    regie = models.ForeignKey(
        Regie, on_delete=models.PROTECT, related_name="invoices", verbose_name="régie"
    )
    family = models.ForeignKey(
        Family, on_delete=models.PROTECT, related_name="invoices", verbose_name="foyer"
    )
    number = models.CharField("numéro", max_length=30, unique=True)
    period_start = models.DateField("du")
    period_end = models.DateField("au")
    issue_date = models.DateField("émise le")
    due_date = models.DateField("à payer avant le")
    status = models.CharField(
        "statut", max_length=12, choices=Status.choices, default=Status.UNPAID
    )
    total_cents = models.BigIntegerField("montant (centimes)")
    # The payer and the household as they were on the day of issue.
    payer_name = models.CharField("payeur", max_length=200)
    payer_address = models.TextField("adresse du payeur")
    family_label = models.CharField("foyer", max_length=200)
    quotient_label = models.CharField("quotient familial appliqué", max_length=200, blank=True)
    run = models.ForeignKey(
        InvoicingRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name="facturation",
    )
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name="remplace la facture",
    )
    created_at = models.DateTimeField("créée le", default=timezone.now)
    paid_at = models.DateTimeField("soldée le", null=True, blank=True)
    # Reminder and recovery.
    reminder_sent_at = models.DateTimeField("rappel envoyé le", null=True, blank=True)
    recovery_date = models.DateField("mise en recouvrement le", null=True, blank=True)
    # Direct debit.
    mandate = models.ForeignKey(
        "Mandate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name="mandat de prélèvement",
    )
    debit_date = models.DateField("date de prélèvement", null=True, blank=True)
    sepa_batch = models.ForeignKey(
        "SepaBatch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name="lot de prélèvement",
        help_text="Une facture n'appartient jamais qu'à un seul lot.",
    )
    # Its PDF as issued, made once (billing.documents).
    document = models.OneToOneField(
        StoredDocument,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name="PDF conservé",
    )

    objects = InvoiceQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "facture"
        verbose_name_plural = "factures"
        ordering = ["-period_start", "-issue_date", "-pk"]
        indexes = [
            models.Index(fields=["family", "regie", "-period_start"], name="invoice_family_regie"),
            models.Index(fields=["regie", "period_start", "status"], name="invoice_regie_period"),
            models.Index(fields=["status", "due_date"], name="invoice_status_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["family", "regie", "period_start"],
                condition=~Q(status=InvoiceStatus.CANCELLED),
                name="invoice_once_per_family_regie_month",
                violation_error_message="Ce foyer a déjà une facture de cette régie pour ce mois.",
            ),
            models.CheckConstraint(condition=Q(total_cents__gt=0), name="invoice_total_positive"),
        ]

    def __str__(self):
        return f"Facture {self.number}"

    def get_absolute_url(self):
        return reverse("billing:invoice_detail", args=[self.pk])

    def get_parent_url(self):
        """The invoice's page on the parents' side (what Échanges links a message to)."""
        return self.get_absolute_url()

    @property
    def parent_link_label(self) -> str:
        return f"Voir la facture n° {self.number}"

    def get_pdf_url(self):
        return reverse("billing:invoice_pdf", args=[self.pk])

    def teleservice_label(self) -> str:
        """The "Téléservice" column of Échanges for a thread about this invoice."""
        return self.regie.name

    @property
    def period_label(self) -> str:
        return period_label(self.period_start, self.period_end)

    @property
    def month_label(self) -> str:
        from common.dates import month_name

        return month_name(self.period_start)

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def status_badge(self) -> str:
        """The Bootstrap colour of the status badge."""
        return {
            self.Status.UNPAID: "warning",
            self.Status.DIRECT_DEBIT: "info",
            self.Status.PAID: "success",
            self.Status.RECOVERY: "danger",
        }.get(self.status, "secondary")

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def in_recovery(self) -> bool:
        return self.status == self.Status.RECOVERY

    @property
    def is_programmed_debit(self) -> bool:
        return self.status == self.Status.DIRECT_DEBIT

    @property
    def is_payable_online(self) -> bool:
        """Only an impayée invoice can be paid by card: not a programmed debit (the bank
        collects it), not one in recovery (the Trésor Public does)."""
        return self.status == self.Status.UNPAID

    def paid_cents(self) -> int:
        if hasattr(self, "paid_total"):
            return self.paid_total
        return self.payments.aggregate(total=Coalesce(Sum("amount_cents"), 0))["total"]

    def due_cents(self) -> int:
        """What is left to pay (0 once paid or cancelled)."""
        if self.is_cancelled:
            return 0
        return max(self.total_cents - self.paid_cents(), 0)

    def move_refused_message(self, state) -> str:
        return (
            f"La facture {self.number} est « {self.state_label(self.status)} » : elle ne "
            f"peut pas devenir « {self.state_label(state)} »."
        )

    def set_status(self, status, *, now=None):
        """Move to `status` if TRANSITIONS allow it (ValidationError otherwise); not saved.
        Becoming paid records when."""
        self.move_to(status)
        if status == self.Status.PAID:
            self.paid_at = now or timezone.now()


class InvoiceLine(models.Model):
    """One line of an invoice: quantity × unit price = amount, for a child and a créneau."""

    class Kind(models.TextChoices):
        BOOKING = "booking", "Réservations"
        WALK_IN = "walk_in", "Accueil sans réservation"
        SURCHARGE = "surcharge", "Majoration sans réservation"
        REGULARISATION = "regularisation", "Régularisation"

    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="lines", verbose_name="facture"
    )
    position = models.PositiveSmallIntegerField("rang")
    kind = models.CharField("nature", max_length=16, choices=Kind.choices)
    child = models.ForeignKey(
        Child,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="enfant",
    )
    slot = models.ForeignKey(
        Slot,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="créneau",
    )
    label = models.CharField("libellé", max_length=250)
    quantity = models.IntegerField("quantité")
    unit_price_cents = models.IntegerField("prix unitaire (centimes)")
    amount_cents = models.BigIntegerField("montant (centimes)")
    is_surcharge = models.BooleanField(
        "majoration",
        default=False,
        help_text="Une majoration n'est pas un frais de garde (attestation fiscale).",
    )
    service_date = models.DateField(
        "date concernée", null=True, blank=True, help_text="Pour une régularisation."
    )

    class Meta:
        verbose_name = "ligne de facture"
        verbose_name_plural = "lignes de facture"
        ordering = ["invoice", "position"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents=models.F("quantity") * models.F("unit_price_cents")),
                name="line_amount_is_quantity_times_price",
            )
        ]

    def __str__(self):
        return self.label

    @property
    def is_regularisation(self) -> bool:
        return self.kind == self.Kind.REGULARISATION


class BookingCharge(models.Model):
    """What an invoice line charged for one booking (negative for a regularisation that gives
    it back). The net of a booking's charges on invoices that are not cancelled says what the
    family has been billed for it."""

    booking = models.ForeignKey(
        Booking, on_delete=models.PROTECT, related_name="+", verbose_name="réservation"
    )
    line = models.ForeignKey(
        InvoiceLine, on_delete=models.CASCADE, related_name="charges", verbose_name="ligne"
    )
    amount_cents = models.IntegerField("montant (centimes)")

    class Meta:
        verbose_name = "réservation facturée"
        verbose_name_plural = "réservations facturées"
        indexes = [models.Index(fields=["booking"], name="charge_booking")]

    def __str__(self):
        return f"{self.booking_id} → {self.line_id} : {self.amount_cents}"


class PaymentQuerySet(models.QuerySet):
    def for_family(self, family):
        return self.filter(invoice__family=family) if family else self.none()

    def unreversed_debits(self):
        """Direct debits the bank has not returned (no reversing payment), latest first: what
        a rejection may reverse."""
        return self.filter(
            means=Payment.Means.DIRECT_DEBIT, amount_cents__gt=0, reversed_by__isnull=True
        ).order_by("-paid_on", "-pk")


class Payment(models.Model):
    """Money received for an invoice. Append-only: a payment is never edited nor deleted."""

    class Means(models.TextChoices):
        CARD = "carte", "Carte bancaire"
        DIRECT_DEBIT = "prelevement", "Prélèvement"
        CASH = "especes", "Espèces"
        CHEQUE = "cheque", "Chèque"
        TRANSFER = "virement", "Virement"

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="payments", verbose_name="facture"
    )
    amount_cents = models.IntegerField(
        "montant (centimes)", help_text="Négatif pour l'annulation d'un prélèvement rejeté."
    )
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name="annule le paiement",
        help_text="Un prélèvement rejeté par la banque est annulé par un paiement opposé.",
    )
    paid_on = models.DateField("date du paiement")
    means = models.CharField("moyen de paiement", max_length=12, choices=Means.choices)
    reference = models.CharField(
        "référence",
        max_length=100,
        blank=True,
        help_text="Numéro du chèque, référence du virement ou de la transaction.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="enregistré par",
    )
    recorded_at = models.DateTimeField("enregistré le", default=timezone.now)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = "paiement"
        verbose_name_plural = "paiements"
        ordering = ["-paid_on", "-pk"]
        indexes = [models.Index(fields=["paid_on"], name="payment_paid_on")]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0, reverses__isnull=True)
                | Q(amount_cents__lt=0, reverses__isnull=False),
                name="payment_positive_unless_reversal",
            )
        ]
        permissions = [("record_payment", "Peut enregistrer un paiement au guichet")]

    def __str__(self):
        amount = format_cents(self.amount_cents)
        return f"{amount} ({self.get_means_display()}) le {self.paid_on:%d/%m/%Y}"


class PaymentAllocation(models.Model):
    """The part of a payment that pays one line (negative for a line that is a credit)."""

    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, related_name="allocations", verbose_name="paiement"
    )
    line = models.ForeignKey(
        InvoiceLine, on_delete=models.PROTECT, related_name="allocations", verbose_name="ligne"
    )
    amount_cents = models.IntegerField("montant (centimes)")

    class Meta:
        verbose_name = "affectation d'un paiement"
        verbose_name_plural = "affectations des paiements"
        ordering = ["payment", "line__position"]

    def __str__(self):
        return f"{self.payment_id} → {self.line_id} : {self.amount_cents}"


class CreditNote(models.Model):
    """The credit note (avoir) that cancels an invoice, with its own gapless numbering."""

    invoice = models.OneToOneField(
        Invoice,
        on_delete=models.PROTECT,
        related_name="credit_note",
        verbose_name="facture annulée",
    )
    number = models.CharField("numéro", max_length=30, unique=True)
    issue_date = models.DateField("émis le")
    amount_cents = models.BigIntegerField("montant (centimes)")
    reason = models.TextField("motif")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="émis par",
    )
    created_at = models.DateTimeField("créé le", default=timezone.now)
    document = models.OneToOneField(
        StoredDocument,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name="PDF conservé",
    )

    class Meta:
        verbose_name = "avoir"
        verbose_name_plural = "avoirs"
        ordering = ["-issue_date", "-pk"]
        permissions = [("cancel_invoice", "Peut annuler une facture par un avoir et la réémettre")]

    def __str__(self):
        return f"Avoir {self.number}"

    def get_pdf_url(self):
        return reverse("billing:credit_note_pdf", args=[self.invoice_id])


class TaxCertificateDocument(models.Model):
    """A tax certificate of a year that is over, kept as made on `issued_on`; one per content
    (`fingerprint`): a payment recorded late for that year makes a new one."""

    family = models.ForeignKey(
        Family, on_delete=models.PROTECT, related_name="+", verbose_name="foyer"
    )
    regie = models.ForeignKey(
        Regie, on_delete=models.PROTECT, related_name="+", verbose_name="régie"
    )
    year = models.PositiveSmallIntegerField("année")
    fingerprint = models.CharField("empreinte du contenu", max_length=64)
    issued_on = models.DateField("établie le")
    document = models.OneToOneField(
        StoredDocument, on_delete=models.PROTECT, related_name="+", verbose_name="PDF conservé"
    )

    class Meta:
        verbose_name = "attestation fiscale conservée"
        verbose_name_plural = "attestations fiscales conservées"
        ordering = ["-year", "-issued_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["family", "regie", "year", "fingerprint"],
                name="tax_certificate_once_per_content",
            )
        ]

    def __str__(self):
        return f"Attestation fiscale {self.year} — {self.family}"
