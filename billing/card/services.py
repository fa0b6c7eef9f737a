"""Card payment of an invoice through Stripe Checkout: settling the money.

The invoice becomes paid only from a signed webhook event (`event_handle`) or the nightly
reconciliation (`reconcile_sessions`); both settle a session through `session_settle`, under a
lock on the session and the invoice, so that a payment is recorded once whatever the order and
the number of deliveries. Money that arrives for an invoice that no longer expects it is
recorded and flagged for the régisseur (PaymentIssue), never lost. The pages themselves are
opened and closed by `billing.card.sessions`.
"""

import dataclasses
import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from billing import stripe_gateway
from billing.models import Invoice, Payment
from billing.services import allocate, payment_record
from common.emails import absolute_url
from common.money import format_cents
from exchanges.services import notify_family

from .models import CheckoutSession, PaymentIssue, StripeEvent
from .sessions import CURRENCY, FAILED

logger = logging.getLogger(__name__)

# The reconciliation leaves alone the sessions a parent may still be paying on.
RECONCILE_AFTER = datetime.timedelta(minutes=15)


# Settling a session ----------------------------------------------------------------------------

PAID = "paid"
EXPIRED = "expired"
FAILED_OUTCOME = "failed"
WAITING = "waiting"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What settling a session did, in a few words for the StripeEvent row and the logs."""

    text: str
    payment: Payment | None = None
    issue: PaymentIssue | None = None


def session_settle(result: stripe_gateway.CheckoutResult, *, kind: str) -> Outcome:
    """Bring our CheckoutSession in line with Stripe's `result`; `kind` is PAID (money
    confirmed), EXPIRED, FAILED_OUTCOME (an asynchronous payment failed) or WAITING (complete,
    money not confirmed yet). Runs under a lock on the session then the invoice and re-reads
    both, so that events in any order and any number settle a session once."""
    with transaction.atomic():
        # Locks in the same order as payment_start (the invoice, then its sessions), so that a
        # payment started while an event is settled waits instead of deadlocking.
        invoice_id = (
            CheckoutSession.objects.filter(session_id=result.id)
            .values_list("invoice_id", flat=True)
            .first()
        )
        if invoice_id is None:
            return Outcome("session inconnue")
        invoice = (
            Invoice.objects.select_for_update().select_related("regie", "family").get(pk=invoice_id)
        )
        session = CheckoutSession.objects.select_for_update().get(session_id=result.id)
        if session.payment_id:
            if session.settle_in(CheckoutSession.Status.COMPLETE):
                session.save(update_fields=["status", "updated_at"])
            return Outcome("paiement déjà enregistré")
        if kind == PAID:
            if (
                session.status == CheckoutSession.Status.COMPLETE
                and session.payment_status == "paid"
            ):
                return Outcome("anomalie déjà signalée")  # money received, flagged, no payment
            return _record_money(session, invoice, result)
        if kind == EXPIRED:
            if session.status == CheckoutSession.Status.EXPIRED:
                return Outcome("déjà expirée")
            if not session.can_move_to(CheckoutSession.Status.EXPIRED):
                return Outcome("déjà terminée")  # a completed page does not expire
            session.move_to(CheckoutSession.Status.EXPIRED)
            session.save(update_fields=["status", "updated_at"])
            return Outcome("expirée")
        if kind == FAILED_OUTCOME:
            if session.payment_status == FAILED:
                return Outcome("échec déjà enregistré")
            session.settle_in(CheckoutSession.Status.COMPLETE)
            session.payment_status = FAILED
            session.save(update_fields=["status", "payment_status", "updated_at"])
            _tell_family(invoice, "payment_failed", amount_cents=session.amount_cents)
            return Outcome("paiement échoué")
        # WAITING: the customer finished the page; the money is confirmed later (a failure
        # that arrived first is kept).
        session.settle_in(CheckoutSession.Status.COMPLETE)
        if session.payment_status != FAILED:
            session.payment_status = result.payment_status or session.payment_status
        session.save(update_fields=["status", "payment_status", "updated_at"])
        return Outcome("en attente de confirmation du paiement")


def _record_money(session: CheckoutSession, invoice: Invoice, result) -> Outcome:
    amount = result.amount_total if result.amount_total is not None else 0
    currency = (result.currency or "").lower()
    reference = result.payment_intent or result.id
    session.settle_in(CheckoutSession.Status.COMPLETE)
    session.payment_status = "paid"
    today = timezone.localdate()

    if invoice.is_payable_online or (invoice.is_programmed_debit and not invoice.sepa_batch_id):
        due = invoice.due_cents()
        if amount != session.amount_cents or amount != due or currency != session.currency:
            session.save(update_fields=["status", "payment_status", "updated_at"])
            issue = _flag(
                invoice,
                PaymentIssue.Kind.AMOUNT_MISMATCH,
                amount,
                currency,
                reference,
                detail=(
                    f"Reçu {format_cents(amount) if currency == CURRENCY else f'{amount} {currency}'}"
                    f" ; demandé {format_cents(session.amount_cents)} ; reste dû "
                    f"{format_cents(due)}. Facture laissée « {invoice.get_status_display()} »."
                ),
            )
            _tell_family(invoice, "payment_review", amount_cents=amount, issue=issue)
            return Outcome("montant ou devise différents : signalé", issue=issue)
        payment = payment_record(
            invoice=invoice,
            amount_cents=amount,
            paid_on=today,
            means=Payment.Means.CARD,
            reference=reference,
        )
        session.payment = payment
        session.save(update_fields=["status", "payment_status", "payment", "updated_at"])
        _tell_family(invoice, "payment_received", amount_cents=amount, payment=payment)
        return Outcome("payée", payment=payment)

    return _money_not_expected(session, invoice, amount, currency, reference, today)


def _money_not_expected(session, invoice, amount, currency, reference, today) -> Outcome:
    """The invoice no longer expects this money: keep it and flag it for the régisseur."""
    if invoice.status == Invoice.Status.PAID:
        kind = PaymentIssue.Kind.ALREADY_PAID
        detail = "La facture était déjà payée : à rembourser."
    elif invoice.in_recovery:
        kind = PaymentIssue.Kind.IN_RECOVERY
        detail = "La facture est en recouvrement : à transmettre au Trésor Public ou à rembourser."
    else:
        kind = PaymentIssue.Kind.NOT_PAYABLE
        detail = (
            f"La facture est « {invoice.get_status_display().lower()} » : à rembourser "
            "(ou à affecter)."
        )
    payment = None
    if amount > 0:
        payment = Payment.objects.create(
            invoice=invoice,
            amount_cents=amount,
            paid_on=today,
            means=Payment.Means.CARD,
            reference=reference[:100],
        )
        _allocate_what_is_left(payment, invoice)
    if currency != CURRENCY:
        detail += f" Devise reçue : {currency or 'inconnue'}."
    session.payment = payment
    session.save(update_fields=["status", "payment_status", "payment", "updated_at"])
    issue = _flag(invoice, kind, amount, currency, reference, detail=detail, payment=payment)
    _tell_family(invoice, "payment_review", amount_cents=amount, issue=issue)
    return Outcome(f"paiement enregistré et signalé ({kind})", payment=payment, issue=issue)


def _allocate_what_is_left(payment: Payment, invoice: Invoice):
    """Allocate to the invoice's lines what they still lack, at most the payment; the rest
    stays unallocated (to refund)."""
    if invoice.is_cancelled:
        return
    paid_before = invoice.paid_cents() - payment.amount_cents
    left = max(invoice.total_cents - paid_before, 0)
    part = min(left, payment.amount_cents)
    if part <= 0:
        return
    original = payment.amount_cents
    payment.amount_cents = part  # allocate() splits the payment's amount over the lines
    try:
        allocate(payment, invoice)
    except ValidationError:
        logger.warning("Payment %s left unallocated on invoice %s.", payment.pk, invoice.pk)
    finally:
        payment.amount_cents = original


def _flag(invoice, kind, amount, currency, reference, *, detail, payment=None) -> PaymentIssue:
    logger.warning("Payment issue %s on invoice %s (%s).", kind, invoice.pk, reference)
    return PaymentIssue.objects.create(
        invoice=invoice,
        kind=kind,
        amount_cents=amount,
        currency=currency[:3],
        payment=payment,
        reference=reference[:255],
        detail=detail,
    )


SUBJECTS = {
    "payment_received": "Paiement reçu pour la facture {number}",
    "payment_failed": "Le paiement de la facture {number} a échoué",
    "payment_review": "Votre paiement pour la facture {number} est à l'étude",
}


def _tell_family(invoice: Invoice, template: str, **context):
    """A message of its own in Échanges (its subject says what happened), about the invoice,
    e-mailed once the transaction commits."""
    notify_family(
        family=invoice.family,
        subject=SUBJECTS[template].format(number=invoice.number),
        body=render_to_string(
            f"billing/messages/{template}.txt",
            {"invoice": invoice, "url": absolute_url(invoice.get_absolute_url()), **context},
        ).strip(),
        related=invoice,
        new_thread=True,
    )


# Webhook events --------------------------------------------------------------------------------

EVENT_KINDS = {
    "checkout.session.async_payment_succeeded": PAID,
    "checkout.session.async_payment_failed": FAILED_OUTCOME,
    "checkout.session.expired": EXPIRED,
}


def _kind_of(event: stripe_gateway.WebhookEvent) -> str | None:
    if event.session is None:
        return None
    if event.type == "checkout.session.completed":
        return PAID if event.session.payment_status == "paid" else WAITING
    return EVENT_KINDS.get(event.type)


def event_handle(event: stripe_gateway.WebhookEvent) -> tuple[bool, str]:
    """Store a verified webhook event once and apply its effect in the same transaction.
    Returns (new, outcome); a replayed event (even a concurrent one) is (False, …) and does
    nothing."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                stored = StripeEvent.objects.create(
                    event_id=event.id[:255], type=event.type[:100], object_id=event.object_id[:255]
                )
        except IntegrityError:
            return False, "déjà reçu"
        kind = _kind_of(event)
        if kind is None:
            outcome = "type non traité"
        else:
            outcome = session_settle(event.session, kind=kind).text
        stored.outcome = outcome[:255]
        stored.save(update_fields=["outcome"])
    return True, outcome


# Nightly reconciliation ------------------------------------------------------------------------


@dataclasses.dataclass
class ReconcileReport:
    checked: int = 0
    paid: int = 0
    expired: int = 0
    failed: int = 0
    errors: int = 0


def sessions_to_reconcile(now: datetime.datetime):
    """Sessions Stripe may have settled without our hearing of it: still open (and not opened a
    moment ago, or past their expiry), or complete but with their money not yet confirmed."""
    open_ = CheckoutSession.objects.filter(status=CheckoutSession.Status.OPEN).filter(
        Q(created_at__lte=now - RECONCILE_AFTER) | Q(expires_at__lte=now)
    )
    waiting = CheckoutSession.objects.filter(
        status=CheckoutSession.Status.COMPLETE, payment__isnull=True
    ).exclude(payment_status__in=[FAILED, "paid"])
    return (open_ | waiting).order_by("pk")


def reconcile_sessions(*, now: datetime.datetime) -> ReconcileReport:
    """Ask Stripe about every session to reconcile and settle it as the webhook would: a paid
    one is recorded once, an expired one marked expired. A second run finds nothing to do."""
    report = ReconcileReport()
    if not stripe_gateway.is_configured():
        return report
    for session_id in list(sessions_to_reconcile(now).values_list("session_id", flat=True)):
        report.checked += 1
        try:
            result = stripe_gateway.retrieve_session(session_id)
        except stripe_gateway.GatewayError:
            report.errors += 1
            continue
        if result.status == "complete" and result.payment_status == "paid":
            outcome = session_settle(result, kind=PAID)
            report.paid += outcome.payment is not None or outcome.issue is not None
        elif result.status == "expired":
            report.expired += session_settle(result, kind=EXPIRED).text == "expirée"
        elif result.status == "complete":
            session_settle(result, kind=WAITING)
    return report


# What the return page says ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReturnState:
    """The state of a card payment as the parent reads it on the return page."""

    name: str  # pending, paid, received, review, failed, expired, none
    title: str
    text: str
    tone: str  # a Bootstrap alert colour

    @property
    def is_final(self) -> bool:
        return self.name != "pending"


def return_state(invoice: Invoice, session: CheckoutSession | None) -> ReturnState:
    """Where the payment stands: confirmed only once the invoice is paid (or the money
    recorded); until the webhook arrives, "en cours de confirmation"."""
    flagged = bool(session and session.payment_id and session.payment.issues.exists())
    if invoice.status == Invoice.Status.PAID and not flagged:
        return ReturnState(
            "paid",
            "Votre paiement est confirmé",
            f"La facture {invoice.number} est payée. Merci !",
            "success",
        )
    if session is None:
        return ReturnState(
            "none",
            "Aucun paiement en cours",
            f"Aucun paiement par carte n'a été commencé pour la facture {invoice.number}.",
            "secondary",
        )
    if session.payment_id or (
        session.payment_status == "paid" and session.status == CheckoutSession.Status.COMPLETE
    ):
        return ReturnState(
            "review",
            "Votre paiement a bien été reçu",
            f"La facture {invoice.number} ne l'attendait plus "
            f"(« {invoice.get_status_display().lower()} ») ou son montant a changé : la régie "
            "l'examine et vous contactera (remboursement ou transmission au Trésor Public). "
            "Un message vous a été envoyé dans vos échanges.",
            "warning",
        )
    if session.payment_status == FAILED:
        return ReturnState(
            "failed",
            "Le paiement a échoué",
            "Votre banque a refusé le paiement : la facture reste à régler. Vous pouvez "
            "réessayer ou choisir un autre moyen de paiement.",
            "danger",
        )
    if session.status == CheckoutSession.Status.EXPIRED:
        return ReturnState(
            "expired",
            "Paiement non abouti",
            "La page de paiement a expiré ou a été remplacée par une plus récente, sans "
            "paiement. La facture reste à régler.",
            "secondary",
        )
    return ReturnState(
        "pending",
        "Paiement en cours de confirmation",
        "Nous attendons la confirmation de votre banque. Cette page se met à jour toute seule ; "
        "vous pouvez aussi la quitter : un message vous préviendra dès que le paiement sera "
        "confirmé.",
        "info",
    )


# The régisseur's follow-up ---------------------------------------------------------------------


@transaction.atomic
def issue_resolve(*, issue: PaymentIssue, resolution: str, by, now: datetime.datetime):
    """Mark a payment issue handled, with what was done (refund, transmission…), who and when.
    ValidationError when the note is empty or the issue was already handled."""
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError("Indiquez la suite donnée (remboursement, transmission…).")
    issue = PaymentIssue.objects.select_for_update().get(pk=issue.pk)
    if issue.resolved_at:
        raise ValidationError(
            f"Cette anomalie a déjà été traitée le {timezone.localtime(issue.resolved_at):%d/%m/%Y}."
        )
    issue.resolution = resolution
    issue.resolved_at = now
    issue.resolved_by = by
    issue.save(update_fields=["resolution", "resolved_at", "resolved_by"])
    return issue
