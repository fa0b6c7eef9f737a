"""The hand-over lists (bordereaux de transmission) of invoices in recovery to the Trésor Public.

An invoice mise en recouvrement is "à transmettre" until the régisseur puts it on a numbered list,
then "transmise" with that list's number and date. An invoice is on one list at most (a unique
constraint on the list's lines), and numbers are gapless per régie and year (a NumberSequence row
locked while the list is created: a rolled-back creation gives its number back).

The models belong to the billing app (same tables); invoices and régies are named by reference
so that this module imports nothing of billing's core.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

TRANSMIT_PERMISSION = "billing.transmit_recovery"


class RecoveryHandover(models.Model):
    """A numbered list of a régie's invoices in recovery, handed over to the Trésor Public. Its
    lines keep what was left due on each invoice that day; it never changes afterwards."""

    regie = models.ForeignKey(
        "billing.Regie",
        on_delete=models.PROTECT,
        related_name="recovery_handovers",
        verbose_name="régie",
    )
    number = models.CharField("numéro", max_length=30, unique=True)
    created_at = models.DateTimeField("établi le", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="établi par",
    )
    invoice_count = models.PositiveIntegerField("nombre de factures")
    total_cents = models.BigIntegerField("montant transmis (centimes)")

    class Meta:
        verbose_name = "bordereau de transmission au Trésor Public"
        verbose_name_plural = "bordereaux de transmission au Trésor Public"
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("transmit_recovery", "Peut établir un bordereau de transmission au Trésor Public")
        ]

    def __str__(self):
        return f"Bordereau {self.number}"

    def get_absolute_url(self):
        return reverse("admin:billing_recoveryhandover_change", args=[self.pk])

    @property
    def date(self):
        """The day the list was drawn up (Europe/Paris)."""
        return timezone.localdate(self.created_at)


class RecoveryHandoverLine(models.Model):
    """One invoice on a hand-over list, with what was left due on it that day."""

    handover = models.ForeignKey(
        RecoveryHandover,
        on_delete=models.PROTECT,
        related_name="lines",
        verbose_name="bordereau",
    )
    # One list per invoice at most: the unique constraint below, checked by the database.
    invoice = models.ForeignKey(
        "billing.Invoice",
        on_delete=models.PROTECT,
        related_name="handover_lines",
        verbose_name="facture",
    )
    position = models.PositiveIntegerField("rang")
    due_cents = models.BigIntegerField("montant dû (centimes)")

    class Meta:
        verbose_name = "facture transmise"
        verbose_name_plural = "factures transmises"
        ordering = ["handover", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                name="invoice_handed_over_once",
                violation_error_message="Cette facture figure déjà sur un bordereau.",
            ),
        ]

    def __str__(self):
        return f"{self.handover.number} — facture {self.invoice_id}"
