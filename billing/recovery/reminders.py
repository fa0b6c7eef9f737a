"""The payment reminder of one invoice: the e-mail, and the thin task that sends it once the
night job's claim is committed (the task checks the invoice again: paid meanwhile, nothing
leaves)."""

from celery import shared_task
from django.urls import reverse

from billing.card.sessions import card_payment_enabled
from billing.models import Invoice
from common.emails import absolute_url, send_templated_email


@shared_task
def send_payment_reminder(invoice_id: int) -> int:
    """E-mail the reminder of one invoice (claimed by send_payment_reminders)."""
    invoice = Invoice.objects.select_related("family", "regie").filter(pk=invoice_id).first()
    return reminder_email_send(invoice) if invoice is not None else 0


def reminder_email_send(invoice: Invoice) -> int:
    """E-mail the guardians of the invoice's family the reminder: the amount left to pay, the
    due date, the links to the invoice (to pay it by card) and the recovery warning. Nothing if
    the invoice is no longer payable online (paid meanwhile, cancelled)."""
    if not invoice.is_payable_online:
        return 0
    due = invoice.due_cents()
    if due <= 0:
        return 0
    recipients = list(invoice.family.guardians.values_list("user__email", flat=True))
    context = {
        "invoice": invoice,
        "regie": invoice.regie,
        "due_cents": due,
        "invoice_url": absolute_url(invoice.get_absolute_url()),
        "list_url": absolute_url(reverse("billing:invoice_list", args=[invoice.regie.slug])),
        "card_payment": card_payment_enabled(),
    }
    return send_templated_email("payment_reminder", context, recipients)
