"""The family's notice of a new invoice: a message in Échanges (the invoice's thread) and the
e-mail that goes with it, sent by a thin task once the invoice is committed. Invoicing and the
reissue of a cancelled invoice enqueue it."""

from celery import shared_task
from django.contrib.contenttypes.models import ContentType
from django.template.loader import render_to_string

from common.emails import absolute_url
from exchanges.models import Thread
from exchanges.services import notify_family

from .models import Invoice


@shared_task
def notify_invoice_issued(invoice_id: int) -> bool:
    """Tell the family that an invoice is available: a message in Échanges (its thread is the
    invoice's) and the e-mail that goes with it. Once only, even if the task runs again."""
    invoice = Invoice.objects.select_related("family", "regie").filter(pk=invoice_id).first()
    if invoice is None or invoice.is_cancelled:
        return False
    already = Thread.objects.filter(
        related_type=ContentType.objects.get_for_model(Invoice), related_id=invoice.pk
    ).exists()
    if already:
        return False
    notify_family(
        family=invoice.family,
        subject=f"Votre facture {invoice.number} est disponible",
        body=render_to_string(
            "billing/messages/invoice_issued.txt",
            {"invoice": invoice, "url": absolute_url(invoice.get_absolute_url())},
        ).strip(),
        related=invoice,
    )
    return True
