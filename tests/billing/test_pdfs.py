"""The invoice and statement PDFs, read back with pdftotext (first pages kept as images)."""

import datetime

import pytest
from django.urls import reverse

from billing.models import Invoice, Payment
from billing.services import payment_record
from reservations.models import Booking
from tests.conftest import client_for

from .conftest import NOVEMBER, book, issue, make_family, pdf_first_page_png, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def november_invoice(regies, slots, today):
    """November (issued 10/12/2026) with lines, a walk-in, a regularisation and a payment."""
    family = make_family("LAGRANGE", children=2)
    lalo, lea = family.children.order_by("first_name")
    excused = book(lea, slots["matin"], datetime.date(2026, 10, 5))
    book(lea, slots["matin"], datetime.date(2026, 10, 6))
    issue(regies)
    Booking.objects.filter(pk=excused.pk).update(presence=Booking.Presence.EXCUSED)
    for day in (2, 3, 5, 6, 9, 10, 12):
        book(lea, slots["matin"], datetime.date(2026, 11, day))
    for day in (2, 3):
        book(lalo, slots["soir-1"], datetime.date(2026, 11, day))
    book(
        lalo,
        slots["soir-2"],
        datetime.date(2026, 11, 5),
        origin=Booking.Origin.WALK_IN,
        presence=Booking.Presence.PRESENT,
    )
    issue(regies, month=NOVEMBER, today=datetime.date(2026, 12, 10))
    invoice = Invoice.objects.get(period_start=NOVEMBER)
    payment_record(
        invoice=invoice,
        amount_cents=1000,
        paid_on=datetime.date(2026, 12, 12),
        means=Payment.Means.CHEQUE,
        reference="Chèque 1234567",
    )
    return invoice


def test_invoice_pdf_shows_every_required_item(client, november_invoice, tmp_path):
    """Régie identity, number, dates, family and payer, each line, regularisations, total,
    amount due and how to pay are all in the PDF, as the invoice was issued: the payment
    received later is on the invoice's page, not in its document."""
    invoice = november_invoice
    assert invoice.total_cents == 7 * 200 + 2 * 210 + 180 + 100 - 200  # 19,00 €

    response = client_for(client, invoice.family).get(
        reverse("billing:invoice_pdf", args=[invoice.pk])
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="facture-{invoice.number}.pdf"' in response["Content-Disposition"]
    assert pdf_first_page_png(response.content, "facture").exists()
    text = pdf_text(response.content, tmp_path)
    for expected in (
        "Régie de recette périscolaire municipale",
        "Ville de Tassin la Demi-Lune",
        "Hôtel de Ville",
        "SIRET : 21690244000013",
        "Régisseur : Paul GIRAUD",
        f"Facture n° {invoice.number}",
        "Date d'émission : 10/12/2026",
        "Date limite de paiement : 09/01/2027",
        "Période : Du 01/11/2026 au 30/11/2026",
        "Foyer LAGRANGE",
        "Payeur",
        "Camille LAGRANGE",
        "1 place de la Mairie",
        "69160 Tassin la Demi-Lune",
        "Léa — Matin 07h20-08h20 7 × 2,00 € = 14,00 €",
        "Lalo — soir 1 : 16h30 à 17h30 2 × 2,10 € = 4,20 €",
        "Lalo — soir 2 : 17h30 à 18h30 (accueil sans réservation) 1 × 1,80 € = 1,80 €",
        "majoration accueil sans réservation",
        "1 × 1,00 € = 1,00 €",
        "Régularisations des mois précédents",
        "Régularisation du 05/10/2026 — Léa — Matin 07h20-08h20 : absence excusée",
        "-1 × 2,00 € = -2,00 €",
        "Total de la facture 19,00 €",
        "Reste à payer 19,00 €",
        "Comment payer",
        "Merci de régler avant le 09/01/2027",
        "Au guichet de la régie",
    ):
        assert expected in text, expected
    assert "Déjà payé" not in text and "Chèque 1234567" not in text

    page = " ".join(
        client.get(invoice.get_absolute_url()).content.decode().replace("<", " <").split()
    )
    for expected in ("Déjà payé", "10,00 €", "Reste à payer", "9,00 €", "Chèque 1234567"):
        assert expected in page, expected


def test_statement_pdf_has_the_running_balance(client, november_invoice, tmp_path):
    """The statement PDF lists invoices and payments with the balance after each."""
    url = reverse("billing:statement_pdf", args=["periscolaire"]) + "?du=2026-10-01&au=2026-12-31"
    response = client_for(client, november_invoice.family).get(url)

    assert response["Content-Type"] == "application/pdf"
    assert pdf_first_page_png(response.content, "releve").exists()
    text = pdf_text(response.content, tmp_path)
    for expected in (
        "Relevé de compte",
        "Du 01/10/2026 au 31/12/2026",
        "Solde au début de la période 0,00 €",
        "10/11/2026 Facture PERI2026000001",
        "4,00 € 4,00 €",
        "10/12/2026 Facture PERI2026000002",
        "19,00 € 23,00 €",
        "12/12/2026 Paiement (chèque, Chèque 1234567) — facture",
        "10,00 € 13,00 €",
        "Totaux de la période et solde au 31/12/2026 23,00 € 10,00 € 13,00 €",
    ):
        assert expected in text, expected


def _word_boxes(content: bytes, tmp_path) -> tuple[dict, dict]:
    """The first page's size and, for each word, where it first appears (in points, from the
    top left corner), as pdftotext reads them."""
    import re
    import subprocess

    path = tmp_path / "document.pdf"
    path.write_bytes(content)
    xml = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    page = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', xml)
    words = {}
    for x, y, word in re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)<', xml):
        words.setdefault(word, (float(x), float(y)))
    return {"width": float(page[1]), "height": float(page[2])}, words


def test_the_invoice_is_laid_out_as_designed(client, november_invoice, tmp_path):
    """An A4 page with the régie's identity at the top left, the payer's box at its right and
    at its height, then the title below both: the billing stylesheet shapes the document."""
    response = client_for(client, november_invoice.family).get(
        reverse("billing:invoice_pdf", args=[november_invoice.pk])
    )

    page, words = _word_boxes(response.content, tmp_path)
    assert (round(page["width"]), round(page["height"])) == (595, 842)  # A4, in points
    issuer_x, issuer_y = words["Ville"]
    payer_x, payer_y = words["Payeur"]
    title_y = words["Facture"][1]
    assert issuer_x < page["width"] / 5 and payer_x > page["width"] / 2
    assert abs(payer_y - issuer_y) < 20 and title_y > payer_y + 50


def test_rendering_leaves_the_garbage_collector_as_it_found_it(november_invoice):
    """The cyclic garbage collector, paused while WeasyPrint renders, runs again afterwards;
    paused by the caller, it stays paused."""
    import gc

    from billing import documents, pdfs

    document = documents.issued_invoice(november_invoice)
    pdfs.invoice_pdf(document)
    assert gc.isenabled()

    gc.disable()
    try:
        pdfs.invoice_pdf(document)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_page_footer_names_the_document_as_written(client, regies, slots, today, tmp_path):
    """The footer of every page names the document with the family's name as written: an
    apostrophe or a quote is printed as such, never as an HTML entity, and a "<" cannot end
    the page's stylesheet."""
    family = make_family('D\'ARTAGNAN "<b>"')
    book(family.children.get(), slots["matin"], datetime.date(2026, 10, 5))
    issue(regies)
    url = reverse("billing:statement_pdf", args=["periscolaire"]) + "?du=2026-10-01&au=2026-12-31"

    response = client_for(client, family).get(url)

    text = pdf_text(response.content, tmp_path)
    assert f"Relevé de compte — {family} — page 1 / 1" in text
    assert "D'ARTAGNAN" in str(family) and "&#" not in text
