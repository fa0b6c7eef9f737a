"""The family's notice of a new invoice: a message in Échanges (the invoice's thread) and the
e-mail that goes with it, sent once the invoice is committed. Invoicing enqueues one task per
batch of invoices (`notify_invoices_issued`), the reissue of a cancelled invoice a batch of one.
"""

from celery import shared_task
from django.contrib.contenttypes.models import ContentType
from django.template.loader import render_to_string

from common.emails import absolute_url
from exchanges.models import Thread
from exchanges.services import Notice, notices_send

from .models import Invoice


@shared_task
def notify_invoices_issued(invoice_ids: list[int]) -> int:
    """Tell each family that its invoice of `invoice_ids` is available: a message in Échanges
    (its thread is the invoice's) and the e-mail that goes with it, all e-mails of the batch
    over one connection. Once only per invoice, even if the task runs again; never for a
    cancelled invoice. The same few queries whatever the batch's size. Returns how many
    families were told."""
    invoices = list(
        Invoice.objects.filter(pk__in=invoice_ids)
        .exclude(status=Invoice.Status.CANCELLED)
        .exclude(
            pk__in=Thread.objects.filter(
                related_type=ContentType.objects.get_for_model(Invoice),
                related_id__in=invoice_ids,
            ).values("related_id")
        )
        .select_related("family", "regie", "mandate")
        .order_by("pk")
    )
    messages = notices_send(
        [
            Notice(
                family=invoice.family,
                subject=f"Votre facture {invoice.number} est disponible",
                body=render_to_string(
                    "billing/messages/invoice_issued.txt",
                    {"invoice": invoice, "url": absolute_url(invoice.get_absolute_url())},
                ).strip(),
                related=invoice,
            )
            for invoice in invoices
        ],
        label=f"E-mails des avis {invoices_label(invoices)}" if invoices else "",
    )
    return len(messages)


@shared_task
def notify_invoice_issued(invoice_id: int) -> bool:
    """The notice of one invoice (a batch of one)."""
    return notify_invoices_issued([invoice_id]) == 1


def invoices_label(invoices) -> str:
    """How the outbox names the invoices of a batch: « de la facture PERI2026000001 », « de 200
    factures (PERI2026000001 à PERI2026000200) »."""
    if len(invoices) == 1:
        return f"de la facture {invoices[0].number}"
    return f"de {len(invoices)} factures ({invoices[0].number} à {invoices[-1].number})"
