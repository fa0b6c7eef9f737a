"""Stripe's webhook: only a correctly signed, fresh, unaltered event is read; each event is
stored once with its effect; the invoice is paid once, whatever the order and the replays;
money that does not fit is recorded and flagged, never lost."""

import datetime
import json
import time

import pytest
from django.urls import reverse

from billing.card.models import CheckoutSession, PaymentIssue, StripeEvent
from billing.models import Invoice, Payment, PaymentAllocation
from billing.services import payment_record
from exchanges.models import Message
from tests.billing import fixtures as billing_fixtures
from tests.billing.fake_stripe import post_event, sign
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def opened(client, family_a, fake_stripe, today):
    """Family A's 30,00 € invoice with a Checkout Session opened by the green button."""
    invoice = billing_fixtures.invoice(family_a)
    client_for(client, family_a).post(reverse("billing:invoice_pay", args=[invoice.pk]))
    return invoice, CheckoutSession.objects.get()


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """Post a signed event as Stripe would, running what waits for the commit (e-mails)."""

    def post(payload, **options):
        with django_capture_on_commit_callbacks(execute=True):
            return post_event(client, payload, **options)

    return post


def snapshot(invoice):
    invoice.refresh_from_db()
    return (
        invoice.status,
        list(Payment.objects.values()),
        list(PaymentAllocation.objects.values()),
        list(PaymentIssue.objects.values()),
        list(StripeEvent.objects.values()),
        list(CheckoutSession.objects.values()),
        Message.objects.count(),
    )


# The signature ---------------------------------------------------------------------------------


def test_a_correctly_signed_completed_event_pays_the_invoice(
    opened, fake_stripe, deliver, mailoutbox
):
    """checkout.session.completed (paid, 3000 eur): a card payment of 30,00 € with the
    PaymentIntent as reference, allocated to the line, the invoice payée, the session linked,
    one "Paiement reçu" message and e-mail."""
    invoice, session = opened
    payload = fake_stripe.pay(session.session_id, send=False)

    response = deliver(payload)

    assert response.status_code == 200
    invoice.refresh_from_db()
    session.refresh_from_db()
    payment = Payment.objects.get()
    assert invoice.status == Invoice.Status.PAID and invoice.due_cents() == 0
    assert (payment.amount_cents, payment.means, payment.reference) == (
        3000,
        Payment.Means.CARD,
        payload["data"]["object"]["payment_intent"],
    )
    assert list(payment.allocations.values_list("amount_cents", flat=True)) == [3000]
    assert session.payment == payment and session.status == CheckoutSession.Status.COMPLETE
    event = StripeEvent.objects.get()
    assert (event.event_id, event.type, event.object_id, event.outcome) == (
        payload["id"],
        "checkout.session.completed",
        session.session_id,
        "payée",
    )
    assert len(mailoutbox) == 1
    assert f"Paiement reçu pour la facture {invoice.number}" in mailoutbox[0].subject
    assert not PaymentIssue.objects.exists()


def test_a_wrong_signature_is_refused_and_changes_nothing(opened, fake_stripe, deliver):
    """Signed with another secret: 400, nothing stored, the invoice still impayée."""
    invoice, session = opened
    payload = fake_stripe.pay(session.session_id, send=False)
    before = snapshot(invoice)

    response = deliver(payload, secret="whsec_un_autre_secret")

    assert response.status_code == 400
    assert snapshot(invoice) == before


def test_a_stale_timestamp_is_refused_and_changes_nothing(opened, fake_stripe, deliver):
    """Correctly signed but 301 seconds old (Stripe's tolerance is 300 s): 400."""
    invoice, session = opened
    payload = fake_stripe.pay(session.session_id, send=False)
    before = snapshot(invoice)

    response = deliver(payload, timestamp=int(time.time()) - 301)

    assert response.status_code == 400
    assert snapshot(invoice) == before


def test_an_altered_body_is_refused_and_changes_nothing(opened, fake_stripe, deliver):
    """Signed, then its amount changed on the way: the signature no longer matches, 400."""
    invoice, session = opened
    body = json.dumps(fake_stripe.pay(session.session_id, send=False))
    header = sign(body)
    altered = body.replace('"amount_total": 3000', '"amount_total": 1')
    assert altered != body
    before = snapshot(invoice)

    response = deliver(altered, header=header)

    assert response.status_code == 400
    assert snapshot(invoice) == before


def test_a_missing_signature_or_a_garbage_body_is_refused(opened, fake_stripe, deliver):
    """No Stripe-Signature header, or a body that is not JSON: 400, nothing changes."""
    invoice, session = opened
    before = snapshot(invoice)

    assert deliver(fake_stripe.pay(session.session_id, send=False), header="").status_code == 400
    assert deliver("pas du json").status_code == 400
    assert (
        deliver(
            fake_stripe.event("checkout.session.completed", session.session_id), header="t=1,v1=abc"
        ).status_code
        == 400
    )
    assert snapshot(invoice) == before


def test_the_webhook_refuses_a_get_and_needs_no_login(client, opened):
    """Only POST; no CSRF token nor login is asked of Stripe (the signature is the check)."""
    url = reverse("billing:stripe_webhook")
    client.logout()
    assert client.get(url).status_code == 405
    assert (
        post_event(client, {"id": "evt_x", "type": "ping", "data": {"object": {}}}).status_code
        == 200
    )


def test_without_keys_the_webhook_refuses_everything(opened, fake_stripe, deliver, settings):
    """Not configured: 503 and nothing read, even a payload signed with the old secret."""
    invoice, session = opened
    payload = fake_stripe.pay(session.session_id, send=False)
    settings.STRIPE_SECRET_KEY = settings.STRIPE_WEBHOOK_SECRET = ""
    before = snapshot(invoice)

    assert deliver(payload).status_code == 503
    assert snapshot(invoice) == before


# Replays and order -----------------------------------------------------------------------------


def test_the_same_event_replayed_ten_times_pays_once(opened, fake_stripe, deliver, mailoutbox):
    """Stripe delivers at least once: ten deliveries of one event, one payment, one e-mail."""
    invoice, session = opened
    payload = fake_stripe.pay(session.session_id, send=False)

    statuses = [deliver(payload).status_code for _ in range(10)]

    assert statuses == [200] * 10
    assert Payment.objects.count() == 1
    assert StripeEvent.objects.count() == 1
    assert len(mailoutbox) == 1
    assert Message.objects.filter(thread__family=invoice.family).count() == 1


def test_async_succeeded_before_completed_ends_paid_once(opened, fake_stripe, deliver, mailoutbox):
    """A delayed payment method: async_payment_succeeded arriving before completed (paid)
    pays the invoice; completed then changes nothing."""
    invoice, session = opened
    completed = fake_stripe.pay(session.session_id, send=False)
    succeeded = fake_stripe.event("checkout.session.async_payment_succeeded", session.session_id)

    assert deliver(succeeded).status_code == 200
    assert deliver(completed).status_code == 200

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert Payment.objects.count() == 1 and len(mailoutbox) == 1
    assert list(StripeEvent.objects.order_by("pk").values_list("outcome", flat=True)) == [
        "payée",
        "paiement déjà enregistré",
    ]


def test_completed_unpaid_waits_for_async_succeeded(opened, fake_stripe, deliver):
    """completed with payment_status "unpaid" (a bank debit in progress): the session is
    complete, the invoice still impayée; async_payment_succeeded then pays it."""
    invoice, session = opened
    waiting = fake_stripe.pay(session.session_id, send=False, payment_status="unpaid")

    deliver(waiting)
    invoice.refresh_from_db()
    session.refresh_from_db()
    assert invoice.status == Invoice.Status.UNPAID and not Payment.objects.exists()
    assert (session.status, session.payment_status) == ("complete", "unpaid")

    deliver(
        fake_stripe.event(
            "checkout.session.async_payment_succeeded", session.session_id, payment_status="paid"
        )
    )
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID and Payment.objects.count() == 1


def test_async_failed_leaves_the_invoice_unpaid_and_tells_the_family(
    opened, fake_stripe, deliver, mailoutbox
):
    """async_payment_failed: the invoice stays impayée and the family reads that it failed."""
    invoice, session = opened
    fake_stripe.pay(session.session_id, send=False, payment_status="unpaid")
    failed = fake_stripe.event("checkout.session.async_payment_failed", session.session_id)

    assert deliver(failed).status_code == 200
    assert deliver(failed).status_code == 200  # replayed: told once

    invoice.refresh_from_db()
    session.refresh_from_db()
    assert invoice.status == Invoice.Status.UNPAID and not Payment.objects.exists()
    assert session.payment_status == "failed"
    (message,) = Message.objects.filter(thread__family=invoice.family)
    assert message.thread.subject == f"Le paiement de la facture {invoice.number} a échoué"
    assert "La facture reste à régler avant le 10/12/2026" in message.body
    assert len(mailoutbox) == 1


def test_async_failed_before_completed_stays_failed(opened, fake_stripe, deliver):
    """The failure arriving before completed (unpaid): the session stays failed."""
    invoice, session = opened
    waiting = fake_stripe.pay(session.session_id, send=False, payment_status="unpaid")
    failed = fake_stripe.event("checkout.session.async_payment_failed", session.session_id)

    deliver(failed)
    deliver(waiting)

    session.refresh_from_db()
    assert (session.status, session.payment_status) == ("complete", "failed")
    assert not Payment.objects.exists()


def test_expired_marks_the_session_expired(opened, fake_stripe, deliver):
    """checkout.session.expired: the session is expired, the invoice untouched."""
    invoice, session = opened

    deliver(fake_stripe.event("checkout.session.expired", session.session_id, status="expired"))

    session.refresh_from_db()
    invoice.refresh_from_db()
    assert session.status == CheckoutSession.Status.EXPIRED
    assert invoice.status == Invoice.Status.UNPAID


# Money that does not fit -----------------------------------------------------------------------


def test_an_amount_mismatch_is_flagged_not_paid(opened, fake_stripe, deliver):
    """29,99 € received for 30,00 € due: an AMOUNT_MISMATCH issue for the office, the invoice
    still impayée, no payment recorded."""
    invoice, session = opened
    payload = fake_stripe.pay(session.session_id, send=False, amount=2999)

    assert deliver(payload).status_code == 200

    invoice.refresh_from_db()
    issue = PaymentIssue.objects.get()
    assert invoice.status == Invoice.Status.UNPAID and not Payment.objects.exists()
    assert (issue.kind, issue.invoice, issue.amount_cents, issue.currency) == (
        PaymentIssue.Kind.AMOUNT_MISMATCH,
        invoice,
        2999,
        "eur",
    )
    assert issue.reference == payload["data"]["object"]["payment_intent"]
    assert "Reçu 29,99 € ; demandé 30,00 € ; reste dû 30,00 €" in issue.detail
    assert issue.resolved_at is None

    # Another event about the same money (or the night's job) flags nothing more.
    deliver(fake_stripe.event("checkout.session.async_payment_succeeded", session.session_id))
    assert PaymentIssue.objects.count() == 1 and not Payment.objects.exists()


def test_a_currency_mismatch_is_flagged_not_paid(opened, fake_stripe, deliver):
    """3000 in another currency is not 30,00 €: flagged, not paid."""
    invoice, session = opened
    fake_stripe.sessions[session.session_id]["currency"] = "usd"

    deliver(fake_stripe.pay(session.session_id, send=False))

    invoice.refresh_from_db()
    issue = PaymentIssue.objects.get()
    assert invoice.status == Invoice.Status.UNPAID and not Payment.objects.exists()
    assert (issue.kind, issue.amount_cents, issue.currency) == ("amount_mismatch", 3000, "usd")


def test_a_payment_for_an_invoice_in_recovery_is_recorded_and_flagged(
    opened, fake_stripe, deliver, mailoutbox
):
    """Paid at Stripe after the night switched the invoice to recovery: the money is recorded
    (card, allocated to the lines), an IN_RECOVERY issue tells the régisseur to transmit or
    refund, the invoice stays in recovery, the family is told."""
    invoice, session = opened
    Invoice.objects.filter(pk=invoice.pk).update(
        status=Invoice.Status.RECOVERY, recovery_date=datetime.date(2026, 11, 26)
    )
    payload = fake_stripe.pay(session.session_id, send=False)

    assert deliver(payload).status_code == 200
    assert deliver(payload).status_code == 200

    invoice.refresh_from_db()
    payment = Payment.objects.get()
    issue = PaymentIssue.objects.get()
    assert invoice.status == Invoice.Status.RECOVERY
    assert (payment.amount_cents, payment.means) == (3000, Payment.Means.CARD)
    assert list(payment.allocations.values_list("amount_cents", flat=True)) == [3000]
    assert (issue.kind, issue.payment, issue.amount_cents) == ("in_recovery", payment, 3000)
    assert "à transmettre au Trésor Public ou à rembourser" in issue.detail
    assert len(mailoutbox) == 1
    assert "est à l'étude" in mailoutbox[0].subject


def test_a_payment_for_an_invoice_already_paid_is_recorded_and_flagged(
    opened, fake_stripe, deliver, today
):
    """Paid at the counter while the Checkout page was open, then paid by card: the card
    money is recorded without allocation (nothing is left to pay) and flagged ALREADY_PAID."""
    invoice, session = opened
    payment_record(invoice=invoice, amount_cents=3000, paid_on=today, means=Payment.Means.CASH)

    assert deliver(fake_stripe.pay(session.session_id, send=False)).status_code == 200

    invoice.refresh_from_db()
    card = Payment.objects.get(means=Payment.Means.CARD)
    issue = PaymentIssue.objects.get()
    assert invoice.status == Invoice.Status.PAID
    assert card.amount_cents == 3000 and not card.allocations.exists()
    assert (issue.kind, issue.payment) == (PaymentIssue.Kind.ALREADY_PAID, card)
    assert invoice.paid_cents() == 6000 and invoice.due_cents() == 0


def test_a_payment_for_a_cancelled_invoice_is_recorded_and_flagged(opened, fake_stripe, deliver):
    """Cancelled while the page was open: the money is kept (NOT_PAYABLE), to refund."""
    invoice, session = opened
    Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.CANCELLED)

    assert deliver(fake_stripe.pay(session.session_id, send=False)).status_code == 200

    issue = PaymentIssue.objects.get()
    assert issue.kind == PaymentIssue.Kind.NOT_PAYABLE
    assert issue.payment.amount_cents == 3000 and not issue.payment.allocations.exists()


def test_a_payment_on_a_session_expired_here_still_counts(opened, fake_stripe, deliver):
    """A session expired on our side (a newer click, the recovery switch) that Stripe still
    completed: the money is not lost, the invoice is paid."""
    invoice, session = opened
    CheckoutSession.objects.filter(pk=session.pk).update(status="expired")

    deliver(fake_stripe.pay(session.session_id, send=False))

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID and Payment.objects.count() == 1


# Events we do not act on -----------------------------------------------------------------------


def test_an_unknown_event_type_is_stored_and_acknowledged(opened, fake_stripe, deliver):
    """payment_intent.created and the like: stored (once), 200, nothing else."""
    invoice, _ = opened
    payload = {
        "id": "evt_test_inconnu",
        "object": "event",
        "type": "payment_intent.created",
        "data": {"object": {"id": "pi_test_1", "object": "payment_intent"}},
    }
    before = snapshot(invoice)[:4]

    assert deliver(payload).status_code == 200
    assert deliver(payload).status_code == 200

    event = StripeEvent.objects.get()
    assert (event.type, event.object_id, event.outcome) == (
        "payment_intent.created",
        "pi_test_1",
        "type non traité",
    )
    assert snapshot(invoice)[:4] == before


def test_an_event_for_an_unknown_session_is_stored_with_its_outcome(fake_stripe, deliver, today):
    """A session this portal never opened (another site on the same account): stored, 200."""
    payload = {
        "id": "evt_test_ailleurs",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": "cs_test_ailleurs",
                "object": "checkout.session",
                "payment_status": "paid",
                "status": "complete",
                "amount_total": 1000,
                "currency": "eur",
            }
        },
    }

    assert deliver(payload).status_code == 200

    assert StripeEvent.objects.get().outcome == "session inconnue"
    assert not Payment.objects.exists()


def test_an_expired_event_never_reopens_a_page_whose_bank_debit_is_in_progress(
    client, opened, fake_stripe, deliver
):
    """A page completed with its money still on the way (payment_status "unpaid") stays
    complete when an expiry event arrives after it: the family cannot open a second page and
    be charged twice; the pending payment still pays the invoice."""
    invoice, session = opened
    deliver(fake_stripe.pay(session.session_id, send=False, payment_status="unpaid"))

    outcome = deliver(
        fake_stripe.event("checkout.session.expired", session.session_id, status="expired")
    )
    assert outcome.status_code == 200
    session.refresh_from_db()
    assert (session.status, session.payment_status) == ("complete", "unpaid")
    assert StripeEvent.objects.filter(type="checkout.session.expired").get().outcome == (
        "déjà terminée"
    )

    client_for(client, invoice.family).post(reverse("billing:invoice_pay", args=[invoice.pk]))
    assert CheckoutSession.objects.count() == 1  # no second payment page

    deliver(
        fake_stripe.event(
            "checkout.session.async_payment_succeeded",
            session.session_id,
            status="complete",
            payment_status="paid",
        )
    )
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID and Payment.objects.count() == 1
