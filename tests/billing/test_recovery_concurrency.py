"""Night jobs run twice at once (a second beat, cron beside Celery), with real transactions and
threads on PostgreSQL: each invoice is switched, reminded and notified once."""

import datetime

import pytest
from django.core import mail

from billing.models import Invoice
from billing.recovery.services import send_payment_reminders, switch_to_recovery
from exchanges.models import Message
from tests.concurrency import at_once
from tests.conftest import TODAY

from .conftest import make_family
from .test_recovery import make_invoice

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def overdue_invoices(regies, count, *, due_date):
    invoices = []
    for index in range(count):
        family = make_family(f"F{index:02d}")
        invoices.append(make_invoice(family, number=f"PERI2026{index:06d}", due_date=due_date))
    return invoices


def test_two_switches_at_once_switch_and_notify_each_invoice_once(regies, slots, today):
    """Two runs at once over 40 overdue invoices, in small batches: each invoice is switched
    by one of them, with one history row, one message and one e-mail."""
    invoices = overdue_invoices(regies, 40, due_date=datetime.date(2026, 11, 9))

    def job():
        return switch_to_recovery(today=TODAY, batch_size=7)

    first, second = at_once(job, job)

    assert not isinstance(first, Exception) and not isinstance(second, Exception), (first, second)
    assert sorted(first.invoice_ids + second.invoice_ids) == [i.pk for i in invoices]
    assert Invoice.objects.in_recovery().count() == 40
    for invoice in invoices:
        assert invoice.history.filter(status="recouvrement").count() == 1
        assert Message.objects.filter(thread__related_id=invoice.pk).count() == 1
    assert len(mail.outbox) == 40
    assert sorted(email.to[0] for email in mail.outbox) == sorted(
        invoice.family.guardians.get().user.email for invoice in invoices
    )

    assert switch_to_recovery(today=TODAY).count == 0
    assert len(mail.outbox) == 40


def test_two_reminder_runs_at_once_send_each_reminder_once(regies, slots, today):
    """Two reminder runs at once over 30 invoices due in three days: 30 e-mails."""
    invoices = overdue_invoices(regies, 30, due_date=datetime.date(2026, 11, 29))

    def job():
        return send_payment_reminders(today=TODAY, batch_size=4)

    first, second = at_once(job, job)

    assert sorted(first + second) == [invoice.pk for invoice in invoices]
    assert len(mail.outbox) == 30
    assert len({email.to[0] for email in mail.outbox}) == 30
