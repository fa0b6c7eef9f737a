"""Workflows on issued invoices: recording a payment (and allocating it to the lines it pays),
cancelling an invoice with a credit note, reissuing a cancelled invoice. Keyword-only, atomic,
raising ValidationError with a French message."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone

from common import outbox
from common.emails import absolute_url
from common.money import format_cents
from exchanges.services import notify_family

from .card.sessions import expire_open_sessions
from .documents import enqueue_credit_note_document, enqueue_invoice_documents
from .invoicing import Biller, format_number, issue_drafts, lock_sequence
from .models import CreditNote, Invoice, NumberSequence, Payment, PaymentAllocation
from .notices import notify_invoice_issued


def _locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().select_related("regie", "family").get(pk=invoice.pk)


def allocate(payment: Payment, invoice: Invoice) -> list[PaymentAllocation]:
    """Split `payment` over the lines of `invoice` it pays, in cents and in order: the credits
    (negative regularisations) are taken first, then the lines in their order on the invoice,
    each up to what is left to pay on it. The parts add up to the payment."""
    lines = list(
        invoice.lines.annotate(allocated=Coalesce(Sum("allocations__amount_cents"), 0)).order_by(
            "position"
        )
    )
    return PaymentAllocation.objects.bulk_create(allocation_parts(payment, lines))


def allocation_parts(payment: Payment, lines) -> list[PaymentAllocation]:
    """The allocations of `payment` (not saved) over `lines` (in their order, each annotated
    with `allocated`, what earlier payments gave it): see `allocate`."""
    remaining = payment.amount_cents
    parts = []
    for line in lines:
        if line.amount_cents < 0 and line.allocated > line.amount_cents:
            part = line.amount_cents - line.allocated
            parts.append(PaymentAllocation(payment=payment, line=line, amount_cents=part))
            remaining -= part
    for line in lines:
        open_cents = line.amount_cents - line.allocated
        if remaining <= 0:
            break
        if open_cents <= 0:
            continue
        part = min(open_cents, remaining)
        parts.append(PaymentAllocation(payment=payment, line=line, amount_cents=part))
        remaining -= part
    if remaining:
        raise ValidationError("Le paiement dépasse le montant des lignes de la facture.")
    return parts


@transaction.atomic
def payment_record(
    *,
    invoice: Invoice,
    amount_cents: int,
    paid_on: datetime.date,
    means: str,
    reference: str = "",
    by=None,
) -> Payment:
    """Record money received for `invoice` (at most what is left to pay), allocate it to the
    lines, and mark the invoice paid when nothing is left."""
    invoice = _locked(invoice)
    if not invoice.is_open:
        raise ValidationError(
            f"La facture {invoice.number} est « {invoice.get_status_display().lower()} » : elle "
            "n'attend plus de paiement."
        )
    if amount_cents <= 0:
        raise ValidationError("Le montant doit être positif.")
    if means not in Payment.Means.values:
        raise ValidationError("Choisissez un moyen de paiement.")
    due = invoice.due_cents()
    if amount_cents > due:
        raise ValidationError(
            f"Le montant ({format_cents(amount_cents)}) dépasse le reste à payer de la facture "
            f"{invoice.number} ({format_cents(due)})."
        )
    payment = Payment.objects.create(
        invoice=invoice,
        amount_cents=amount_cents,
        paid_on=paid_on,
        means=means,
        reference=reference.strip()[:100],
        recorded_by=by,
    )
    allocate(payment, invoice)
    if means != Payment.Means.CARD:
        # What is left to pay changed: a card payment page opened earlier must not take the old
        # amount (or money no longer due).
        transaction.on_commit(lambda: expire_open_sessions([invoice.pk]))
    if amount_cents == due:
        invoice.set_status(Invoice.Status.PAID, now=timezone.now())
        invoice._change_reason = (
            f"Paiement de {format_cents(amount_cents)} ({payment.get_means_display()})"
        )
        invoice.save(update_fields=["status", "paid_at"])
    return payment


@transaction.atomic
def invoice_cancel(*, invoice: Invoice, reason: str, by, today: datetime.date) -> CreditNote:
    """Cancel an unpaid invoice with a credit note (its own gapless numbering) and tell the
    family. What it billed becomes billable again (reissue, or the next invoice)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Indiquez le motif de l'annulation.")
    invoice = _locked(invoice)
    if invoice.payments.exists():
        raise ValidationError(
            f"La facture {invoice.number} a déjà reçu un paiement : elle ne peut pas être annulée."
        )
    invoice.set_status(Invoice.Status.CANCELLED)
    sequence = lock_sequence(invoice.regie, NumberSequence.Kind.CREDIT_NOTE, today.year)
    sequence.last_number += 1
    note = CreditNote.objects.create(
        invoice=invoice,
        number=format_number(invoice.regie, sequence.kind, sequence.year, sequence.last_number),
        issue_date=today,
        amount_cents=invoice.total_cents,
        reason=reason,
        created_by=by,
    )
    sequence.save(update_fields=["last_number"])
    invoice._change_reason = f"Annulation par l'avoir {note.number} : {reason}"[:100]
    invoice.save(update_fields=["status"])
    transaction.on_commit(lambda: expire_open_sessions([invoice.pk]))
    # The credit note is a document of its own; the invoice's PDF stays as it was issued.
    enqueue_credit_note_document(note)
    notify_family(
        family=invoice.family,
        subject=f"Votre facture {invoice.number} est annulée",
        body=render_to_string(
            "billing/messages/invoice_cancelled.txt",
            {"invoice": invoice, "note": note, "url": absolute_url(invoice.get_absolute_url())},
        ).strip(),
        related=invoice,
    )
    return note


@transaction.atomic
def invoice_reissue(*, invoice: Invoice, by, today: datetime.date) -> Invoice:
    """Issue again, with a new number and today's date, the month of a cancelled invoice: what
    that month bills now (and any regularisation due)."""
    invoice = _locked(invoice)
    if not invoice.is_cancelled:
        raise ValidationError(
            f"La facture {invoice.number} n'est pas annulée : annulez-la d'abord."
        )
    replaced = Invoice.objects.filter(replaces=invoice).first()
    if replaced:
        raise ValidationError(
            f"La facture {invoice.number} a déjà été réémise ({replaced.number})."
        )
    sequence = lock_sequence(invoice.regie, NumberSequence.Kind.INVOICE, today.year)
    existing = (
        Invoice.objects.live()
        .filter(family=invoice.family, regie=invoice.regie, period_start=invoice.period_start)
        .first()
    )
    if existing:
        raise ValidationError(f"Ce mois est déjà facturé à ce foyer ({existing.number}).")
    draft = (
        Biller(invoice.regie)
        .drafts([invoice.family_id], invoice.period_start)
        .get(invoice.family_id)
    )
    if draft is None or draft.total_cents <= 0:
        raise ValidationError(
            "Rien à facturer pour ce mois : les réservations ont été annulées ou sont déjà "
            "facturées sur une autre facture."
        )
    (new,) = issue_drafts(
        [draft],
        regie=invoice.regie,
        month=invoice.period_start,
        issue_date=today,
        sequence=sequence,
        replaces=invoice,
    )
    outbox.enqueue(notify_invoice_issued.name, new.pk, label=f"Avis de la facture {new.number}")
    # Its own PDF; the cancelled invoice's stays as it was issued.
    enqueue_invoice_documents([new])
    return new
