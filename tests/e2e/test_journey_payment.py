"""Paying an invoice by card in the browser: the demo parent opens « Mes factures » on a phone,
presses the green card button, pays on the (fake) Stripe Checkout page, comes back to the portal
which waits for the webhook, and sees the invoice « Payée ». Then the same on a desktop, with
the keyboard only."""

import datetime
import re

import pytest
import time_machine
from playwright.sync_api import expect, sync_playwright

from billing.card.models import CheckoutSession, StripeEvent
from billing.models import Invoice, Payment, Regie
from portail.demo import seed_demo
from tests.e2e.checks import BrowserWatch, axe_violations, find_overflow
from tests.e2e.conftest import ARTIFACTS, launch, log_in

pytestmark = pytest.mark.e2e

TODAY = datetime.date(2026, 11, 26)
NOW = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)
PARENT = ("parent@example.org", "parent-portail")

GREEN = "rgb(25, 135, 84)"  # Bootstrap's btn-success


def shot(page, step, width):
    page.screenshot(path=ARTIFACTS / f"journey-payment-{step}-{width}.png", full_page=True)


def checks(page, name):
    """axe-core and the 360 px overflow check on the page as it stands."""
    return [f"{name}: axe: {line}" for line in axe_violations(page)] + [
        f"{name}: overflow: {line}" for line in find_overflow(page)
    ]


def payable(regie_slug):
    """The parent's impayée invoice of the régie that « Mes factures » lists first."""
    return (
        Invoice.objects.filter(
            family__guardians__user__email=PARENT[0],
            regie__slug=regie_slug,
            status=Invoice.Status.UNPAID,
        )
        .order_by("-period_start", "-issue_date", "-pk")
        .first()
    )


def journey_data():
    """The demo, and the two invoices the journeys pay, read before the browser starts."""
    seed_demo(TODAY)
    phone, desktop = payable("periscolaire"), payable("alai")
    assert phone is not None and desktop is not None
    return {
        slug: {"pk": invoice.pk, "number": invoice.number, "due": invoice.due_cents()}
        for slug, invoice in (("periscolaire", phone), ("alai", desktop))
    } | {"regie_names": dict(Regie.objects.values_list("slug", "name"))}


def euros(cents):
    return f"{cents // 100},{cents % 100:02d} €"


def journey_on_a_phone(browser, base, data, width=360):
    """Paiements → Mes factures → the green card → Stripe's page → « Payer » → back on the
    portal: « en cours de confirmation », then « confirmé » once the webhook is in."""
    invoice = data["periscolaire"]
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="fr-FR")
    context.set_default_timeout(15_000)
    watch = BrowserWatch().attach(context)
    page = context.new_page()
    problems = []
    log_in(page, base, *PARENT)

    page.goto(base + "/paiements/")
    regie = page.get_by_role("region", name=data["regie_names"]["periscolaire"])
    regie.get_by_role("link", name="Mes factures", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes factures")
    button = page.get_by_role(
        "button", name=f"Payer la facture n° {invoice['number']} par carte bancaire"
    )
    expect(button).to_be_visible()
    assert button.evaluate("(b) => getComputedStyle(b).backgroundColor") == GREEN
    problems += checks(page, "mes-factures")
    shot(page, "mes-factures", width)

    button.click()
    page.wait_for_url(re.compile(r"/c/pay/cs_test_"))
    expect(page.locator("#montant")).to_have_text(euros(invoice["due"]))
    expect(page.get_by_text(f"Facture {invoice['number']}")).to_be_visible()
    shot(page, "stripe-checkout", width)

    page.get_by_role("button", name=f"Payer {euros(invoice['due'])}").click()
    page.wait_for_url(re.compile(rf"/paiements/factures/{invoice['pk']}/paiement/\?session_id="))
    status = page.locator("#etat-paiement")
    expect(status).to_contain_text("Paiement en cours de confirmation")
    problems += checks(page, "paiement-en-cours")
    shot(page, "retour-en-cours", width)

    # The webhook arrives (signed by the fake Stripe); the page's htmx poll picks it up.
    expect(status).to_contain_text("Votre paiement est confirmé", timeout=20_000)
    expect(status.locator(".badge")).to_have_text("Payée")
    problems += checks(page, "paiement-confirme")
    shot(page, "retour-confirme", width)

    page.get_by_role("link", name="Voir la facture").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Facture n° {invoice['number']}")
    expect(page.locator("main .badge").first).to_have_text("Payée")
    page.get_by_role("link", name="Retour à mes factures").click()
    row = page.locator("tr", has_text=invoice["number"])
    expect(row.locator(".badge")).to_have_text("Payée")
    expect(row.locator("form.pay-form")).to_have_count(0)
    shot(page, "mes-factures-payee", width)

    problems += watch.drain()
    context.close()
    return problems


def tab_to(page, name, limit=200):
    """Presses Tab until the focused element's accessible name is `name`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        label = page.evaluate(
            "() => (document.activeElement.innerText || '').replace(/\\s+/g, ' ').trim()"
        )
        if label == name:
            return
    raise AssertionError(f"« {name} » never got the keyboard focus")


def journey_on_a_desktop_by_keyboard(browser, base, data, width=1280):
    """The Alaï invoice, paid with the keyboard only: Tab to the green button, Enter, Tab to
    « Payer », Enter; back on the portal the payment is confirmed."""
    invoice = data["alai"]
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="fr-FR")
    context.set_default_timeout(15_000)
    watch = BrowserWatch().attach(context)
    page = context.new_page()
    problems = []
    log_in(page, base, *PARENT)

    page.goto(base + "/paiements/alai/factures/")
    shot(page, "mes-factures", width)
    tab_to(page, f"Payer la facture n° {invoice['number']} par carte bancaire")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/c/pay/cs_test_"))
    tab_to(page, f"Payer {euros(invoice['due'])}")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/paiements/factures/{invoice['pk']}/paiement/"))
    shot(page, "retour-en-cours", width)
    expect(page.locator("#etat-paiement")).to_contain_text(
        "Votre paiement est confirmé", timeout=20_000
    )
    problems += checks(page, "paiement-confirme-bureau")
    shot(page, "retour-confirme", width)

    problems += watch.drain()
    context.close()
    return problems


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_payment_journey(live_server, browser_path, fake_stripe, mailoutbox, fresh_rate_limits):
    """Green card button → fake Stripe Checkout → « Payer » → return page → « Payée », once on
    a phone with the mouse and once on a desktop with the keyboard; each invoice paid once,
    from the signed webhook."""
    with time_machine.travel(NOW, tick=True):
        data = journey_data()
        fake_stripe.webhook_url = live_server.url + "/paiements/stripe/webhook/"
        fake_stripe.webhook_delay = 2.0  # the parent is back before Stripe's event
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        base = live_server.url
        with sync_playwright() as playwright:
            browser = launch(playwright, browser_path)
            problems = journey_on_a_phone(browser, base, data)
            problems += journey_on_a_desktop_by_keyboard(browser, base, data)
            browser.close()
    assert not problems, "\n".join(problems)

    assert [status for _, status in fake_stripe.events_sent] == [200, 200]
    for slug in ("periscolaire", "alai"):
        invoice = Invoice.objects.get(pk=data[slug]["pk"])
        payment = Payment.objects.get(invoice=invoice)
        assert invoice.status == Invoice.Status.PAID
        assert (payment.amount_cents, payment.means) == (data[slug]["due"], Payment.Means.CARD)
        assert CheckoutSession.objects.get(invoice=invoice).payment == payment
    assert StripeEvent.objects.filter(type="checkout.session.completed").count() == 2
    for slug in ("periscolaire", "alai"):
        # In the invoice's thread of Échanges (the e-mail carries the thread's subject).
        received = [
            m
            for m in mailoutbox
            if "Nous avons bien reçu votre paiement par carte bancaire" in m.body
            and data[slug]["number"] in m.body
        ]
        assert len(received) == 1, slug
