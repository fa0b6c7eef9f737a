"""The documents billing issues, made once and kept: the PDF of each issued invoice, of each
credit note, and the tax certificate of a year that is over.

An invoice is a document of its day of issue: its PDF shows it as issued (its lines, its total,
how to pay before the due date) and never changes afterwards; payments, a cancellation or the
switch to recovery are shown on the invoice's page and the relevé, and a cancellation makes its
own document (the credit note's PDF), as a reissue does (the new invoice's).

The invoicing run promises the PDFs of each batch through the outbox, in the batch's own
transaction, and the worker renders them after the commit: rendering (about 40 ms an invoice)
inside the batch would hold the régie's number counter for the whole batch, and a 5,000-invoice
night for minutes. A PDF asked for before the worker made it (or an invoice issued before PDFs
were kept) is rendered and stored by that first download, under the invoice's row lock: two
simultaneous downloads store one file.

A tax certificate of a past year is kept by its content: the certificate shown on a later day
with the same content is the same file (dated the day it was first made); a payment recorded
late, dated in that year, changes the content, and the next download makes a new certificate
(the earlier one is kept). The certificate of the current year, and every relevé (any period,
its running balance reaching up to the day it is asked), are rendered on demand.
"""

import copy
import datetime
import hashlib
import logging

from celery import shared_task
from django.db import IntegrityError, transaction

from common import documents as stored
from common import outbox
from common.models import StoredDocument

from . import pdfs, selectors
from .invoicing import STORE_INVOICE_DOCUMENTS
from .models import CreditNote, Invoice, TaxCertificateDocument

logger = logging.getLogger(__name__)

STORE_CREDIT_NOTE_TASK = "billing.documents.store_credit_note_document"
# The issue date a certificate is fingerprinted with: the date it shows is not its content.
_FINGERPRINT_DATE = datetime.date(2000, 1, 1)


class DocumentUnavailable(Exception):
    """A kept document cannot be sent as it was issued (its file is missing or was altered)."""


# Invoices ----------------------------------------------------------------------------------


def issued_invoice(invoice: Invoice) -> selectors.InvoiceDocument:
    """What the invoice's PDF shows: the invoice as it stood on its day of issue (impayée, or
    a programmed debit), without the payments, credit note or replacement that came later."""
    as_issued = copy.copy(invoice)
    programmed = invoice.mandate_id is not None and invoice.debit_date is not None
    as_issued.status = Invoice.Status.DIRECT_DEBIT if programmed else Invoice.Status.UNPAID
    as_issued.paid_at = as_issued.recovery_date = as_issued.reminder_sent_at = None
    lines = list(invoice.lines.order_by("position"))  # their own words: no child, no créneau
    return selectors.InvoiceDocument(
        invoice=as_issued,
        lines=[line for line in lines if not line.is_regularisation],
        regularisations=[line for line in lines if line.is_regularisation],
        payments=[],
        paid_cents=0,
        due_cents=invoice.total_cents,
        credit_note=None,
        replaced_by=None,
    )


def invoice_filename(invoice: Invoice) -> str:
    return f"facture-{invoice.number}.pdf"


def enqueue_invoice_documents(invoices) -> None:
    """Promise, in the caller's transaction, the PDFs of these just-issued invoices."""
    ids = [invoice.pk for invoice in invoices]
    if ids:
        label = f"PDF de la facture {invoices[0].number}"
        if len(ids) > 1:
            label = f"PDF des factures {invoices[0].number} à {invoices[-1].number}"
        outbox.enqueue(STORE_INVOICE_DOCUMENTS, ids, label=label)


def invoice_stored_document(invoice: Invoice) -> StoredDocument:
    """The kept PDF of `invoice` (read with its régie, and best with the invoice it replaces
    and its mandate), made now (and kept) if it was not yet: under the invoice's row lock, so
    that concurrent callers store one file."""
    if invoice.document_id is not None:
        return invoice.document
    with transaction.atomic():
        # The lock reads the one field that may have changed since `invoice` was read: the PDF
        # a download this one waited for has stored. What the PDF shows is as issued, unchanged.
        document_id = (
            Invoice.objects.select_for_update()
            .filter(pk=invoice.pk)
            .values_list("document_id", flat=True)
            .get()
        )
        # Not joined to the lock's query: a row stored by the download this one waited for is
        # newer than the query's snapshot, and would read as missing.
        if document_id is not None:
            invoice.document = StoredDocument.objects.get(pk=document_id)
        else:
            content = pdfs.invoice_pdf(issued_invoice(invoice))
            invoice.document = stored.store(
                content, prefix="factures", filename=invoice_filename(invoice)
            )
            # Not a change of the invoice itself: no history entry.
            Invoice.objects.filter(pk=invoice.pk).update(document=invoice.document)
    return invoice.document


@shared_task(name=STORE_INVOICE_DOCUMENTS)
def store_invoice_documents(invoice_ids: list[int]) -> int:
    """Render and keep the PDFs of these invoices (those not made yet); returns how many."""
    made = 0
    todo = Invoice.objects.filter(pk__in=invoice_ids, document__isnull=True).order_by("pk")
    for invoice in todo.select_related("regie", "replaces", "mandate"):
        invoice_stored_document(invoice)
        made += 1
    return made


# Credit notes -----------------------------------------------------------------------------


def credit_note_filename(note: CreditNote) -> str:
    return f"avoir-{note.number}.pdf"


def enqueue_credit_note_document(note: CreditNote) -> None:
    outbox.enqueue(STORE_CREDIT_NOTE_TASK, note.pk, label=f"PDF de l'avoir {note.number}")


def credit_note_stored_document(note: CreditNote) -> StoredDocument:
    """The kept PDF of the credit note, made now if it was not yet (under its row lock)."""
    if note.document_id is not None:
        return note.document
    with transaction.atomic():
        locked = (
            CreditNote.objects.select_for_update(of=("self",))
            .select_related("invoice__regie")
            .get(pk=note.pk)
        )
        if locked.document_id is not None:
            locked.document = StoredDocument.objects.get(pk=locked.document_id)
        else:
            content = pdfs.credit_note_pdf(locked)
            locked.document = stored.store(
                content, prefix="avoirs", filename=credit_note_filename(locked)
            )
            CreditNote.objects.filter(pk=locked.pk).update(document=locked.document)
    note.document = locked.document
    return locked.document


@shared_task(name=STORE_CREDIT_NOTE_TASK)
def store_credit_note_document(note_id: int) -> bool:
    note = CreditNote.objects.filter(pk=note_id).first()
    if note is None or note.document_id is not None:
        return False
    credit_note_stored_document(note)
    return True


# Tax certificates ----------------------------------------------------------------------------


def certificate_is_closed(year: int, *, today: datetime.date) -> bool:
    """The certificate of `year` is kept once the year is over; this year's is rendered on
    demand (payments are still coming)."""
    return year < today.year


def certificate_fingerprint(certificate: selectors.Certificate) -> str:
    """The SHA-256 of what the certificate says, whatever day it is made."""
    fixed = copy.copy(certificate)
    fixed.issued_on = _FINGERPRINT_DATE
    return hashlib.sha256(pdfs.tax_certificate_html(fixed).encode()).hexdigest()


def certificate_filename(certificate: selectors.Certificate) -> str:
    return f"attestation-fiscale-{certificate.regie.slug}-{certificate.year}.pdf"


def certificate_stored_document(certificate: selectors.Certificate) -> StoredDocument:
    """The kept certificate with this content (made now, dated `certificate.issued_on`, if
    there is none yet). Two first downloads at once store one: the unique fingerprint decides,
    the loser's file is removed."""
    fingerprint = certificate_fingerprint(certificate)
    key = {
        "family": certificate.family,
        "regie": certificate.regie,
        "year": certificate.year,
        "fingerprint": fingerprint,
    }
    kept = TaxCertificateDocument.objects.filter(**key).select_related("document").first()
    if kept is not None:
        return kept.document
    content = pdfs.tax_certificate_pdf(certificate)
    document = stored.store(
        content, prefix="attestations", filename=certificate_filename(certificate)
    )
    try:
        with transaction.atomic():
            TaxCertificateDocument.objects.create(
                **key, issued_on=certificate.issued_on, document=document
            )
    except IntegrityError:
        stored.discard(document)
        return TaxCertificateDocument.objects.select_related("document").get(**key).document
    return document


# Serving -----------------------------------------------------------------------------------


def response(request, document: StoredDocument, *, what: str):
    """The HTTP response sending a kept document; DocumentUnavailable (logged for the office)
    if its file is missing or no longer the one issued."""
    try:
        return stored.response(request, document)
    except stored.DocumentIntegrityError as exc:
        stored.report_integrity_error(document, exc, what=what)
        raise DocumentUnavailable(what) from exc
