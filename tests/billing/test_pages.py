"""The parent pages of "Paiements": Mes factures, an invoice, the statement; and their scoping."""

import datetime

import pytest
from django.urls import reverse

from billing.models import Invoice, Payment
from billing.services import invoice_cancel, payment_record
from tests.conftest import client_for

from .conftest import NOVEMBER, book, issue, make_family

pytestmark = pytest.mark.django_db


@pytest.fixture
def families(regies, slots, today, office):
    """Family A with an October invoice (paid) and a November one (unpaid, after a cancelled
    and reissued one); family B with its own invoice."""
    a, b = make_family("ALPHA"), make_family("BRAVO", names=["Bob"])
    lea, bob = a.children.get(), b.children.get()
    for day in (5, 6):
        book(lea, slots["matin"], datetime.date(2026, 10, day))
    book(bob, slots["soir-1"], datetime.date(2026, 10, 5))
    issue(regies)
    payment_record(
        invoice=Invoice.objects.get(family=a),
        amount_cents=400,
        paid_on=datetime.date(2026, 11, 12),
        means=Payment.Means.CASH,
    )
    for day in (2, 3, 5):
        book(lea, slots["matin"], datetime.date(2026, 11, day))
    issue(regies, month=NOVEMBER, today=datetime.date(2026, 12, 10))
    invoice_cancel(
        invoice=Invoice.objects.get(family=a, period_start=NOVEMBER),
        reason="Essai",
        by=office,
        today=datetime.date(2026, 12, 11),
    )
    return a, b


def test_mes_factures_lists_newest_first_with_the_tutorial_columns(client, families, today):
    """Numéro, Montant, Période, Statut, Action, the newest period first, a PDF per invoice."""
    a, _ = families
    page = (
        client_for(client, a)
        .get(reverse("billing:invoice_list", args=["periscolaire"]))
        .content.decode()
    )

    for column in ("Numéro", "Montant", "Période", "Statut", "Action"):
        assert f'<th scope="col">{column}</th>' in page
    november, october = Invoice.objects.filter(family=a).order_by("-period_start")
    assert page.index(november.number) < page.index(october.number)
    assert "Du 01/11/2026 au 30/11/2026" in page and "Du 01/10/2026 au 31/10/2026" in page
    assert "Annulée" in page and "Payée" in page and "4,00 €" in page
    assert october.get_pdf_url() in page and november.get_pdf_url() in page
    assert "BRAVO" not in page


def test_invoice_page_shows_lines_totals_and_how_to_pay(client, regies, slots, today):
    """An unpaid invoice's page shows its lines, total, what is left to pay and how to pay."""
    family = make_family()
    for day in (5, 6, 8):
        book(family.children.get(), slots["matin"], datetime.date(2026, 10, day))
    issue(regies)
    invoice = Invoice.objects.get()

    page = client_for(client, family).get(invoice.get_absolute_url()).content.decode()

    assert f"Facture n° {invoice.number}" in page
    assert "Léa — Matin 07h20-08h20" in page and "6,00 €" in page
    assert "Reste à payer" in page and "Comment payer" in page
    assert "10/12/2026" in page  # due date


def test_cancelled_invoice_page_names_its_credit_note(client, families, today):
    """A cancelled invoice says so and names the credit note that cancelled it."""
    a, _ = families
    invoice = Invoice.objects.get(family=a, status=Invoice.Status.CANCELLED)
    page = client_for(client, a).get(invoice.get_absolute_url()).content.decode()
    assert "Cette facture est annulée par l'avoir n° AVPERI2026000001" in page


def test_statement_page_has_a_running_balance_and_a_period_form(client, families, today):
    """The statement lists invoices, credit notes and payments over the chosen period."""
    a, _ = families
    url = reverse("billing:statement", args=["periscolaire"])
    page = client_for(client, a).get(url, {"du": "2026-10-01", "au": "2026-12-31"}).content.decode()

    assert "Facture PERI2026000001" in page
    assert "Paiement (espèces)" in page
    assert "Avoir AVPERI2026000001" in page
    assert "BRAVO" not in page and "PERI2026000002" not in page  # B's invoice number
    bad = client.get(url, {"du": "2026-12-31", "au": "2026-10-01"}).content.decode()
    assert "La fin de la période doit suivre son début." in bad


def test_statement_puts_a_credit_note_before_the_invoice_that_replaces(
    client, families, office, today
):
    """Cancelled and reissued the same day: the credit note comes first, then the new invoice."""
    from billing.services import invoice_reissue

    a, _ = families
    cancelled = Invoice.objects.get(family=a, status=Invoice.Status.CANCELLED)
    new = invoice_reissue(invoice=cancelled, by=office, today=datetime.date(2026, 12, 11))
    url = reverse("billing:statement", args=["periscolaire"])
    page = client_for(client, a).get(url, {"du": "2026-12-01", "au": "2026-12-31"}).content.decode()

    assert page.index("Avoir AVPERI2026000001") < page.index(f"Facture {new.number}")


def test_another_familys_invoice_pages_are_404(client, families, today):
    """Family B's invoice page and PDF are 404 for family A."""
    a, b = families
    client_for(client, a)
    invoice_b = Invoice.objects.get(family=b)
    assert client.get(invoice_b.get_absolute_url()).status_code == 404
    assert client.get(invoice_b.get_pdf_url()).status_code == 404


def test_regie_pages_show_only_the_familys_own_data(client, families, tmp_path, today):
    """The pages of a régie (list, bookings, statement, certificate) answer family B with its own
    data only: nothing of family A's invoices, payments or children appears."""
    from .conftest import pdf_text

    a, b = families
    numbers_a = list(Invoice.objects.filter(family=a).values_list("number", flat=True))
    client_for(client, b)
    pages = [
        reverse("billing:regie_list"),
        reverse("billing:invoice_list", args=["periscolaire"]),
        reverse("billing:regie_bookings", args=["periscolaire"]),
        reverse("billing:statement", args=["periscolaire"]) + "?du=2026-01-01&au=2026-12-31",
        reverse("billing:tax_certificate_list", args=["periscolaire"]),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert "ALPHA" not in html and "Léa" not in html, url
        assert not any(number in html for number in numbers_a), url
    pdfs = [
        reverse("billing:statement_pdf", args=["periscolaire"]) + "?du=2026-01-01&au=2026-12-31",
        reverse("billing:tax_certificate", args=["periscolaire", 2026]),
    ]
    for url in pdfs:
        text = pdf_text(client.get(url).content, tmp_path)
        assert "ALPHA" not in text and "Léa" not in text, url
        assert not any(number in text for number in numbers_a), url


def test_unknown_regie_is_404(client, families, today):
    """A régie slug that does not exist is a 404."""
    a, _ = families
    assert client_for(client, a).get("/paiements/inconnue/factures/").status_code == 404


def test_a_guardian_without_family_is_asked_to_create_it(client, regies, today):
    """Without a family, the payment pages send the user to create one."""
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(reverse("billing:regie_list"))
    assert response.status_code == 302
    assert response.url == reverse("families:family_create")
