"""Card payment's records: the Stripe Checkout Sessions opened for invoices, the webhook events
received (each once), and the payment issues the régisseur must look at.

They belong to the billing app (same tables); invoices and payments are named by reference so
that this module imports nothing of billing's core.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from common.states import StateMachine


class CheckoutSession(StateMachine, models.Model):
    """A Stripe Checkout Session opened for an invoice. Its state follows Stripe's (through the
    webhook and the nightly reconciliation); the invoice becomes paid only from a confirmed
    event."""

    class Status(models.TextChoices):
        OPEN = "open", "Ouverte"
        COMPLETE = "complete", "Terminée"
        EXPIRED = "expired", "Expirée"

    # Allowed moves, as Stripe's sessions go: an open page is completed (paid, or being paid) or
    # expires. A page expired here while Stripe was out of reach may still have been paid
    # meanwhile: Stripe's word then completes it. A completed page stays so (its payment may
    # still fail; that is `payment_status`).
    TRANSITIONS = {
        Status.OPEN: {Status.COMPLETE, Status.EXPIRED},
        Status.EXPIRED: {Status.COMPLETE},
        Status.COMPLETE: set(),
    }
    STATE_SUBJECT = "Une session de paiement"

    invoice = models.ForeignKey(
        "billing.Invoice",
        on_delete=models.PROTECT,
        related_name="checkout_sessions",
        verbose_name="facture",
    )
    session_id = models.CharField("session Stripe", max_length=255, unique=True)
    amount_cents = models.PositiveIntegerField("montant demandé (centimes)")
    currency = models.CharField("devise", max_length=3, default="eur")
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.OPEN)
    payment_status = models.CharField("état du paiement", max_length=30, blank=True)
    url = models.URLField("adresse de paiement", max_length=2000, blank=True)
    expires_at = models.DateTimeField("expire le")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="ouverte par",
    )
    created_at = models.DateTimeField("ouverte le", default=timezone.now)
    updated_at = models.DateTimeField("mise à jour le", auto_now=True)
    payment = models.OneToOneField(
        "billing.Payment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="checkout_session",
        verbose_name="paiement enregistré",
    )

    class Meta:
        verbose_name = "paiement en ligne (session)"
        verbose_name_plural = "paiements en ligne (sessions)"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "expires_at"], name="checkout_status")]

    def __str__(self):
        return f"{self.session_id} — {self.invoice.number}"


class StripeEvent(models.Model):
    """A webhook event, stored once (its id is unique) in the same transaction as its effect:
    a replayed event finds its row and does nothing."""

    event_id = models.CharField("événement Stripe", max_length=255, unique=True)
    type = models.CharField("type", max_length=100)
    object_id = models.CharField("objet", max_length=255, blank=True)
    received_at = models.DateTimeField("reçu le", default=timezone.now)
    outcome = models.CharField("suite donnée", max_length=255, blank=True)

    class Meta:
        verbose_name = "événement Stripe"
        verbose_name_plural = "événements Stripe"
        ordering = ["-received_at", "-pk"]

    def __str__(self):
        return f"{self.type} {self.event_id}"


class PaymentIssue(models.Model):
    """Something about money the régisseur must look at: a card payment whose amount or
    currency differs from what was due, money received for an invoice already paid or in
    recovery (to refund or to transmit to the Trésor Public), a rejected direct debit."""

    class Kind(models.TextChoices):
        AMOUNT_MISMATCH = "amount_mismatch", "Montant ou devise différents du dû"
        ALREADY_PAID = "already_paid", "Paiement reçu pour une facture déjà payée"
        IN_RECOVERY = "in_recovery", "Paiement reçu pour une facture en recouvrement"
        NOT_PAYABLE = (
            "not_payable",
            "Paiement reçu pour une facture qui n'attendait plus de paiement",
        )
        DEBIT_REJECTED = "debit_rejected", "Prélèvement rejeté"

    invoice = models.ForeignKey(
        "billing.Invoice",
        on_delete=models.PROTECT,
        related_name="payment_issues",
        verbose_name="facture",
    )
    kind = models.CharField("nature", max_length=20, choices=Kind.choices)
    amount_cents = models.BigIntegerField("montant reçu (centimes)", default=0)
    currency = models.CharField("devise", max_length=3, blank=True)
    payment = models.ForeignKey(
        "billing.Payment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="issues",
        verbose_name="paiement",
    )
    reference = models.CharField("référence", max_length=255, blank=True)
    detail = models.TextField("détail", blank=True)
    created_at = models.DateTimeField("signalé le", default=timezone.now)
    resolved_at = models.DateTimeField("traité le", null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="traité par",
    )
    resolution = models.TextField("suite donnée", blank=True)

    class Meta:
        verbose_name = "anomalie de paiement"
        verbose_name_plural = "anomalies de paiement"
        ordering = ["resolved_at", "-created_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.invoice.number}"
