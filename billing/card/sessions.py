"""Card payment pages: opening a Stripe Checkout Session for an invoice, and closing them.

`payment_start` opens a Checkout Session for what is left to pay (after expiring any older one
of the invoice); `expire_open_sessions` closes an invoice's open pages when what it owes has
changed some other way (a counter payment, a cancellation, the switch to recovery). Settling a
session's money is `billing.card.services`'s business; this module records no payment.
"""

import datetime
import logging
import uuid
import zoneinfo

from django.db import transaction
from django.utils import timezone

from billing import stripe_gateway
from billing.models import Invoice

from .models import CheckoutSession

logger = logging.getLogger(__name__)

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
CURRENCY = "eur"
# Stripe accepts a Checkout expiry from 30 minutes to 24 hours ahead; a minute of margin
# covers the time the request takes to reach Stripe.
MIN_SESSION_LIFETIME = datetime.timedelta(minutes=31)
MAX_SESSION_LIFETIME = datetime.timedelta(hours=24)
# Our own marker in CheckoutSession.payment_status (Stripe says "unpaid" after a failure).
FAILED = "failed"

UNAVAILABLE_MESSAGE = "Paiement en ligne indisponible : réglez cette facture par un autre moyen."
PENDING_MESSAGE = (
    "Un paiement de cette facture est déjà en cours de confirmation par votre banque : "
    "attendez quelques minutes avant de payer à nouveau (la page de la facture indiquera « Payée »)."
)
GATEWAY_DOWN_MESSAGE = (
    "Le service de paiement en ligne ne répond pas. Aucun paiement n'a été effectué : "
    "réessayez dans quelques minutes."
)


class PaymentRefused(Exception):
    """The payment cannot start; the message is for the parent."""


# Starting a payment ----------------------------------------------------------------------------


def refusal_reason(invoice: Invoice) -> str:
    """Why `invoice` cannot be paid by card now (French, for the parent), or ""."""
    if invoice.is_payable_online:
        return ""
    if invoice.status == Invoice.Status.PAID:
        return f"La facture {invoice.number} est déjà payée."
    if invoice.is_programmed_debit:
        when = f" le {invoice.debit_date:%d/%m/%Y}" if invoice.debit_date else ""
        return (
            f"La facture {invoice.number} sera prélevée{when} sur votre compte : elle ne se "
            "règle pas par carte."
        )
    if invoice.in_recovery:
        return (
            f"La facture {invoice.number} est mise en recouvrement : elle ne peut plus être "
            "réglée sur le portail. Le Trésor Public vous contactera par courrier."
        )
    if invoice.is_cancelled:
        return f"La facture {invoice.number} est annulée : vous n'avez rien à régler."
    return f"La facture {invoice.number} ne peut pas être réglée en ligne."


def session_expiry(invoice: Invoice, now: datetime.datetime) -> datetime.datetime:
    """When the Checkout page stops accepting payment: within 24 hours and no later than the
    end of the due date (Paris time). PaymentRefused when that leaves under 30 minutes."""
    next_day = invoice.due_date + datetime.timedelta(days=1)
    end_of_due_date = datetime.datetime.combine(next_day, datetime.time.min, tzinfo=PARIS)
    expires_at = min(now + MAX_SESSION_LIFETIME, end_of_due_date - datetime.timedelta(seconds=1))
    if expires_at < now + MIN_SESSION_LIFETIME:
        raise PaymentRefused(
            f"La date limite de paiement de la facture {invoice.number} "
            f"({invoice.due_date:%d/%m/%Y}) est passée ou trop proche pour un paiement en "
            "ligne : contactez la régie."
        )
    return expires_at.replace(microsecond=0)


def idempotency_key(invoice: Invoice, amount_cents: int, nonce: str) -> str:
    """One key per attempt: Stripe answers a retried request with the same session."""
    return f"portail-facture-{invoice.pk}-{amount_cents}-{nonce}"[:255]


def payment_start(
    *, invoice: Invoice, user, return_url: str, cancel_url: str, now: datetime.datetime
) -> CheckoutSession:
    """Open a Checkout Session for what is left to pay on `invoice` and store it, under a lock
    on the invoice; any older open session of the invoice is expired first (at Stripe too).
    `return_url` receives ?session_id=… . PaymentRefused with a French message otherwise; if
    Stripe fails, nothing is saved."""
    if not stripe_gateway.is_configured():
        raise PaymentRefused(UNAVAILABLE_MESSAGE)
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update().select_related("regie", "family").get(pk=invoice.pk)
        )
        reason = refusal_reason(invoice)
        if reason:
            raise PaymentRefused(reason)
        amount = invoice.due_cents()
        if amount <= 0:
            raise PaymentRefused(f"La facture {invoice.number} n'a plus rien à régler.")
        expires_at = session_expiry(invoice, now)
        if awaiting_confirmation(invoice).exists():
            raise PaymentRefused(PENDING_MESSAGE)
        older = list(
            invoice.checkout_sessions.select_for_update().filter(status=CheckoutSession.Status.OPEN)
        )
        for session in older:
            state = _close_at_stripe(session.session_id)
            if state is None:
                raise PaymentRefused(GATEWAY_DOWN_MESSAGE)
            session.move_to(state)
            session.save(update_fields=["status", "updated_at"])
        if any(session.status == CheckoutSession.Status.COMPLETE for session in older):
            # Paid, or being paid, on an earlier page: keep what Stripe told (committed below)
            # and open nothing; the webhook or the reconciliation settles that payment.
            refused = PENDING_MESSAGE
        else:
            return _open_session(invoice, user, amount, expires_at, return_url, cancel_url)
    raise PaymentRefused(refused)


def _open_session(invoice, user, amount, expires_at, return_url, cancel_url) -> CheckoutSession:
    """Create the Checkout Session at Stripe and store it (in the caller's transaction)."""
    metadata = {
        "invoice_id": str(invoice.pk),
        "invoice_number": invoice.number,
        "family_id": str(invoice.family_id),
    }
    separator = "&" if "?" in return_url else "?"
    try:
        result = stripe_gateway.create_checkout_session(
            amount_cents=amount,
            currency=CURRENCY,
            label=f"Facture {invoice.number} — {invoice.regie.name}",
            client_reference_id=str(invoice.pk),
            metadata=metadata,
            customer_email=getattr(user, "email", "") or "",
            success_url=f"{return_url}{separator}session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=cancel_url,
            expires_at=expires_at,
            idempotency_key=idempotency_key(invoice, amount, uuid.uuid4().hex),
        )
    except stripe_gateway.GatewayError:
        raise PaymentRefused(GATEWAY_DOWN_MESSAGE) from None
    if not result.id or not result.url:
        raise PaymentRefused(GATEWAY_DOWN_MESSAGE)
    return CheckoutSession.objects.create(
        invoice=invoice,
        session_id=result.id,
        amount_cents=amount,
        currency=CURRENCY,
        status=CheckoutSession.Status.OPEN,
        payment_status=result.payment_status,
        url=result.url,
        expires_at=result.expires_at or expires_at,
        created_by=user if getattr(user, "pk", None) else None,
    )


def expire_open_sessions(invoice_ids) -> int:
    """Ask Stripe to close the Checkout Sessions of these invoices that are still open, so that
    they can no longer be paid, and record what Stripe says: expired, or complete (paid in the
    meantime: the webhook or the night's reconciliation settles it). A session Stripe cannot be
    asked about stays open for the reconciliation. Without Stripe configured, nothing can be
    paid on them: they are marked expired. Returns how many were closed.

    Safe to call from `transaction.on_commit`: a Stripe error is logged, never raised (a payment
    that still gets through is recorded and flagged by the webhook)."""
    ids = list(invoice_ids)
    if not ids:
        return 0
    sessions = list(
        CheckoutSession.objects.filter(
            invoice_id__in=ids, status=CheckoutSession.Status.OPEN
        ).values_list("pk", "session_id")
    )
    configured = stripe_gateway.is_configured()
    closed = 0
    for pk, session_id in sessions:
        state = _close_at_stripe(session_id) if configured else CheckoutSession.Status.EXPIRED
        if state is None:
            continue
        # Still open (TRANSITIONS: an open page may expire or complete).
        closed += CheckoutSession.objects.filter(pk=pk, status=CheckoutSession.Status.OPEN).update(
            status=state, updated_at=timezone.now()
        )
    return closed


def _close_at_stripe(session_id: str) -> str | None:
    """Expire the session at Stripe. Returns the state Stripe confirms (EXPIRED, or COMPLETE
    when it was paid or is being paid meanwhile), or None when Stripe cannot tell."""
    try:
        stripe_gateway.expire_session(session_id)
        return CheckoutSession.Status.EXPIRED
    except stripe_gateway.GatewayError:
        pass
    # Stripe refuses to expire a session that is no longer open: ask what became of it.
    try:
        result = stripe_gateway.retrieve_session(session_id)
    except stripe_gateway.GatewayError:
        logger.warning("Checkout Session %s could not be expired at Stripe.", session_id)
        return None
    if result.status == "complete":
        return CheckoutSession.Status.COMPLETE
    if result.status == "expired":
        return CheckoutSession.Status.EXPIRED
    logger.warning("Checkout Session %s is still open at Stripe.", session_id)
    return None


def awaiting_confirmation(invoice: Invoice):
    """Sessions of `invoice` whose payment page was completed and whose money is not settled
    yet (no payment recorded, no failure): paying again would charge the family twice."""
    return invoice.checkout_sessions.filter(
        status=CheckoutSession.Status.COMPLETE, payment__isnull=True
    ).exclude(payment_status__in=[FAILED, "paid"])


def card_payment_enabled() -> bool:
    """Whether the portal offers card payment at all (Stripe keys set)."""
    return stripe_gateway.is_configured()
