"""The demo invoices of seed_demo."""

import datetime

import pytest

from billing.models import CreditNote, Invoice
from portail.demo import seed_demo

pytestmark = pytest.mark.django_db


def test_demo_families_have_invoices_in_each_state(today):
    """Both demo families get paid, unpaid and cancelled invoices; the parent the tutorial's
    30,00 € November invoice, left unpaid and so in recovery; seeding again adds nothing."""
    families = seed_demo(today)
    count = Invoice.objects.count()

    expected = {
        # The tutorial's November invoice went to recovery (billing.demo.seed_recovery).
        "parent": {"impayee", "payee", "annulee", "recouvrement"},
        # The neighbours pay périscolaire by direct debit: last month's invoice is programmed.
        "voisin": {"impayee", "payee", "annulee", "prelevement"},
    }
    for key, family in families.items():
        states = set(Invoice.objects.filter(family=family).values_list("status", flat=True))
        assert states == expected[key], family
    tutorial = Invoice.objects.get(
        family=families["parent"], period_start=datetime.date(2025, 11, 1)
    )
    # Issued 10/12/2025, due 09/01/2026, unpaid: in recovery since the next night.
    assert (tutorial.total_cents, tutorial.status) == (3000, Invoice.Status.RECOVERY)
    assert (tutorial.due_date, tutorial.recovery_date) == (
        datetime.date(2026, 1, 9),
        datetime.date(2026, 1, 10),
    )
    assert tutorial.period_label == "Du 01/11/2025 au 30/11/2025"
    assert CreditNote.objects.count() == 2

    seed_demo(today)
    assert Invoice.objects.count() == count
