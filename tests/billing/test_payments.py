"""Payments: rows, allocated to the lines they pay in order; the state of the invoice follows."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from billing.models import Invoice, InvoiceLine, Payment
from billing.services import invoice_cancel, payment_record
from reservations.models import Booking

from .conftest import NOVEMBER, OCTOBER, book, issue, make_family

pytestmark = pytest.mark.django_db
PAID_ON = datetime.date(2026, 11, 15)


@pytest.fixture
def invoice(regies, slots, today):
    """October: Léa 3 mornings (6,00 €), Lalo 2 evenings (4,20 €) — 10,20 €."""
    family = make_family(children=2)
    lalo, lea = family.children.order_by("first_name")
    for day in (5, 6, 8):
        book(lea, slots["matin"], datetime.date(2026, 10, day))
    for day in (5, 6):
        book(lalo, slots["soir-1"], datetime.date(2026, 10, day))
    issue(regies)
    return Invoice.objects.get(family=family)


def pay(invoice, cents, **kwargs):
    return payment_record(
        invoice=invoice,
        amount_cents=cents,
        paid_on=kwargs.pop("paid_on", PAID_ON),
        means=kwargs.pop("means", Payment.Means.CHEQUE),
        **kwargs,
    )


def test_partial_payments_are_allocated_in_line_order(invoice):
    """A payment fills the lines in their order; the next one goes on where it stopped."""
    first, second = invoice.lines.order_by("position")  # Lalo 4,20 €, then Léa 6,00 €
    assert (first.amount_cents, second.amount_cents) == (420, 600)

    pay(invoice, 500)
    assert list(first.allocations.values_list("amount_cents", flat=True)) == [420]
    assert list(second.allocations.values_list("amount_cents", flat=True)) == [80]
    pay(invoice, 300)

    assert sorted(second.allocations.values_list("amount_cents", flat=True)) == [80, 300]
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.UNPAID
    assert invoice.due_cents() == 1020 - 800


def test_the_last_cent_marks_the_invoice_paid(invoice):
    """Paying what is left moves the invoice to payée; nothing more can be paid then."""
    pay(invoice, 1020, means=Payment.Means.CASH)

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert invoice.due_cents() == 0
    with pytest.raises(ValidationError, match="n'attend plus de paiement"):
        pay(invoice, 1)


def test_more_than_what_is_due_is_refused(invoice):
    """A payment above the amount left to pay is refused and nothing is recorded."""
    with pytest.raises(ValidationError, match="dépasse le reste à payer"):
        pay(invoice, 1021)
    assert not Payment.objects.exists()


def test_state_moves_are_enforced(invoice, office):
    """A paid invoice cannot be cancelled; a cancelled one cannot be paid."""
    with pytest.raises(ValidationError):
        invoice.set_status(Invoice.Status.UNPAID)
    pay(invoice, 1020)
    invoice.refresh_from_db()
    with pytest.raises(ValidationError):
        invoice_cancel(invoice=invoice, reason="Erreur", by=office, today=PAID_ON)


def test_an_invoice_with_a_payment_cannot_be_cancelled(invoice, office):
    """Cancelling is refused once money was received for the invoice."""
    pay(invoice, 100)
    with pytest.raises(ValidationError, match="a déjà reçu un paiement"):
        invoice_cancel(invoice=invoice, reason="Erreur", by=office, today=PAID_ON)


def test_credits_are_allocated_first(regies, slots, today):
    """A negative regularisation is consumed first, so the parts add up to the payment."""
    family = make_family()
    child = family.children.get()
    late = book(child, slots["matin"], datetime.date(2026, 10, 5))
    book(child, slots["matin"], datetime.date(2026, 10, 6))
    issue(regies)
    Booking.objects.filter(pk=late.pk).update(presence=Booking.Presence.EXCUSED)
    for day in (2, 3, 5):
        book(child, slots["matin"], datetime.date(2026, 11, day))
    issue(regies, month=NOVEMBER, today=datetime.date(2026, 12, 10))
    november = Invoice.objects.get(period_start=NOVEMBER)
    assert november.total_cents == 600 - 200

    payment = pay(november, 400)

    parts = {
        part.line.kind: part.amount_cents for part in payment.allocations.select_related("line")
    }
    assert parts == {InvoiceLine.Kind.REGULARISATION: -200, InvoiceLine.Kind.BOOKING: 600}
    assert sum(parts.values()) == 400
    assert Invoice.objects.get(period_start=OCTOBER).status == Invoice.Status.UNPAID
