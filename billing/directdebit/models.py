"""Direct debit's records: the téléservice that files mandates for a régie, the SEPA mandates,
the numbered pain.008 batches and the debits the bank rejected.

They belong to the billing app (same tables); régies, invoices and payments are named by
reference so that this module imports nothing of billing's core.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from common.bank import mask_iban
from common.states import StateMachine
from enrolment.models import Teleservice
from families.models import Family


class DirectDebitTeleservice(models.Model):
    """The régie a "Prélèvement automatique" téléservice files mandates for."""

    teleservice = models.OneToOneField(
        "enrolment.Teleservice",
        on_delete=models.CASCADE,
        related_name="direct_debit_regie",
        verbose_name="téléservice",
        limit_choices_to={"kind": Teleservice.Kind.PRELEVEMENT},
    )
    regie = models.ForeignKey(
        "billing.Regie",
        on_delete=models.PROTECT,
        related_name="direct_debit_teleservices",
        verbose_name="régie",
    )

    class Meta:
        verbose_name = "téléservice de prélèvement"
        verbose_name_plural = "téléservices de prélèvement"

    def __str__(self):
        return f"{self.teleservice} — {self.regie}"


class MandateStatus(models.TextChoices):
    """The states of a mandate (Mandate.Status); at module level so that Meta can name them."""

    ACTIVE = "active", "Actif"
    REVOKED = "revoked", "Révoqué"


class Mandate(StateMachine, models.Model):
    """A SEPA direct-debit mandate of a family for a régie (at most one active per pair)."""

    Status = MandateStatus
    # A revoked mandate is never used again: a new request makes a new mandate.
    TRANSITIONS = {Status.ACTIVE: {Status.REVOKED}, Status.REVOKED: set()}
    STATE_SUBJECT = "Un mandat"

    class Sequence(models.TextChoices):
        FIRST = "FRST", "Premier prélèvement"
        RECURRENT = "RCUR", "Prélèvements suivants"

    family = models.ForeignKey(
        Family, on_delete=models.PROTECT, related_name="mandates", verbose_name="foyer"
    )
    regie = models.ForeignKey(
        "billing.Regie", on_delete=models.PROTECT, related_name="mandates", verbose_name="régie"
    )
    rum = models.CharField("référence unique du mandat (RUM)", max_length=35, unique=True)
    creditor_ics = models.CharField("ICS du créancier", max_length=35)
    account_holder = models.CharField("titulaire du compte", max_length=120)
    iban = models.CharField("IBAN", max_length=34)
    bic = models.CharField("BIC", max_length=11)
    signed_on = models.DateField("signé le")
    sequence = models.CharField(
        "séquence", max_length=4, choices=Sequence.choices, default=Sequence.FIRST
    )
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.ACTIVE)
    request = models.OneToOneField(
        "enrolment.EnrolmentRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mandate",
        verbose_name="demande",
    )
    created_at = models.DateTimeField("créé le", default=timezone.now)
    revoked_at = models.DateTimeField("révoqué le", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="révoqué par",
    )

    history = HistoricalRecords(excluded_fields=["iban"])

    class Meta:
        verbose_name = "mandat de prélèvement"
        verbose_name_plural = "mandats de prélèvement"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["family", "regie"],
                condition=Q(status=MandateStatus.ACTIVE),
                name="mandate_one_active_per_family_regie",
                violation_error_message="Ce foyer a déjà un mandat actif pour cette régie.",
            )
        ]
        permissions = [("export_sepa", "Peut exporter les lots de prélèvement SEPA")]

    def __str__(self):
        return f"Mandat {self.rum}"

    @property
    def masked_iban(self) -> str:
        """FR76 •••• •••• 1234: the only form in which an IBAN is shown or logged."""
        return mask_iban(self.iban)

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class SepaBatch(models.Model):
    """One collection of a régie: a numbered pain.008 file for a collection date. It claims its
    invoices in the transaction that creates it; asked again for the same date, the same file
    is returned."""

    regie = models.ForeignKey(
        "billing.Regie", on_delete=models.PROTECT, related_name="sepa_batches", verbose_name="régie"
    )
    number = models.CharField("numéro du lot", max_length=35, unique=True)
    collection_date = models.DateField("date d'échéance")
    message_id = models.CharField("identifiant du message", max_length=35, unique=True)
    invoice_count = models.PositiveIntegerField("nombre de prélèvements", default=0)
    total_cents = models.BigIntegerField("montant total (centimes)", default=0)
    xml = models.TextField("fichier pain.008")
    created_at = models.DateTimeField("créé le", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="créé par",
    )

    class Meta:
        verbose_name = "lot de prélèvement SEPA"
        verbose_name_plural = "lots de prélèvement SEPA"
        ordering = ["-collection_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["regie", "collection_date"], name="sepa_batch_once_per_regie_date"
            )
        ]

    def __str__(self):
        return f"Lot {self.number} du {self.collection_date:%d/%m/%Y}"


class DebitRejection(models.Model):
    """A direct debit the bank returned: the reversing payment and the reason."""

    invoice = models.ForeignKey(
        "billing.Invoice",
        on_delete=models.PROTECT,
        related_name="debit_rejections",
        verbose_name="facture",
    )
    reversal = models.OneToOneField(
        "billing.Payment",
        on_delete=models.PROTECT,
        related_name="rejection",
        verbose_name="paiement d'annulation",
    )
    reason_code = models.CharField("code motif", max_length=4, blank=True)
    reason = models.CharField("motif", max_length=250)
    rejected_on = models.DateField("rejeté le")
    new_due_date = models.DateField("nouvelle date limite")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="enregistré par",
    )
    recorded_at = models.DateTimeField("enregistré le", default=timezone.now)

    class Meta:
        verbose_name = "rejet de prélèvement"
        verbose_name_plural = "rejets de prélèvement"
        ordering = ["-rejected_on", "-pk"]

    def __str__(self):
        return f"Rejet — {self.invoice.number}"
