"""The tax certificate: children under 6 on 1 January, amounts paid during the year."""

import datetime

import pytest
from django.urls import reverse

from billing.models import Invoice, Payment
from billing.selectors import tax_certificate
from billing.services import payment_record
from reservations.models import Booking
from tests.conftest import client_for

from .conftest import book, issue, make_family, pdf_first_page_png, pdf_text

pytestmark = pytest.mark.django_db

NOV_2025 = datetime.date(2025, 11, 1)
YOUNG = datetime.date(2020, 1, 2)  # 5 on 1 January 2026
SIX = datetime.date(2020, 1, 1)  # 6 on 1 January 2026: not eligible for 2026


@pytest.fixture
def family(regies, slots, today):
    """Two children, one turning 6 on 1 January 2026; November 2025 invoiced on 10/12/2025:
    Léa (5) 4 mornings 8,00 € and a walk-in morning 2,00 € + 1,00 € surcharge; Lalo (6)
    3 evenings 6,30 €. Total 17,30 €."""
    family = make_family(children=2, birth_dates=[YOUNG, SIX])
    lea, lalo = family.children.get(first_name="Léa"), family.children.get(first_name="Lalo")
    for day in (3, 4, 6, 7):
        book(lea, slots["matin"], datetime.date(2025, 11, day))
    book(
        lea,
        slots["matin"],
        datetime.date(2025, 11, 13),
        origin=Booking.Origin.WALK_IN,
        presence=Booking.Presence.PRESENT,
    )
    for day in (3, 4, 6):
        book(lalo, slots["soir-1"], datetime.date(2025, 11, day))
    issue(regies, month=NOV_2025, today=datetime.date(2025, 12, 10))
    return family


def invoice_of(family):
    return Invoice.objects.get(family=family, period_start=NOV_2025)


def test_only_children_under_six_on_january_first_are_counted(family, regies):
    """A child 6 on 1 January is left out; one still 5 that day counts."""
    payment_record(
        invoice=invoice_of(family),
        amount_cents=1730,
        paid_on=datetime.date(2026, 1, 5),
        means=Payment.Means.CHEQUE,
    )

    certificate = tax_certificate(
        family, regies["periscolaire"], 2026, today=datetime.date(2026, 11, 26)
    )

    assert [c.child.first_name for c in certificate.eligible] == ["Léa"]
    assert [c.child.first_name for c in certificate.excluded] == ["Lalo"]
    # Léa's mornings (8,00 € + 2,00 € walk-in), not the 1,00 € surcharge nor Lalo's 6,30 €.
    assert certificate.total_cents == 1000


def test_amounts_are_counted_in_the_year_they_were_paid(family, regies):
    """A payment of December 2025 counts for 2025, the rest paid in January for 2026."""
    invoice = invoice_of(family)
    payment_record(
        invoice=invoice,
        amount_cents=500,
        paid_on=datetime.date(2025, 12, 20),
        means=Payment.Means.CARD,
    )
    payment_record(
        invoice=invoice,
        amount_cents=1230,
        paid_on=datetime.date(2026, 1, 8),
        means=Payment.Means.TRANSFER,
    )

    in_2025 = tax_certificate(
        family, regies["periscolaire"], 2025, today=datetime.date(2026, 11, 26)
    )
    in_2026 = tax_certificate(
        family, regies["periscolaire"], 2026, today=datetime.date(2026, 11, 26)
    )

    # Lines in order (older child first): Lalo 6,30 €, Léa's mornings 8,00 €, Léa's walk-in
    # 2,00 €, its surcharge 1,00 €. December's 5,00 € all go to Lalo, 5 on 1 January 2025.
    amounts_2025 = {c.child.first_name: c.amount_cents for c in in_2025.eligible}
    assert amounts_2025 == {"Lalo": 500, "Léa": 0}
    # January's 12,30 €: Lalo's last 1,30 € (he is 6 now: left out), Léa's 10,00 €, the surcharge.
    assert {c.child.first_name: c.amount_cents for c in in_2026.eligible} == {"Léa": 1000}
    assert in_2025.total_cents == 500 and in_2026.total_cents == 1000


def test_a_payment_for_two_children_counts_only_the_eligible_share(family, regies):
    """One payment covering both children counts only the share of the child under 6."""
    payment_record(
        invoice=invoice_of(family),
        amount_cents=1730,
        paid_on=datetime.date(2026, 2, 1),
        means=Payment.Means.CASH,
    )

    certificate = tax_certificate(
        family, regies["periscolaire"], 2026, today=datetime.date(2026, 11, 26)
    )

    assert certificate.total_cents == 1000
    assert sum(c.amount_cents for c in certificate.children) == 1000


def test_certificate_pdf_lists_the_child_amounts_and_signature(
    client, family, regies, tmp_path, today
):
    """The PDF names the régie, the child and birth date, the period, the amount and the signatory;
    the child of 6 is left out with a word of explanation."""
    payment_record(
        invoice=invoice_of(family),
        amount_cents=1730,
        paid_on=datetime.date(2026, 1, 5),
        means=Payment.Means.CHEQUE,
    )

    response = client_for(client, family).get(
        reverse("billing:tax_certificate", args=["periscolaire", 2026])
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert pdf_first_page_png(response.content, "attestation-fiscale").exists()
    text = pdf_text(response.content, tmp_path)
    for expected in (
        "Attestation fiscale 2026",
        "Régie de recette périscolaire municipale",
        "SIRET : 21690244000013",
        "MARTIN Léa",
        "02/01/2020",
        "du 01/01/2026 au 31/12/2026",
        "10,00 €",
        "Paul GIRAUD",
        "Signature et cachet",
        "MARTIN Lalo",
        "6 ans ou plus au 1er janvier 2026",
    ):
        assert expected in text, expected
    assert "17,30" not in text


def test_a_year_without_payments_says_so(client, family, tmp_path, today):
    """A year in which nothing was paid gives a certificate that says so."""
    response = client_for(client, family).get(
        reverse("billing:tax_certificate", args=["periscolaire", 2024])
    )

    assert "Aucun paiement de frais de garde" in pdf_text(response.content, tmp_path)


def test_a_future_year_is_not_found(client, family, today):
    """Only years up to the current one have a certificate."""
    response = client_for(client, family).get(
        reverse("billing:tax_certificate", args=["periscolaire", 2027])
    )
    assert response.status_code == 404
