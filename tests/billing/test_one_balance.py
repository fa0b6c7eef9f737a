"""One balance: "Solde au <date>" and "Solde réel" come from `billing.selectors.family_balance`
on Paiements, Mes factures, the relevé and its PDF, with the part in recovery told apart."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse

from billing.models import Regie
from billing.recovery.services import switch_to_recovery
from billing.selectors import family_balance, statement
from billing.services import invoice_cancel, payment_record
from portail.demo import seed_demo
from tests.conftest import TODAY, client_for

from .conftest import book, make_family, pdf_text
from .test_recovery import make_invoice

pytestmark = pytest.mark.django_db

DEMO_DAY = datetime.date(2026, 12, 2)
SOLDE_AU = re.compile(r"Solde au (\d\d/\d\d/\d{4}) (-?[\d  ]+,\d\d) €")
RECOVERY = re.compile(r"dont ([\d  ]+,\d\d) € en recouvrement : à régler auprès du Trésor Public")


def euros(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


def text_of(html: str) -> str:
    text = re.sub(r"<[^>]+>", " ", html)
    return " ".join(text.replace("\xa0", " ").replace("\u202f", " ").split())


def figures(text: str) -> tuple:
    """(date, amount) of every "Solde au", and every "dont … en recouvrement" amount."""
    text = text.replace("\xa0", " ").replace("\u202f", " ")
    return SOLDE_AU.findall(text), RECOVERY.findall(text)


def regie_block(html: str, slug: str) -> str:
    """The régie's block of the Paiements page."""
    start = html.index(f'aria-labelledby="regie-{slug}"')
    end = html.find('aria-labelledby="regie-', start + 1)
    return html[start : end if end > 0 else len(html)]


@pytest.fixture
def demo(db):
    with time_machine.travel(
        datetime.datetime(2026, 12, 2, 10, 0, tzinfo=datetime.UTC), tick=False
    ):
        yield seed_demo(DEMO_DAY)


def test_the_demo_familys_balance_is_the_same_on_every_page(client, demo, tmp_path):
    """For the demo family on 02/12/2026, Paiements, Mes factures, the relevé and the relevé's
    PDF give the same "Solde au 02/12/2026" for each régie, with the same part in recovery."""
    client_for(client, demo["parent"])
    paiements = client.get(reverse("billing:regie_list")).content.decode()
    seen = {}
    for regie in Regie.objects.all():
        balance = family_balance(demo["parent"], regie, on=DEMO_DAY)
        expected_total = euros(balance.total_cents)
        pages = {
            "Paiements": text_of(regie_block(paiements, regie.slug)),
            "Mes factures": text_of(
                client.get(reverse("billing:invoice_list", args=[regie.slug])).content.decode()
            ),
            "Relevé": text_of(
                client.get(reverse("billing:statement", args=[regie.slug])).content.decode()
            ),
            "Relevé PDF": pdf_text(
                client.get(reverse("billing:statement_pdf", args=[regie.slug])).content, tmp_path
            ).split(" ¦ ")[0],
        }
        for name, text in pages.items():
            solde, recovery = figures(text)
            assert solde == [("02/12/2026", expected_total)], (regie.slug, name, text)
            if balance.recovery_cents:
                assert recovery == [euros(balance.recovery_cents)], (regie.slug, name)
            else:
                assert recovery == [], (regie.slug, name)
            assert f"Solde réel {euros(balance.real_cents)} €" in text, (regie.slug, name)
        seen[regie.slug] = (balance.portal_cents, balance.recovery_cents, balance.total_cents)

    # The tutorial's 30,00 € November invoice is in recovery: owed, to the Trésor Public.
    assert seen["periscolaire"] == (3950, 3000, 6950)
    assert seen["alai"] == (5000, 0, 5000)


@pytest.fixture
def family(regies, slots, today):
    """Périscolaire: an unpaid invoice of 30,00 €; one of 42,50 € with 12,55 € paid (29,95 €
    left); one of 25,50 € with 5,25 € paid, overdue (20,25 € left, in recovery once switched);
    one cancelled by a credit note; one fully paid. One morning booked this month (2,00 €)."""
    family = make_family()
    make_invoice(family, number="PERI2026000401", due_date=datetime.date(2026, 12, 10))
    partly = make_invoice(
        family,
        number="PERI2026000402",
        due_date=datetime.date(2026, 12, 10),
        total_cents=4250,
        period_start=datetime.date(2026, 8, 1),
    )
    payment_record(
        invoice=partly, amount_cents=1255, paid_on=datetime.date(2026, 11, 20), means="cheque"
    )
    overdue = make_invoice(
        family,
        number="PERI2026000403",
        due_date=datetime.date(2026, 11, 9),
        total_cents=2550,
        period_start=datetime.date(2026, 7, 1),
    )
    payment_record(
        invoice=overdue, amount_cents=525, paid_on=datetime.date(2026, 10, 30), means="especes"
    )
    cancelled = make_invoice(
        family,
        number="PERI2026000404",
        due_date=datetime.date(2026, 12, 10),
        total_cents=1800,
        period_start=datetime.date(2026, 6, 1),
    )
    invoice_cancel(invoice=cancelled, reason="Erreur de tarif", by=None, today=TODAY)
    paid = make_invoice(
        family,
        number="PERI2026000405",
        due_date=datetime.date(2026, 12, 10),
        total_cents=1000,
        period_start=datetime.date(2026, 5, 1),
    )
    payment_record(invoice=paid, amount_cents=1000, paid_on=TODAY, means="virement")
    book(family.children.get(), slots["matin"], datetime.date(2026, 11, 27))
    switch_to_recovery(today=TODAY)
    return family


def test_balance_in_exact_cents(family, regies):
    """Solde au = 30,00 + 29,95 (portal) + 20,25 (recovery) = 80,20 €; cancelled and paid
    invoices count for nothing; Solde réel adds the 2,00 € morning not invoiced yet."""
    balance = family_balance(family, regies["periscolaire"], on=TODAY)

    assert (balance.portal_cents, balance.open_invoices) == (3000 + 2995, 2)
    assert (balance.recovery_cents, balance.recovery_invoices) == (2025, 1)
    assert balance.total_cents == 8020
    assert (balance.pending_cents, balance.real_cents) == (200, 8220)
    assert family_balance(family, regies["alai"], on=TODAY).total_cents == 0


def test_the_relevé_ends_on_the_same_balance(family, regies):
    """The relevé's running balance ends on "Solde au" of the same day, today and on earlier
    days (before a payment, before the switch to recovery, before the credit note)."""
    periscolaire = regies["periscolaire"]
    for day in (
        TODAY,
        TODAY - datetime.timedelta(days=1),
        datetime.date(2026, 11, 19),
        datetime.date(2026, 10, 29),
    ):
        data = statement(family, periscolaire, datetime.date(2026, 1, 1), day, today=TODAY)
        assert data.balance.total_cents == data.closing_cents, day
        assert data.balance.on == day
        assert (data.balance.pending_cents is None) == (day != TODAY)

    # Before the 12,55 € cheque of 20/11 the partly paid invoice was owed in full.
    before_cheque = family_balance(
        family, periscolaire, on=datetime.date(2026, 11, 19), with_pending=False
    )
    assert before_cheque.portal_cents == 3000 + 4250 + 2025 + 1800 + 1000


def test_an_invoice_switched_after_the_date_was_still_on_the_portal(family, regies):
    """On the day before its switch, an invoice now in recovery counted as payable on the
    portal (the split follows the recovery date); the invoice paid today and the one cancelled
    today were still owed."""
    day = TODAY - datetime.timedelta(days=1)
    balance = family_balance(family, regies["periscolaire"], on=day, with_pending=False)
    assert (balance.recovery_cents, balance.recovery_invoices) == (0, 0)
    assert balance.portal_cents == 3000 + 2995 + 2025 + 1000 + 1800


def test_every_page_shows_the_same_figures(client, family, regies, tmp_path):
    """Paiements, Mes factures, the relevé and its PDF say "Solde au 26/11/2026 80,20 €" and
    "dont 20,25 € en recouvrement : à régler auprès du Trésor Public"."""
    client_for(client, family)
    pages = [
        text_of(
            regie_block(client.get(reverse("billing:regie_list")).content.decode(), "periscolaire")
        ),
        text_of(
            client.get(reverse("billing:invoice_list", args=["periscolaire"])).content.decode()
        ),
        text_of(client.get(reverse("billing:statement", args=["periscolaire"])).content.decode()),
        pdf_text(
            client.get(reverse("billing:statement_pdf", args=["periscolaire"])).content, tmp_path
        ).split(" ¦ ")[0],
    ]
    for text in pages:
        assert figures(text) == ([("26/11/2026", "80,20")], ["20,25"]), text
        assert "Solde réel 82,20 €" in " ".join(text.replace("\u202f", " ").split())


def test_a_past_relevé_shows_no_solde_reel(client, family):
    """A relevé ending before today gives "Solde au" of its last day, without "Solde réel"
    (what is not invoiced yet is only known for today)."""
    client_for(client, family)
    url = reverse("billing:statement", args=["periscolaire"])
    text = text_of(client.get(url, {"du": "2026-01-01", "au": "2026-11-19"}).content.decode())

    assert figures(text) == ([("19/11/2026", "120,75")], []), text
    assert "Solde réel" not in text
