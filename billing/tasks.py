"""Thin Celery tasks of billing: the nightly invoicing and the notice of each new invoice."""

from celery import shared_task
from django.contrib.contenttypes.models import ContentType
from django.template.loader import render_to_string
from django.utils import timezone

from common.emails import absolute_url
from exchanges.models import Thread
from exchanges.services import notify_family

from .invoicing import invoice_due_months
from .models import Invoice


@shared_task
def generate_due_invoices() -> int:
    """Nightly: issue last month's invoices of each régie whose issue day has come."""
    runs = invoice_due_months(today=timezone.localdate())
    return sum(run.invoices_issued for run in runs)


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


@shared_task
def generate_month_invoices(regie_id: int, month: str, trigger: str = "") -> int:
    """Issue one régie's invoices of `month` (YYYY-MM-DD, its first day), from the admin."""
    import datetime

    from .invoicing import invoicing_run
    from .models import Regie

    regie = Regie.objects.get(pk=regie_id)
    run = invoicing_run(
        regie=regie,
        month=datetime.date.fromisoformat(month),
        today=timezone.localdate(),
        trigger=trigger,
    )
    return run.invoices_issued


@shared_task
def switch_overdue_to_recovery() -> int:
    """Nightly: invoices still impayée after their due date go to "mise en recouvrement"."""
    from .recovery import switch_to_recovery

    return switch_to_recovery(today=timezone.localdate()).count


@shared_task
def send_due_payment_reminders() -> int:
    """Nightly: one reminder e-mail for each impayée invoice whose due date is near."""
    from .recovery import send_payment_reminders

    return len(send_payment_reminders(today=timezone.localdate()))


@shared_task
def send_payment_reminder(invoice_id: int) -> int:
    """E-mail the reminder of one invoice (claimed by send_payment_reminders)."""
    from .recovery import reminder_email_send

    invoice = Invoice.objects.select_related("family", "regie").filter(pk=invoice_id).first()
    return reminder_email_send(invoice) if invoice is not None else 0


@shared_task
def reconcile_payments() -> int:
    """Nightly, before the switch to recovery: card payments whose webhook never came are
    settled from Stripe's own record (a paid one recorded once). Returns how many were paid."""
    from .card import reconcile_sessions

    return reconcile_sessions(now=timezone.now()).paid
