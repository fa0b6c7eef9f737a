"""The "Paiements" balances once invoices are in recovery: counted in "Solde au" and "Solde réel",
and shown apart (« dont … en recouvrement : à régler auprès du Trésor Public »)."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.recovery.services import switch_to_recovery
from billing.selectors import family_balances
from billing.services import payment_record
from tests.conftest import TODAY, client_for

from .conftest import book, make_family
from .test_recovery import make_invoice, programmed_debit

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(regies, slots, today):
    """Périscolaire: an unpaid invoice of 30,00 €, a programmed debit of 30,00 €, an overdue
    invoice of 42,50 € with 12,50 € paid (so 30,00 € left); one morning booked this month
    (2,00 €) not yet invoiced."""
    family = make_family()
    make_invoice(family, number="PERI2026000301", due_date=datetime.date(2026, 12, 10))
    programmed_debit(
        family,
        number="ALAI2026000301",
        due_date=datetime.date(2026, 12, 10),
        debit_date=datetime.date(2026, 12, 12),
        regie="alai",
    )
    overdue = make_invoice(
        family,
        number="PERI2026000302",
        due_date=datetime.date(2026, 11, 9),
        total_cents=4250,
        period_start=datetime.date(2026, 8, 1),
    )
    payment_record(
        invoice=overdue, amount_cents=1250, paid_on=datetime.date(2026, 11, 2), means="cheque"
    )
    book(family.children.get(), slots["matin"], datetime.date(2026, 11, 27))
    return family


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_recovery_is_in_the_balance_and_told_apart(family, today):
    """Solde au counts impayée, prélèvement programmé and recovery alike (what the family owes);
    the part in recovery is given apart, and Solde réel adds what is not invoiced yet."""
    switch_to_recovery(today=TODAY)
    balances = {b.regie.slug: b for b in family_balances(family, on=TODAY)}

    periscolaire = balances["periscolaire"]
    assert (periscolaire.portal_cents, periscolaire.open_invoices) == (3000, 1)
    assert (periscolaire.recovery_cents, periscolaire.recovery_invoices) == (3000, 1)
    assert periscolaire.total_cents == 6000
    assert periscolaire.real_cents == 6000 + 200
    alai = balances["alai"]
    assert (alai.total_cents, alai.open_invoices, alai.recovery_invoices) == (3000, 1, 0)


def test_the_page_shows_the_recovery_line(client, family, today):
    """The régie block says "Solde au 26/11/2026 60,00 € dont 30,00 € en recouvrement : à régler
    auprès du Trésor Public", with the number of invoices; the other régie has no such line."""
    switch_to_recovery(today=TODAY)
    page = client_for(client, family).get(reverse("billing:regie_list")).content.decode()
    text = text_of(page)

    assert (
        "Solde au 26/11/2026 60,00 € dont 30,00 € en recouvrement : à régler auprès du Trésor "
        "Public" in text
    )
    assert "1 facture mise en recouvrement (30,00 €) : elle ne se règle plus sur le portail" in text
    assert "Solde réel 62,00 €" in text
    assert page.count("recovery-line") == 1


def test_the_page_query_count_stays_flat(client, family, regies, today):
    """Invoices in recovery cost the page no extra query."""
    client_for(client, family)
    url = reverse("billing:regie_list")
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)

    switch_to_recovery(today=TODAY)
    for month in (5, 6, 7):
        make_invoice(
            family,
            number=f"ALAI202600031{month}",
            due_date=datetime.date(2026, 11, 1),
            period_start=datetime.date(2026, month, 1),
            regie="alai",
        )
    switch_to_recovery(today=TODAY)
    with CaptureQueriesContext(connection) as after:
        page = client.get(url).content.decode()

    assert "dont 90,00 € en recouvrement" in text_of(page)
    assert len(after) == len(before), [q["sql"] for q in after.captured_queries]
