"""Résidence alternée in billing: each household is invoiced for the days it booked, at its own
quotient familial, and its balance counts only its own bookings."""

import datetime

import pytest
from django.utils import timezone

from billing.invoicing import invoicing_run
from billing.models import Invoice
from billing.selectors import family_balance
from families.households import household_link
from reservations.models import Booking

from .conftest import ISSUE_DAY, OCTOBER, make_family, school_days

pytestmark = pytest.mark.django_db


def book_for(household, child, slot, day):
    return Booking.objects.create(
        child=child, family=household, slot=slot, date=day, school_id=child.school_id
    )


@pytest.fixture
def households(regies, slots):
    """LAGRANGE (QF 1300) keeps Léa's record; MARTIN (QF 450), with no child of its own, is
    her second household."""
    first = make_family("LAGRANGE", qf=1300)
    second = make_family("MARTIN", qf=450, children=0)
    lea = first.children.get()
    household_link(child=lea, family=second, by=None, now=timezone.now())
    return first, second, lea


def test_each_household_is_invoiced_for_its_own_days_at_its_own_qf(
    households, regies, slots, today
):
    """October: LAGRANGE books 5 mornings (QF 1300: 2,50 €), MARTIN 4 mornings and 2 evenings
    (QF 450: 1,10 € and 1,20 €); each invoice holds its own days only, in exact cents."""
    first, second, lea = households
    days = school_days(OCTOBER)
    for day in days[:5]:
        book_for(first, lea, slots["matin"], day)
    for day in days[5:9]:
        book_for(second, lea, slots["matin"], day)
    for day in days[9:11]:
        book_for(second, lea, slots["soir-1"], day)

    invoicing_run(regie=regies["periscolaire"], month=OCTOBER, today=ISSUE_DAY)

    invoices = {
        invoice.family_id: invoice
        for invoice in Invoice.objects.live().filter(period_start=OCTOBER)
    }
    assert set(invoices) == {first.pk, second.pk}
    lines = {
        family_id: sorted(
            (line.label, line.quantity, line.unit_price_cents, line.amount_cents)
            for line in invoice.lines.all()
        )
        for family_id, invoice in invoices.items()
    }
    assert lines[first.pk] == [("Léa — Matin 07h20-08h20", 5, 250, 1250)]
    assert lines[second.pk] == [
        ("Léa — Matin 07h20-08h20", 4, 110, 440),
        ("Léa — soir 1 : 16h30 à 17h30", 2, 120, 240),
    ]
    assert invoices[first.pk].total_cents == 1250
    assert invoices[second.pk].total_cents == 680
    assert "MARTIN" in invoices[second.pk].family_label
    assert "LAGRANGE" in invoices[first.pk].family_label


def test_a_cancellation_after_invoicing_is_given_back_to_the_household_that_paid(
    households, regies, slots, today
):
    """MARTIN's October day cancelled after its invoice (by the office): the credit goes on
    MARTIN's next invoice, never on LAGRANGE's."""
    first, second, lea = households
    days = school_days(OCTOBER)
    book_for(second, lea, slots["matin"], days[0])
    cancelled = book_for(second, lea, slots["matin"], days[1])
    book_for(first, lea, slots["matin"], days[2])
    invoicing_run(regie=regies["periscolaire"], month=OCTOBER, today=ISSUE_DAY)
    Booking.objects.filter(pk=cancelled.pk).update(status=Booking.Status.CANCELLED)
    november = datetime.date(2026, 11, 1)
    book_for(second, lea, slots["matin"], datetime.date(2026, 11, 2))
    book_for(second, lea, slots["matin"], datetime.date(2026, 11, 3))
    book_for(first, lea, slots["matin"], datetime.date(2026, 11, 5))

    invoicing_run(regie=regies["periscolaire"], month=november, today=datetime.date(2026, 12, 10))

    second_lines = Invoice.objects.live().get(family=second, period_start=november).lines
    first_lines = Invoice.objects.live().get(family=first, period_start=november).lines
    assert sorted(second_lines.values_list("amount_cents", flat=True)) == [-110, 220]
    assert list(first_lines.values_list("amount_cents", flat=True)) == [250]


def test_each_households_real_balance_counts_only_its_own_bookings(
    households, regies, slots, today
):
    """« Solde réel » of each household adds the value of its own bookings not invoiced yet."""
    first, second, lea = households
    book_for(first, lea, slots["matin"], datetime.date(2026, 11, 30))
    book_for(second, lea, slots["matin"], datetime.date(2026, 11, 27))
    book_for(second, lea, slots["soir-1"], datetime.date(2026, 11, 27))

    regie = regies["periscolaire"]
    assert family_balance(first, regie, on=today).pending_cents == 250
    assert family_balance(second, regie, on=today).pending_cents == 110 + 120
