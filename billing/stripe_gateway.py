"""Every call to Stripe, and nothing else: Checkout Sessions and signed webhook events.

The rest of billing sees small dataclasses (`CheckoutResult`, `WebhookEvent`), never SDK
objects, and catches one exception, `GatewayError`; another provider (PayFiP) can sit beside
this module with the same shapes. Nothing here logs card data, keys or signatures.
"""

import dataclasses
import datetime
import logging

import stripe
from django.conf import settings

logger = logging.getLogger(__name__)

PROVIDER = "stripe"
# A failed call is shown to the parent at once; the nightly reconciliation catches up.
MAX_NETWORK_RETRIES = 1
# Stripe's default: a signed event older than this is refused (replay protection).
SIGNATURE_TOLERANCE_SECONDS = 300
TIMEOUT_SECONDS = (5, 20)


class GatewayError(Exception):
    """Stripe could not be reached or refused the call (the message is for the logs)."""


class SignatureError(Exception):
    """The webhook body is not what Stripe signed with our secret, or is too old."""


@dataclasses.dataclass(frozen=True)
class CheckoutResult:
    """What the portal keeps of a Checkout Session."""

    id: str
    url: str
    status: str  # open, complete, expired
    payment_status: str  # paid, unpaid, no_payment_required
    amount_total: int | None
    currency: str
    client_reference_id: str
    payment_intent: str
    expires_at: datetime.datetime | None
    metadata: dict


@dataclasses.dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook event: its id, type and the Checkout Session it carries (if any)."""

    id: str
    type: str
    object_id: str
    session: CheckoutResult | None


def is_configured() -> bool:
    """Card payment is on only when both the API key and the webhook secret are set."""
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET)


def _client() -> stripe.StripeClient:
    if not is_configured():
        raise GatewayError("Stripe n'est pas configuré.")
    options = {
        "max_network_retries": MAX_NETWORK_RETRIES,
        # (connect, read) seconds, instead of the SDK's 80: the parent waits, and the invoice's
        # row is locked meanwhile.
        "http_client": stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
    }
    if settings.STRIPE_API_BASE:
        options["base_addresses"] = {"api": settings.STRIPE_API_BASE}
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, **options)


def _id_of(value) -> str:
    """An expandable field is an id or an object with an id."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(value.get("id", "")) if isinstance(value, dict) else str(value)


def _plain(obj) -> dict:
    """SDK objects are not dicts (v16): their data as plain dicts and lists."""
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _session(obj) -> CheckoutResult:
    get = _plain(obj).get
    expires = get("expires_at")
    metadata = get("metadata") or {}
    return CheckoutResult(
        id=str(get("id") or ""),
        url=str(get("url") or ""),
        status=str(get("status") or ""),
        payment_status=str(get("payment_status") or ""),
        amount_total=get("amount_total"),
        currency=str(get("currency") or "").lower(),
        client_reference_id=str(get("client_reference_id") or ""),
        payment_intent=_id_of(get("payment_intent")),
        expires_at=(
            datetime.datetime.fromtimestamp(int(expires), tz=datetime.UTC) if expires else None
        ),
        metadata={str(key): str(value) for key, value in dict(metadata).items()},
    )


def _call(what: str, function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except stripe.StripeError as error:
        # The SDK's message names the request, never card data; the key is not in it.
        logger.warning(
            "Stripe %s failed: %s (%s)", what, type(error).__name__, error.user_message or ""
        )
        raise GatewayError(f"{what}: {type(error).__name__}") from error


def create_checkout_session(
    *,
    amount_cents: int,
    currency: str,
    label: str,
    client_reference_id: str,
    metadata: dict,
    customer_email: str,
    success_url: str,
    cancel_url: str,
    expires_at: datetime.datetime,
    idempotency_key: str,
) -> CheckoutResult:
    """Open a hosted Checkout page for one payment of `amount_cents`."""
    params = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": currency,
                    "unit_amount": amount_cents,
                    "product_data": {"name": label},
                },
            }
        ],
        "client_reference_id": client_reference_id,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(expires_at.timestamp()),
        "locale": "fr",
    }
    if customer_email:
        params["customer_email"] = customer_email
    session = _call(
        "create_checkout_session",
        _client().v1.checkout.sessions.create,
        params,
        {"idempotency_key": idempotency_key[:255]},
    )
    return _session(session)


def retrieve_session(session_id: str) -> CheckoutResult:
    """The current state of a Checkout Session at Stripe."""
    return _session(_call("retrieve_session", _client().v1.checkout.sessions.retrieve, session_id))


def expire_session(session_id: str) -> CheckoutResult:
    """Close an open Checkout Session so that it can no longer be paid."""
    return _session(_call("expire_session", _client().v1.checkout.sessions.expire, session_id))


def construct_event(raw_body: bytes, sig_header: str | None) -> WebhookEvent:
    """Check the `Stripe-Signature` of the raw body (HMAC-SHA256 with the webhook secret, at
    most SIGNATURE_TOLERANCE_SECONDS old) and read the event; SignatureError otherwise."""
    if not is_configured():
        raise SignatureError("Stripe n'est pas configuré.")
    if not sig_header:
        raise SignatureError("Signature absente.")
    try:
        event = stripe.Webhook.construct_event(
            raw_body,
            sig_header,
            settings.STRIPE_WEBHOOK_SECRET,
            tolerance=SIGNATURE_TOLERANCE_SECONDS,
        )
    except stripe.SignatureVerificationError as error:
        raise SignatureError("Signature invalide ou trop ancienne.") from error
    except ValueError as error:
        raise SignatureError("Corps illisible.") from error
    event = _plain(event)
    obj = (event.get("data") or {}).get("object")
    obj = obj if isinstance(obj, dict) else {}
    session = _session(obj) if obj.get("object") == "checkout.session" else None
    return WebhookEvent(
        id=str(event.get("id") or ""),
        type=str(event.get("type") or ""),
        object_id=str(obj.get("id") or ""),
        session=session,
    )
