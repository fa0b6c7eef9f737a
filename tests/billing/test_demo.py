"""The demo invoices of seed_demo."""

import datetime

import pytest

from billing.models import CreditNote, Invoice
from portail.demo import seed_demo

pytestmark = pytest.mark.django_db


def test_demo_families_have_invoices_in_each_state(today):
    """Both demo families get paid, unpaid and cancelled invoices; the parent the tutorial's
    30,00 € November invoice, unpaid; seeding again adds nothing."""
    families = seed_demo(today)
    count = Invoice.objects.count()

    for family in families.values():
        states = set(Invoice.objects.filter(family=family).values_list("status", flat=True))
        assert states == {"impayee", "payee", "annulee"}, family
    tutorial = Invoice.objects.get(
        family=families["parent"], period_start=datetime.date(2025, 11, 1)
    )
    assert (tutorial.total_cents, tutorial.status) == (3000, Invoice.Status.UNPAID)
    assert tutorial.period_label == "Du 01/11/2025 au 30/11/2025"
    assert CreditNote.objects.count() == 2

    seed_demo(today)
    assert Invoice.objects.count() == count
