"""Card payment: the green button, the Checkout Session it opens at (fake) Stripe, the refusals,
the return page, and the night's reconciliation. Stripe is faked at its HTTP boundary only."""

import datetime
import re
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from billing.card.models import CheckoutSession, PaymentIssue
from billing.models import Invoice, Payment
from billing.services import payment_record
from exchanges.models import Message
from tests.billing import fixtures as billing_fixtures
from tests.billing.fake_stripe import post_event
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOW = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def invoice(family_a):
    """Family A's October invoice of the périscolaire régie: 30,00 €, due on 10/12/2026."""
    return billing_fixtures.invoice(family_a)


def pay(client, invoice, **extra):
    return client.post(reverse("billing:invoice_pay", args=[invoice.pk]), **extra)


def page(client, url) -> str:
    return client.get(url).content.decode()


def list_url(invoice):
    return reverse("billing:invoice_list", args=[invoice.regie.slug])


def set_status(invoice, status, **fields):
    Invoice.objects.filter(pk=invoice.pk).update(status=status, **fields)
    invoice.refresh_from_db()


# Starting a payment ----------------------------------------------------------------------------


def test_pay_opens_a_checkout_session_for_the_amount_due(client, invoice, fake_stripe, today):
    """The green button's POST creates a Checkout Session at Stripe for 3000 cents in euros,
    with the invoice in client_reference_id and metadata, the guardian's e-mail, the return
    and cancel addresses, an idempotency key and an expiry 24 h ahead; then 303 to its page."""
    client = client_for(client, invoice.family)

    response = pay(client, invoice)

    (call,) = fake_stripe.created()
    session = CheckoutSession.objects.get()
    assert response.status_code == 303
    assert response["Location"] == session.url == fake_stripe.sessions[session.session_id]["url"]
    params = call.params
    assert params["mode"] == "payment"
    assert params["line_items"] == [
        {
            "quantity": "1",
            "price_data": {
                "currency": "eur",
                "unit_amount": "3000",
                "product_data": {
                    "name": f"Facture {invoice.number} — Régie de recette périscolaire municipale"
                },
            },
        }
    ]
    assert params["client_reference_id"] == str(invoice.pk)
    assert params["metadata"] == {
        "invoice_id": str(invoice.pk),
        "invoice_number": invoice.number,
        "family_id": str(invoice.family_id),
    }
    assert params["customer_email"] == invoice.family.guardians.first().user.email
    assert params["success_url"] == (
        f"http://testserver/paiements/factures/{invoice.pk}/paiement/"
        "?session_id={CHECKOUT_SESSION_ID}"
    )
    assert params["cancel_url"] == f"http://testserver/paiements/factures/{invoice.pk}/"
    assert int(params["expires_at"]) == int((NOW + datetime.timedelta(hours=24)).timestamp())
    key = call.headers["Idempotency-Key"]
    assert key.startswith(f"portail-facture-{invoice.pk}-3000-") and len(key) <= 255
    assert call.headers["Authorization"] == "Bearer sk_test_portail_faux_0123456789"
    assert (session.invoice, session.amount_cents, session.currency, session.status) == (
        invoice,
        3000,
        "eur",
        CheckoutSession.Status.OPEN,
    )
    assert session.created_by == invoice.family.guardians.first().user
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.UNPAID  # paid only by the webhook
    assert not Payment.objects.exists()


def test_the_amount_is_what_is_left_to_pay(client, invoice, fake_stripe, today):
    """After 4,00 € paid at the counter, the card pays the remaining 26,00 €: 2600 cents."""
    payment_record(invoice=invoice, amount_cents=400, paid_on=today, means=Payment.Means.CASH)
    pay(client_for(client, invoice.family), invoice)

    (call,) = fake_stripe.created()
    assert call.params["line_items"][0]["price_data"]["unit_amount"] == "2600"
    assert CheckoutSession.objects.get().amount_cents == 2600


def test_the_session_expires_at_the_end_of_the_due_date(client, invoice, fake_stripe, today):
    """Due today: the Checkout page closes at 23:59:59 Paris time, not 24 hours later."""
    set_status(invoice, Invoice.Status.UNPAID, due_date=today)

    pay(client_for(client, invoice.family), invoice)

    (call,) = fake_stripe.created()
    end_of_day = datetime.datetime(2026, 11, 26, 23, 59, 59, tzinfo=PARIS)
    assert int(call.params["expires_at"]) == int(end_of_day.timestamp())
    assert CheckoutSession.objects.get().expires_at == end_of_day


@pytest.mark.parametrize(
    ("due_date", "clock"),
    [
        (datetime.date(2026, 11, 25), datetime.datetime(2026, 11, 26, 10, 0, tzinfo=PARIS)),
        (datetime.date(2026, 11, 26), datetime.datetime(2026, 11, 26, 23, 40, tzinfo=PARIS)),
    ],
    ids=["due-date-passed", "less-than-30-minutes-left"],
)
def test_a_due_date_too_close_is_refused_in_french(client, invoice, fake_stripe, due_date, clock):
    """Past the due date, or with under 30 minutes of it left, nothing is opened at Stripe."""
    set_status(invoice, Invoice.Status.UNPAID, due_date=due_date)
    client = client_for(client, invoice.family)

    with time_machine.travel(clock, tick=False):
        response = pay(client, invoice, follow=True)

    assert response.redirect_chain[0] == (invoice.get_absolute_url(), 302)
    html = response.content.decode()
    assert "est passée ou trop proche pour un paiement en ligne : contactez la régie" in html
    assert fake_stripe.created() == []
    assert not CheckoutSession.objects.exists()


def test_a_second_click_expires_the_first_session(client, invoice, fake_stripe, today):
    """Clicking again opens a new session and closes the first one, at Stripe and here: only
    the latest page can take the money."""
    client = client_for(client, invoice.family)

    pay(client, invoice)
    pay(client, invoice)

    first, second = CheckoutSession.objects.order_by("pk")
    assert len(fake_stripe.created()) == 2
    assert fake_stripe.calls("POST", f"/v1/checkout/sessions/{first.session_id}/expire")
    assert fake_stripe.sessions[first.session_id]["status"] == "expired"
    assert fake_stripe.sessions[second.session_id]["status"] == "open"
    assert (first.status, second.status) == ("expired", "open")
    keys = {call.headers["Idempotency-Key"] for call in fake_stripe.created()}
    assert len(keys) == 2  # one key per attempt


def test_a_replayed_idempotency_key_gets_the_same_session(fake_stripe, today):
    """The fake answers a retried creation as Stripe does: same key, same session."""
    from billing import stripe_gateway

    arguments = {
        "amount_cents": 3000,
        "currency": "eur",
        "label": "Facture X",
        "client_reference_id": "1",
        "metadata": {"invoice_id": "1"},
        "customer_email": "",
        "success_url": "http://testserver/ok",
        "cancel_url": "http://testserver/ko",
        "expires_at": NOW + datetime.timedelta(hours=2),
        "idempotency_key": "portail-facture-1-3000-essai",
    }
    first = stripe_gateway.create_checkout_session(**arguments)
    again = stripe_gateway.create_checkout_session(**arguments)

    assert first.id == again.id
    assert len(fake_stripe.sessions) == 1


STATES = {
    "payee": ("La facture {number} est déjà payée.", {}),
    "prelevement": (
        "La facture {number} sera prélevée le 24/12/2026 sur votre compte : elle ne se règle pas "
        "par carte.",
        {"debit_date": datetime.date(2026, 12, 24)},
    ),
    "recouvrement": (
        "La facture {number} est mise en recouvrement : elle ne peut plus être réglée sur le "
        "portail.",
        {"recovery_date": datetime.date(2026, 11, 20)},
    ),
    "annulee": ("La facture {number} est annulée : vous n'avez rien à régler.", {}),
}


@pytest.mark.parametrize("status", sorted(STATES))
def test_an_invoice_not_payable_online_is_refused(client, invoice, fake_stripe, today, status):
    """Paid, programmed debit, in recovery, cancelled: no button, and a hand-made POST is
    refused with a French message; nothing is opened at Stripe nor stored."""
    message, fields = STATES[status]
    set_status(invoice, status, **fields)
    client = client_for(client, invoice.family)

    response = pay(client, invoice, follow=True)

    assert response.redirect_chain[0] == (invoice.get_absolute_url(), 302)
    assert message.format(number=invoice.number).replace("'", "&#x27;") in (
        response.content.decode()
    )
    assert fake_stripe.requests == []
    assert not CheckoutSession.objects.exists()
    assert reverse("billing:invoice_pay", args=[invoice.pk]) not in page(client, list_url(invoice))


def test_another_familys_invoice_is_a_404(client, invoice, family_b, fake_stripe, today):
    """A parent cannot start a payment on another family's invoice: 404, nothing opened."""
    client = client_for(client, family_b)

    assert pay(client, invoice).status_code == 404
    assert client.get(reverse("billing:payment_return", args=[invoice.pk])).status_code == 404
    assert fake_stripe.requests == []
    assert not CheckoutSession.objects.exists()


def test_a_get_on_the_pay_address_pays_nothing(client, invoice, fake_stripe, today):
    """Reloading the pay address (a GET) shows the invoice and opens nothing."""
    response = client_for(client, invoice.family).get(
        reverse("billing:invoice_pay", args=[invoice.pk])
    )

    assert (response.status_code, response["Location"]) == (302, invoice.get_absolute_url())
    assert fake_stripe.requests == []


# The button ------------------------------------------------------------------------------------


def test_mes_factures_shows_the_green_card_button(client, invoice, fake_stripe, today):
    """The payable invoice has a small green button (a POST form) labelled for screen readers,
    after the eye and the PDF; the invoice page has it too, with the amount."""
    client = client_for(client, invoice.family)
    html = page(client, list_url(invoice))

    action = reverse("billing:invoice_pay", args=[invoice.pk])
    form = re.search(rf'<form method="post" action="{action}"[^>]*>.*?</form>', html, re.S)
    assert form, html
    assert 'class="btn btn-sm btn-success"' in form.group(0)
    assert 'class="bi bi-credit-card-fill"' in form.group(0)
    # « Payer » is written on the button; screen readers hear which invoice it pays.
    assert (
        f' Payer<span class="visually-hidden"> la facture n° {invoice.number} par carte '
        "bancaire</span>" in form.group(0)
    )
    assert "csrfmiddlewaretoken" in form.group(0)
    assert html.index(invoice.get_pdf_url()) < html.index(action)
    detail = page(client, invoice.get_absolute_url())
    assert action in detail and "Payer 30,00 € par carte bancaire" in detail


def test_each_state_says_what_to_do_instead(client, invoice, fake_stripe, today):
    """Programmed debit: nothing to do, the date beside its status; recovery: "À régler auprès du Trésor Public"; paid
    and cancelled: nothing in the Action column but the eye and the PDF."""
    client = client_for(client, invoice.family)
    set_status(invoice, Invoice.Status.DIRECT_DEBIT, debit_date=datetime.date(2026, 12, 24))
    html = page(client, list_url(invoice))
    assert "Rien à faire : prélèvement automatique" in html and "le 24/12/2026" in html
    assert "pay-form" not in html
    set_status(invoice, Invoice.Status.RECOVERY)
    assert "À régler auprès du Trésor Public" in page(client, list_url(invoice))
    for status in (Invoice.Status.PAID, Invoice.Status.CANCELLED):
        set_status(invoice, status)
        html = page(client, list_url(invoice))
        assert "pay-form" not in html and "pay-note" not in html


def test_without_stripe_keys_no_pretend_payment(client, invoice, settings, today):
    """Without keys the button is replaced by "Paiement en ligne indisponible" and a POST is
    refused: nothing is stored."""
    settings.STRIPE_SECRET_KEY = settings.STRIPE_WEBHOOK_SECRET = ""
    client = client_for(client, invoice.family)

    html = page(client, list_url(invoice))
    response = pay(client, invoice, follow=True)

    assert "Paiement en ligne indisponible" in html
    assert reverse("billing:invoice_pay", args=[invoice.pk]) not in html
    assert "btn-success" not in html
    assert response.redirect_chain[0] == (invoice.get_absolute_url(), 302)
    assert "Paiement en ligne indisponible : réglez cette facture par un autre moyen." in (
        response.content.decode()
    )
    assert not CheckoutSession.objects.exists()


def test_a_half_configured_stripe_counts_as_unconfigured(client, invoice, settings, today):
    """A secret key without the webhook secret could take money it never hears about: off."""
    settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = "sk_test_x", ""

    assert "Paiement en ligne indisponible" in page(
        client_for(client, invoice.family), list_url(invoice)
    )


def test_stripe_unreachable_saves_nothing(client, invoice, fake_stripe, settings, today):
    """Stripe down: a French message on the invoice page, no session stored."""
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    client = client_for(client, invoice.family)

    response = pay(client, invoice, follow=True)

    assert response.redirect_chain[0] == (invoice.get_absolute_url(), 302)
    assert "Le service de paiement en ligne ne répond pas. Aucun paiement n&#x27;a été" in (
        response.content.decode()
    )
    assert not CheckoutSession.objects.exists()


def test_stripe_refusing_the_session_saves_nothing(client, invoice, fake_stripe, today):
    """Stripe answering an error: the same message, and no new session stored."""
    client = client_for(client, invoice.family)
    fake_stripe.fail_next_create = (400, {"type": "invalid_request_error", "message": "Refusé."})

    response = pay(client, invoice, follow=True)

    assert response.redirect_chain[0] == (invoice.get_absolute_url(), 302)
    assert "Le service de paiement en ligne ne répond pas" in response.content.decode()
    assert len(fake_stripe.created()) == 1
    assert not CheckoutSession.objects.exists()


# The return page -------------------------------------------------------------------------------


def return_url(invoice, session=None):
    url = reverse("billing:payment_return", args=[invoice.pk])
    return f"{url}?session_id={session.session_id}" if session else url


def test_the_return_page_waits_for_the_webhook(
    client, invoice, fake_stripe, today, django_capture_on_commit_callbacks
):
    """Back from Stripe, the page says "Paiement en cours de confirmation" and polls (htmx);
    once the webhook has come, "Votre paiement est confirmé" and the polling stops."""
    client = client_for(client, invoice.family)
    pay(client, invoice)
    session = CheckoutSession.objects.get()
    url = return_url(invoice, session)

    waiting = page(client, url)
    assert "Paiement en cours de confirmation" in waiting
    assert f'data-hx-get="{url}" data-hx-trigger="every 3s"' in waiting
    assert 'role="status"' in waiting
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.UNPAID  # coming back proves nothing

    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, fake_stripe.pay(session.session_id, send=False))
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()
    full = page(client, url)

    assert "Votre paiement est confirmé" in partial and "<html" not in partial
    assert "data-hx-trigger" not in partial
    assert "Votre paiement est confirmé" in full and "Payée" in full


def test_the_return_page_explains_an_expired_or_failed_payment(client, invoice, fake_stripe, today):
    """An expired session and a failed payment are said plainly, with the button to retry."""
    client = client_for(client, invoice.family)
    pay(client, invoice)
    session = CheckoutSession.objects.get()

    CheckoutSession.objects.filter(pk=session.pk).update(status="expired")
    expired = page(client, return_url(invoice, session))
    CheckoutSession.objects.filter(pk=session.pk).update(status="complete", payment_status="failed")
    failed = page(client, return_url(invoice, session))

    assert "Paiement non abouti" in expired and "data-hx-trigger" not in expired
    assert "Le paiement a échoué" in failed and "la facture reste à régler" in failed
    for html in (expired, failed):
        assert reverse("billing:invoice_pay", args=[invoice.pk]) in html


def test_the_return_page_refuses_a_session_of_another_invoice(
    client, invoice, family_b, fake_stripe, today
):
    """A session id that is not this invoice's is a 404 (no peeking at other payments)."""
    other = billing_fixtures.invoice(family_b)
    client_for(client, family_b)
    pay(client, other)
    foreign = CheckoutSession.objects.get()

    client = client_for(client, invoice.family)
    assert client.get(return_url(invoice, foreign)).status_code == 404
    assert client.get(return_url(invoice) + "?session_id=cs_inconnu").status_code == 404


# The night's reconciliation --------------------------------------------------------------------


def test_reconciliation_settles_a_session_paid_without_webhook(
    client, invoice, fake_stripe, today, django_capture_on_commit_callbacks, mailoutbox
):
    """A session paid at Stripe whose webhook never came: the night's job finds it, records
    the payment once and tells the family; a second run does nothing."""
    client = client_for(client, invoice.family)
    pay(client, invoice)
    session = CheckoutSession.objects.get()
    fake_stripe.pay(session.session_id, send=False)

    with time_machine.travel(NOW + datetime.timedelta(minutes=20), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("reconcile_payments")
        retrievals = len(fake_stripe.calls("GET", "/v1/checkout/sessions/"))
        with django_capture_on_commit_callbacks(execute=True):
            call_command("reconcile_payments")

    invoice.refresh_from_db()
    session.refresh_from_db()
    payment = Payment.objects.get()
    assert invoice.status == Invoice.Status.PAID
    assert (payment.amount_cents, payment.means) == (3000, Payment.Means.CARD)
    assert payment.reference == fake_stripe.sessions[session.session_id]["payment_intent"]
    assert session.payment == payment and session.status == CheckoutSession.Status.COMPLETE
    assert retrievals == 1
    assert len(fake_stripe.calls("GET", "/v1/checkout/sessions/")) == 1  # second run: nothing
    assert [m.subject for m in mailoutbox] == [
        f"[Portail famille] Nouveau message : Paiement reçu pour la facture {invoice.number}"
    ]


def test_reconciliation_leaves_a_fresh_session_and_expires_a_dead_one(
    client, invoice, fake_stripe, today
):
    """A session opened a moment ago is left to the parent; one Stripe expired is marked
    expired; the invoice stays impayée."""
    client = client_for(client, invoice.family)
    pay(client, invoice)
    session = CheckoutSession.objects.get()

    call_command("reconcile_payments")
    assert fake_stripe.calls("GET", "/v1/checkout/sessions/") == []

    fake_stripe.sessions[session.session_id]["status"] = "expired"
    with time_machine.travel(NOW + datetime.timedelta(hours=1), tick=False):
        call_command("reconcile_payments")

    session.refresh_from_db()
    invoice.refresh_from_db()
    assert session.status == CheckoutSession.Status.EXPIRED
    assert invoice.status == Invoice.Status.UNPAID
    assert not Payment.objects.exists() and not PaymentIssue.objects.exists()


def test_expire_open_sessions_closes_them_here_and_at_stripe(client, invoice, fake_stripe, today):
    """What the recovery switch calls: an open session expires at Stripe and here. One that
    was completed at Stripe meanwhile (Stripe refuses to expire it, the error is swallowed) is
    recorded as complete, not expired — its money is settled by the webhook or the night's
    reconciliation, never taken for lost. A second call finds nothing to do."""
    from billing.card.sessions import expire_open_sessions

    client = client_for(client, invoice.family)
    pay(client, invoice)
    paid_meanwhile = CheckoutSession.objects.get()
    fake_stripe.sessions[paid_meanwhile.session_id]["status"] = "complete"  # Stripe will refuse

    assert expire_open_sessions([invoice.pk]) == 1
    assert expire_open_sessions([invoice.pk]) == 0
    paid_meanwhile.refresh_from_db()
    assert paid_meanwhile.status == CheckoutSession.Status.COMPLETE
    expire_calls = fake_stripe.calls(
        "POST", f"/v1/checkout/sessions/{paid_meanwhile.session_id}/expire"
    )
    assert len(expire_calls) == 1

    # A page still open at Stripe is closed there and here.
    CheckoutSession.objects.filter(pk=paid_meanwhile.pk).update(
        status=CheckoutSession.Status.EXPIRED
    )
    pay(client, invoice)
    fresh = CheckoutSession.objects.latest("pk")
    assert expire_open_sessions([invoice.pk]) == 1
    fresh.refresh_from_db()
    assert fresh.status == CheckoutSession.Status.EXPIRED
    assert fake_stripe.sessions[fresh.session_id]["status"] == "expired"


def test_the_family_is_told_once_in_echanges(
    client, invoice, fake_stripe, today, django_capture_on_commit_callbacks
):
    """The "Paiement reçu" message lands in the invoice's thread of Échanges, with the amount."""
    client = client_for(client, invoice.family)
    pay(client, invoice)
    session = CheckoutSession.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, fake_stripe.pay(session.session_id, send=False))

    (message,) = Message.objects.filter(thread__family=invoice.family)
    assert message.thread.subject == f"Paiement reçu pour la facture {invoice.number}"
    assert "Nous avons bien reçu votre paiement par carte bancaire de 30,00 €" in message.body


def test_the_csp_lets_the_button_redirect_to_stripe_checkout(client, invoice, settings, today):
    """Browsers check form-action along the redirect after the POST: Stripe Checkout's origin
    is allowed, and nothing else beyond the portal."""
    settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = "sk_test_x", "whsec_x"

    response = client_for(client, invoice.family).get(list_url(invoice))

    policy = response["Content-Security-Policy"]
    assert "form-action 'self' https://checkout.stripe.com" in policy


def test_paying_again_while_the_first_payment_awaits_its_webhook_is_refused(
    client, invoice, fake_stripe, today
):
    """The parent paid on the first page but the webhook is late: the invoice still says
    impayée. A second click must not open a second page (the family would pay twice): Stripe
    says the first session is complete, the portal records that and refuses; the night's
    reconciliation then records the payment once."""
    client = client_for(client, invoice.family)
    pay(client, invoice)
    first = CheckoutSession.objects.get()
    fake_stripe.pay(first.session_id, send=False)  # paid at Stripe, no webhook yet

    response = pay(client, invoice, follow=True)

    assert "déjà en cours de confirmation" in response.content.decode()
    assert len(fake_stripe.created()) == 1  # no second page
    first.refresh_from_db()
    assert first.status == CheckoutSession.Status.COMPLETE  # not "expired": money may be there
    assert pay(client, invoice, follow=True).content.decode().count("déjà en cours") == 1
    assert len(fake_stripe.created()) == 1

    call_command("reconcile_payments")

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert [p.amount_cents for p in invoice.payments.all()] == [3000]


def test_a_counter_payment_closes_the_card_payment_page(
    client, invoice, fake_stripe, today, django_capture_on_commit_callbacks
):
    """A page opened for 30,00 € cannot take that amount once 10,00 € was paid at the
    counter: the counter payment closes it at Stripe, so the parent starts again for 20,00 €."""
    client = client_for(client, invoice.family)
    pay(client, invoice)
    first = CheckoutSession.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        payment_record(invoice=invoice, amount_cents=1000, paid_on=today, means=Payment.Means.CASH)

    first.refresh_from_db()
    assert first.status == CheckoutSession.Status.EXPIRED
    assert fake_stripe.sessions[first.session_id]["status"] == "expired"
    pay(client, invoice)
    assert CheckoutSession.objects.latest("pk").amount_cents == 2000
