"""Thin Celery tasks of billing's core: the nightly invoicing and the invoicing of one month
from the admin. The notice of each new invoice is `billing.notices`; card payment and recovery
have their own tasks."""

import datetime

from celery import shared_task
from django.utils import timezone

from .documents import store_credit_note_document, store_invoice_documents
from .invoicing import invoice_due_months, invoicing_run
from .models import Regie

# The PDFs of issued invoices and credit notes: defined in billing.documents, listed here for
# the worker (the outbox runs them by name).
__all__ = ["store_credit_note_document", "store_invoice_documents"]


@shared_task
def generate_due_invoices() -> int:
    """Nightly: issue last month's invoices of each régie whose issue day has come."""
    runs = invoice_due_months(today=timezone.localdate())
    return sum(run.invoices_issued for run in runs)


@shared_task
def generate_month_invoices(regie_id: int, month: str, trigger: str = "") -> int:
    """Issue one régie's invoices of `month` (YYYY-MM-DD, its first day), from the admin."""
    regie = Regie.objects.get(pk=regie_id)
    run = invoicing_run(
        regie=regie,
        month=datetime.date.fromisoformat(month),
        today=timezone.localdate(),
        trigger=trigger,
    )
    return run.invoices_issued
