"""Races on SEPA exports, with real transactions and threads (PostgreSQL): an invoice is never
in two batches, a date never gets two batches, numbers stay gapless."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from billing.directdebit import sepa
from billing.directdebit.models import SepaBatch
from billing.models import Invoice, Payment
from tests.concurrency import at_once

from .conftest import make_family
from .directdebit_helpers import make_mandate, october_invoice, with_creditor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TODAY = datetime.date(2026, 11, 26)


@pytest.fixture
def programmed(regies, slots):
    """Six families under direct debit, their October invoices debited on 24/11."""
    regie = with_creditor(regies["periscolaire"])
    invoices = []
    for index in range(6):
        family = make_family(f"F{index:02d}")
        make_mandate(family, regie)
        invoices.append(october_invoice(family, regie, slots))
    return regie, invoices


def test_two_exports_of_the_same_date_at_once_make_one_batch(programmed):
    """Four exports of 01/12 at once: one batch, every caller gets it, one payment per
    invoice."""
    regie, invoices = programmed

    def job():
        return sepa.create_batch(
            regie=regie, collection_date=datetime.date(2026, 12, 1), by=None, today=TODAY
        )

    results = at_once(job, job, job, job)

    assert all(isinstance(result, SepaBatch) for result in results), results
    assert len({result.pk for result in results}) == 1
    assert sum(result.was_created for result in results) == 1
    assert len({sepa.batch_bytes(result) for result in results}) == 1
    batch = SepaBatch.objects.get()
    assert (batch.number, batch.invoice_count, batch.total_cents) == (
        "PRLV-PERI-2026-0001",
        6,
        3600,
    )
    assert Payment.objects.count() == 6
    assert Payment.objects.values("invoice").distinct().count() == 6
    assert set(Invoice.objects.values_list("status", flat=True)) == {Invoice.Status.PAID}


def test_exports_of_two_dates_at_once_never_share_an_invoice(programmed):
    """Exports of 01/12 and 02/12 at once both want the invoices debited on 24/11: one batch
    takes them all, the other finds nothing to collect; numbers stay gapless."""
    regie, invoices = programmed

    def job(day):
        return lambda: sepa.create_batch(regie=regie, collection_date=day, by=None, today=TODAY)

    results = at_once(job(datetime.date(2026, 12, 1)), job(datetime.date(2026, 12, 2)))

    batches = [result for result in results if isinstance(result, SepaBatch)]
    refusals = [result for result in results if isinstance(result, ValidationError)]
    assert (len(batches), len(refusals)) == (1, 1), results
    assert "Aucune facture à prélever" in refusals[0].messages[0]
    assert batches[0].number == "PRLV-PERI-2026-0001"
    assert Invoice.objects.filter(sepa_batch=batches[0]).count() == 6
    assert Payment.objects.count() == 6
