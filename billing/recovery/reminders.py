"""The payment reminders of invoices: the e-mails, and the thin task that sends one batch of them
once the night job's claim is committed (the task checks each invoice again: paid meanwhile,
nothing leaves for it). A batch is rendered from a few queries and sent over one connection to
the mail server, each e-mail once (common.emails.send_batch)."""

from celery import shared_task
from django.urls import reverse

from billing.card.sessions import card_payment_enabled
from billing.models import Invoice
from common.emails import absolute_url, render_templated_email, send_batch
from families.selectors import guardian_emails


@shared_task
def send_payment_reminders_batch(invoice_ids: list[int]) -> int:
    """E-mail the reminders of the invoices `invoice_ids` (claimed by send_payment_reminders);
    returns how many e-mails left."""
    invoices = list(
        Invoice.objects.filter(pk__in=invoice_ids)
        .select_related("regie")
        .with_paid()
        .order_by("pk")
    )
    recipients = guardian_emails({invoice.family_id for invoice in invoices})
    card_payment = card_payment_enabled()
    return send_batch(
        [
            (
                reminder_key(invoice),
                reminder_email(invoice, recipients[invoice.family_id], card_payment=card_payment),
            )
            for invoice in invoices
        ]
    )


@shared_task
def send_payment_reminder(invoice_id: int) -> int:
    """E-mail the reminder of one invoice (a batch of one)."""
    return send_payment_reminders_batch([invoice_id])


def reminder_key(invoice: Invoice) -> str:
    """The key under which an invoice's reminder is recorded as sent: one per claim (a reminder
    claimed again, after the régisseur cleared reminder_sent_at, is another e-mail)."""
    claimed = invoice.reminder_sent_at.isoformat() if invoice.reminder_sent_at else ""
    return f"billing.reminder:{invoice.pk}:{claimed}"


def reminder_email(invoice: Invoice, recipients: list[str], *, card_payment: bool):
    """The reminder to the guardians of the invoice's family: the amount left to pay, the due
    date, the links to the invoice (to pay it by card) and the recovery warning. None if the
    invoice is no longer payable online (paid meanwhile, cancelled) or has no one to write to."""
    if not invoice.is_payable_online:
        return None
    due = invoice.due_cents()
    if due <= 0:
        return None
    context = {
        "invoice": invoice,
        "regie": invoice.regie,
        "due_cents": due,
        "invoice_url": absolute_url(invoice.get_absolute_url()),
        "list_url": absolute_url(reverse("billing:invoice_list", args=[invoice.regie.slug])),
        "card_payment": card_payment,
    }
    return render_templated_email("payment_reminder", context, recipients)
