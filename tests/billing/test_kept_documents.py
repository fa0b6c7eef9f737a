"""Issued documents made once: the invoice PDF rendered when the invoice is issued, kept with its
SHA-256 and served byte for byte; credit notes, reissues and past tax certificates alike."""

import datetime
import hashlib
import logging

import pytest
import time_machine
from django.urls import reverse

from billing import documents
from billing.invoicing import invoicing_run
from billing.models import CreditNote, Invoice, Payment, TaxCertificateDocument
from billing.recovery.services import switch_to_recovery
from billing.services import invoice_cancel, invoice_reissue, payment_record
from common.files import get_private_storage
from common.models import StoredDocument
from tests.concurrency import at_once
from tests.conftest import client_for

from .conftest import OCTOBER, book, issue, make_family, pdf_first_page_png, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(regies, slots, today, django_capture_on_commit_callbacks):
    """October invoiced for ALPHA and BRAVO by the month's run, as the night issues it (with
    its outbox promises carried out after the commit)."""
    alpha, bravo = make_family("ALPHA"), make_family("BRAVO", names=["Bob"])
    for day in (5, 6):
        book(alpha.children.get(), slots["matin"], datetime.date(2026, 10, day))
    book(bravo.children.get(), slots["soir-1"], datetime.date(2026, 10, 5))
    with django_capture_on_commit_callbacks(execute=True):
        invoicing_run(
            regie=regies["periscolaire"], month=OCTOBER, today=datetime.date(2026, 11, 10)
        )
    return Invoice.objects.get(family=alpha), Invoice.objects.get(family=bravo)


def download(client, invoice, **headers):
    return client_for(client, invoice.family).get(invoice.get_pdf_url(), headers=headers)


def stored_bytes(document: StoredDocument) -> bytes:
    with get_private_storage().open(document.path, "rb") as handle:
        return handle.read()


def test_the_run_stores_each_invoice_pdf_when_it_issues_it(issued):
    """Once the run has committed, every invoice it issued has its PDF kept, with the SHA-256
    and size of the stored bytes, before anyone downloads it."""
    for invoice in issued:
        invoice.refresh_from_db()
        assert invoice.document is not None
        content = stored_bytes(invoice.document)
        assert content.startswith(b"%PDF-")
        assert invoice.document.sha256 == hashlib.sha256(content).hexdigest()
        assert invoice.document.size == len(content)


def test_every_download_sends_the_stored_bytes(client, issued, regies, office, tmp_path):
    """The PDF is the stored file, byte for byte, on every download, with its SHA-256 as
    ETag and its name; a payment, the reissue of another invoice and the switch of another
    one to recovery change nothing in it."""
    alpha, bravo = issued
    alpha.refresh_from_db()
    first = download(client, alpha)

    assert first.status_code == 200
    assert first["Content-Type"] == "application/pdf"
    assert f'filename="facture-{alpha.number}.pdf"' in first["Content-Disposition"]
    assert first["ETag"] == f'"{hashlib.sha256(first.content).hexdigest()}"'
    assert first.content == stored_bytes(alpha.document)
    assert f"Facture n° {alpha.number}" in pdf_text(first.content, tmp_path)

    payment_record(
        invoice=alpha,
        amount_cents=200,
        paid_on=datetime.date(2026, 11, 20),
        means=Payment.Means.CASH,
    )
    invoice_cancel(invoice=bravo, reason="Erreur de créneau", by=office, today=bravo.issue_date)
    invoice_reissue(invoice=bravo, by=office, today=datetime.date(2026, 11, 26))

    again = download(client, alpha)
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert StoredDocument.objects.filter(pk=alpha.document_id).get().sha256 == (
        hashlib.sha256(again.content).hexdigest()
    )


def test_a_browser_holding_the_document_gets_not_modified(client, issued):
    """Asked again with the ETag it holds, the browser gets a 304 and no body."""
    alpha, _ = issued
    first = download(client, alpha)

    again = download(client, alpha, if_none_match=first["ETag"])

    assert again.status_code == 304
    assert again.content == b""


def test_a_reissue_keeps_the_original_and_makes_its_own_documents(
    client, issued, office, django_capture_on_commit_callbacks, tmp_path
):
    """Cancelling and reissuing an invoice leave its PDF as issued; the credit note and the
    new invoice each get their own kept PDF."""
    alpha, _ = issued
    original = download(client, alpha).content

    with django_capture_on_commit_callbacks(execute=True):
        note = invoice_cancel(
            invoice=alpha, reason="Mauvais tarif", by=office, today=datetime.date(2026, 11, 20)
        )
    with django_capture_on_commit_callbacks(execute=True):
        new = invoice_reissue(invoice=alpha, by=office, today=datetime.date(2026, 11, 26))

    assert download(client, alpha).content == original
    alpha.refresh_from_db()
    assert stored_bytes(alpha.document) == original
    note.refresh_from_db()
    new.refresh_from_db()
    assert len({alpha.document_id, note.document_id, new.document_id}) == 3

    new_pdf = download(client, new).content
    assert new_pdf == stored_bytes(new.document) and new_pdf != original
    text = pdf_text(new_pdf, tmp_path)
    assert f"Facture n° {new.number}" in text
    assert f"la facture n° {alpha.number} (annulée)" in text

    avoir = client.get(reverse("billing:credit_note_pdf", args=[alpha.pk]))
    assert avoir.status_code == 200
    assert avoir.content == stored_bytes(note.document)
    assert pdf_first_page_png(avoir.content, "avoir").exists()
    avoir_text = pdf_text(avoir.content, tmp_path)
    for expected in (
        f"Avoir n° {note.number}",
        f"n° {alpha.number} du 10/11/2026",
        "Mauvais tarif",
        "Montant de l'avoir 4,00 €",
    ):
        assert expected in avoir_text, expected
    page = client.get(alpha.get_absolute_url()).content.decode()
    assert reverse("billing:credit_note_pdf", args=[alpha.pk]) in page


def test_the_pdf_stays_as_issued_after_the_switch_to_recovery(client, issued, tmp_path):
    """An unpaid invoice sent to the Trésor Public keeps its document as issued; its page says
    who collects it now."""
    alpha, _ = issued
    before = download(client, alpha).content

    switch_to_recovery(today=alpha.due_date + datetime.timedelta(days=1), notify=False)

    alpha.refresh_from_db()
    assert alpha.status == Invoice.Status.RECOVERY
    assert download(client, alpha).content == before
    assert "directement par le Trésor Public" in " ".join(
        client.get(alpha.get_absolute_url()).content.decode().split()
    )


def test_another_family_gets_404(client, issued, office):
    """Another family's invoice PDF and credit note PDF are not found."""
    alpha, bravo = issued
    invoice_cancel(invoice=alpha, reason="Essai", by=office, today=datetime.date(2026, 11, 20))

    client_for(client, bravo.family)

    assert client.get(alpha.get_pdf_url()).status_code == 404
    assert client.get(reverse("billing:credit_note_pdf", args=[alpha.pk])).status_code == 404
    assert client.get(reverse("billing:credit_note_pdf", args=[bravo.pk])).status_code == 404


@pytest.mark.parametrize("damage", ["altered", "missing"])
def test_a_damaged_file_is_refused_loudly(client, issued, office, caplog, damage):
    """A kept file changed or gone on disk is never replaced by another rendering: the family
    gets a page in French (no 500), the error is logged for the office, and the admin's
    download says so on the invoice's page."""
    alpha, _ = issued
    alpha.refresh_from_db()
    path = get_private_storage().path(alpha.document.path)
    if damage == "altered":
        content = bytearray(stored_bytes(alpha.document))
        content[len(content) // 2] ^= 0x01
        with open(path, "wb") as handle:
            handle.write(content)
    else:
        get_private_storage().delete(alpha.document.path)

    with caplog.at_level(logging.ERROR, logger="common.documents"):
        response = download(client, alpha)

    assert response.status_code == 503
    page = response.content.decode()
    assert "Document indisponible" in page
    assert f"la facture n° {alpha.number} ne peut pas vous être envoyé" in page
    assert any(alpha.document.path in record.getMessage() for record in caplog.records)
    alpha.refresh_from_db()
    assert StoredDocument.objects.count() == 2  # nothing rendered in its place

    client.force_login(office)
    admin = client.get(reverse("admin:billing_invoice_pdf", args=[alpha.pk]), follow=True)
    assert admin.redirect_chain[-1][0] == reverse("admin:billing_invoice_change", args=[alpha.pk])
    assert f"Le PDF conservé de la facture {alpha.number} est introuvable" in (
        admin.content.decode()
    )


def test_the_office_downloads_the_same_file(client, issued, office):
    """The admin's PDF of an invoice is the family's file."""
    alpha, _ = issued
    family_copy = download(client, alpha).content
    client.force_login(office)

    response = client.get(reverse("admin:billing_invoice_pdf", args=[alpha.pk]))

    assert response.status_code == 200
    assert response.content == family_copy


def test_an_invoice_issued_without_its_pdf_gets_it_on_first_download(client, regies, slots):
    """An invoice whose PDF the worker has not made yet is rendered and kept by its first
    download; the next one sends the same file."""
    family = make_family()
    book(family.children.get(), slots["matin"], datetime.date(2026, 10, 5))
    issue(regies)  # no outbox: the demo data's way
    invoice = Invoice.objects.get(family=family)
    assert invoice.document_id is None

    first = download(client, invoice)

    invoice.refresh_from_db()
    assert first.status_code == 200 and first.content == stored_bytes(invoice.document)
    assert download(client, invoice).content == first.content
    assert StoredDocument.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_first_downloads_at_once_store_one_file(regies, slots):
    """Two downloads of a PDF not made yet, at the same moment, store one file and send the
    same bytes."""
    family = make_family()
    book(family.children.get(), slots["matin"], datetime.date(2026, 10, 5))
    issue(regies)
    invoice = Invoice.objects.get(family=family)

    def first_download():
        copy = Invoice.objects.select_related("regie", "replaces").get(pk=invoice.pk)
        return documents.invoice_stored_document(copy).pk

    results = at_once(first_download, first_download, first_download)

    assert all(isinstance(result, int) for result in results), results
    assert len(set(results)) == 1
    assert StoredDocument.objects.count() == 1


# Tax certificates -----------------------------------------------------------------------------


@pytest.fixture
def paid_in_2025(regies, slots, today):
    """A family whose invoice of October 2025 was paid in November 2025."""
    family = make_family(birth_dates=[datetime.date(2022, 3, 1)])
    book(family.children.get(), slots["matin"], datetime.date(2025, 10, 6))
    issue(regies, month=datetime.date(2025, 10, 1), today=datetime.date(2025, 11, 10))
    invoice = Invoice.objects.get(family=family)
    payment_record(
        invoice=invoice,
        amount_cents=100,
        paid_on=datetime.date(2025, 11, 20),
        means=Payment.Means.CHEQUE,
    )
    return family, invoice


def test_a_past_years_certificate_is_kept_and_sent_again_as_made(client, paid_in_2025, tmp_path):
    """The 2025 certificate asked on two days is the same file, dated the first day; a payment
    recorded later with a 2025 date makes a new certificate (the first one is kept)."""
    family, invoice = paid_in_2025
    url = reverse("billing:tax_certificate", args=["periscolaire", 2025])
    client_for(client, family)

    first = client.get(url)
    with time_machine.travel(datetime.datetime(2026, 12, 2, 10, 0, tzinfo=datetime.UTC)):
        later = client_for(client, family).get(url)

    assert (first.status_code, later.status_code) == (200, 200)
    assert later.content == first.content
    assert first["ETag"] == f'"{hashlib.sha256(first.content).hexdigest()}"'
    assert "1,00 €" in pdf_text(first.content, tmp_path)
    assert "26 novembre 2026" in pdf_text(first.content, tmp_path)

    payment_record(
        invoice=invoice,
        amount_cents=100,
        paid_on=datetime.date(2025, 12, 30),
        means=Payment.Means.CHEQUE,
    )
    with time_machine.travel(datetime.datetime(2026, 12, 2, 10, 0, tzinfo=datetime.UTC)):
        corrected = client_for(client, family).get(url)

    assert corrected.content != first.content
    text = pdf_text(corrected.content, tmp_path)
    assert "2,00 €" in text and "2 décembre 2026" in text
    assert TaxCertificateDocument.objects.filter(family=family, year=2025).count() == 2


def test_this_years_certificate_is_made_on_demand(client, paid_in_2025):
    """The certificate of the year under way is not kept: payments are still coming."""
    family, _ = paid_in_2025

    response = client_for(client, family).get(
        reverse("billing:tax_certificate", args=["periscolaire", 2026])
    )

    assert response.status_code == 200
    assert not TaxCertificateDocument.objects.exists()
    assert not StoredDocument.objects.exists()


def test_a_credit_note_is_kept_once(issued, office):
    """The credit note's PDF is made once: asking for it again sends the same stored file."""
    alpha, _ = issued
    note = invoice_cancel(invoice=alpha, reason="Essai", by=office, today=alpha.issue_date)

    first = documents.credit_note_stored_document(CreditNote.objects.get(pk=note.pk))
    again = documents.credit_note_stored_document(CreditNote.objects.get(pk=note.pk))

    assert first.pk == again.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_first_downloads_of_a_past_certificate_keep_one(regies, slots):
    """Two first downloads of a past year's certificate at the same moment keep one file, and
    both send it."""
    family = make_family(birth_dates=[datetime.date(2022, 3, 1)])
    book(family.children.get(), slots["matin"], datetime.date(2025, 10, 6))
    issue(regies, month=datetime.date(2025, 10, 1), today=datetime.date(2025, 11, 10))
    payment_record(
        invoice=Invoice.objects.get(family=family),
        amount_cents=100,
        paid_on=datetime.date(2025, 11, 20),
        means=Payment.Means.CHEQUE,
    )

    def first_download():
        from billing.selectors import tax_certificate

        data = tax_certificate(
            family, regies["periscolaire"], 2025, today=datetime.date(2026, 11, 26)
        )
        return documents.certificate_stored_document(data).pk

    results = at_once(first_download, first_download)

    assert all(isinstance(result, int) for result in results), results
    assert results[0] == results[1]
    assert TaxCertificateDocument.objects.count() == 1
    assert StoredDocument.objects.count() == 1
    kept = StoredDocument.objects.get()
    assert stored_bytes(kept)  # the loser's file is gone, the winner's is there
