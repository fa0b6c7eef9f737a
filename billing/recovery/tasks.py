"""The night jobs of recovery: the switch of overdue invoices, then the reminders (each e-mail is
a task of its own, `billing.recovery.reminders.send_payment_reminder`)."""

from celery import shared_task
from django.utils import timezone

from .services import send_payment_reminders, switch_to_recovery


@shared_task
def switch_overdue_to_recovery() -> int:
    """Nightly: invoices still impayée after their due date go to "mise en recouvrement"."""
    return switch_to_recovery(today=timezone.localdate()).count


@shared_task
def send_due_payment_reminders() -> int:
    """Nightly: one reminder e-mail for each impayée invoice whose due date is near."""
    return len(send_payment_reminders(today=timezone.localdate()))
