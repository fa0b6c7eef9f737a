"""Concurrent webhook deliveries, with real transactions and threads (PostgreSQL): however many
copies of an event arrive at once, and whichever events about one session race, the invoice is
paid once and the family told once."""

import pytest
from django.test import Client
from django.urls import reverse

from billing.card.models import CheckoutSession, StripeEvent
from billing.models import Invoice, Payment
from exchanges.models import Message
from tests.billing import fixtures as billing_fixtures
from tests.billing.fake_stripe import post_event
from tests.concurrency import at_once
from tests.conftest import client_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def opened(family_a, fake_stripe, today):
    invoice = billing_fixtures.invoice(family_a)
    client_for(Client(), family_a).post(reverse("billing:invoice_pay", args=[invoice.pk]))
    return invoice, CheckoutSession.objects.get()


def deliver(payload):
    return lambda: post_event(Client(), payload).status_code


def test_the_same_event_ten_times_at_once_pays_once(opened, fake_stripe, mailoutbox):
    """Ten simultaneous deliveries of one checkout.session.completed: all answered 200, one
    StripeEvent, one payment, one message and one e-mail."""
    invoice, session = opened
    payload = fake_stripe.pay(session.session_id, send=False)

    results = at_once(*[deliver(payload)] * 10)

    assert results == [200] * 10, results
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert Payment.objects.count() == 1
    assert StripeEvent.objects.count() == 1
    assert Message.objects.filter(thread__family=invoice.family).count() == 1
    assert len(mailoutbox) == 1


def test_the_same_event_ten_times_in_a_row_pays_once(opened, fake_stripe, mailoutbox):
    """Ten deliveries one after the other, each in its own committed transaction."""
    invoice, session = opened
    payload = fake_stripe.pay(session.session_id, send=False)

    results = [deliver(payload)() for _ in range(10)]

    assert results == [200] * 10
    assert Payment.objects.count() == 1 and StripeEvent.objects.count() == 1
    assert len(mailoutbox) == 1


def test_completed_and_async_succeeded_racing_pay_once(opened, fake_stripe, mailoutbox):
    """Two different events about the same session at once (five copies each): the session
    lock makes one of them record the payment and the other find it done."""
    invoice, session = opened
    completed = fake_stripe.pay(session.session_id, send=False)
    succeeded = fake_stripe.event("checkout.session.async_payment_succeeded", session.session_id)

    results = at_once(*[deliver(completed), deliver(succeeded)] * 5)

    assert results == [200] * 10, results
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert Payment.objects.count() == 1
    assert StripeEvent.objects.count() == 2
    assert len(mailoutbox) == 1
