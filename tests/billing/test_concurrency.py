"""Races on invoicing and payments, with real transactions and threads (PostgreSQL)."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from billing import invoicing
from billing.invoicing import invoicing_run, issue_invoices
from billing.models import BookingCharge, Invoice, InvoicingRun, NumberSequence, Payment
from billing.services import payment_record
from reservations.models import Booking
from tests.concurrency import at_once, meeting_after

from .conftest import ISSUE_DAY, OCTOBER, book, make_family, school_days

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_runs_at_once_issue_each_invoice_once_without_gaps(regies, slots, today):
    """Two runs of the same month at once: one invoice per family, numbers 1..N, no gap."""
    families = [make_family(f"F{index:02d}") for index in range(30)]
    for family in families:
        for day in school_days(OCTOBER, count=4):
            book(family.children.get(), slots["matin"], day)
    regie = regies["periscolaire"]

    def job():
        return invoicing_run(
            regie=regie, month=OCTOBER, today=ISSUE_DAY, batch_size=7, notify=False
        )

    results = at_once(job, job)

    assert all(isinstance(result, InvoicingRun) for result in results), results
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"PERI2026{rank:06d}" for rank in range(1, 31)]
    assert Invoice.objects.values("family").distinct().count() == 30
    assert sum(run.invoices_issued for run in InvoicingRun.objects.all()) == 30
    assert NumberSequence.objects.get(regie=regie, kind="invoice", year=2026).last_number == 30
    assert BookingCharge.objects.count() == Booking.objects.count() == 120
    assert BookingCharge.objects.values("booking").distinct().count() == 120

    again = invoicing_run(regie=regie, month=OCTOBER, today=ISSUE_DAY, notify=False)
    assert again.invoices_issued == 0
    assert sorted(Invoice.objects.values_list("number", flat=True)) == numbers


def test_issues_racing_on_a_year_already_numbered_stay_gapless(regies, slots, today):
    """The year's counter already exists (one invoice issued): five issues for other families
    at once, each having read the counter before any numbers, give numbers 2..16, no gap."""
    regie = regies["periscolaire"]
    families = [make_family(f"F{index:02d}") for index in range(16)]
    for family in families:
        book(family.children.get(), slots["matin"], datetime.date(2026, 10, 5))

    def issue(group):
        return issue_invoices(
            regie=regie, month=OCTOBER, today=ISSUE_DAY, family_ids=group, notify=False
        )

    first = issue([families[0].pk])
    assert [invoice.number for invoice in first] == ["PERI2026000001"]
    groups = [[family.pk for family in families[n : n + 3]] for n in range(1, 16, 3)]

    with meeting_after(invoicing, "lock_sequence", parties=len(groups)):
        results = at_once(*(lambda g=g: issue(g) for g in groups))

    assert all(isinstance(result, list) for result in results), results
    assert [len(result) for result in results] == [3] * 5
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"PERI2026{rank:06d}" for rank in range(1, 17)]
    assert sorted(Invoice.objects.values_list("family", flat=True)) == sorted(
        family.pk for family in families
    )
    assert NumberSequence.objects.get(regie=regie, kind="invoice", year=2026).last_number == 16


def test_two_payments_of_the_whole_amount_at_once_take_it_once(regies, slots, today):
    """Two counter payments of the whole amount at once: one is recorded, the other refused."""
    family = make_family()
    book(family.children.get(), slots["matin"], datetime.date(2026, 10, 5))
    invoicing_run(regie=regies["periscolaire"], month=OCTOBER, today=ISSUE_DAY, notify=False)
    invoice = Invoice.objects.get()

    def pay():
        return payment_record(
            invoice=invoice,
            amount_cents=200,
            paid_on=datetime.date(2026, 11, 20),
            means=Payment.Means.CASH,
        )

    results = at_once(pay, pay)

    assert sorted(type(result).__name__ for result in results) == ["Payment", "ValidationError"]
    assert isinstance([r for r in results if not isinstance(r, Payment)][0], ValidationError)
    assert Payment.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
