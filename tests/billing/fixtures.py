"""Billing objects for the access matrix: an invoice of a family, made on first use."""

import datetime

from billing.directdebit.models import Mandate
from billing.models import CreditNote, Invoice, InvoiceLine, Regie


def invoice(family) -> Invoice:
    """The family's October 2026 invoice of the périscolaire régie (created once)."""
    existing = Invoice.objects.filter(family=family).order_by("pk").first()
    if existing:
        return existing
    regie = Regie.objects.get(slug="periscolaire")
    made = Invoice.objects.create(
        regie=regie,
        family=family,
        number=f"MATRICE{family.pk:06d}",
        period_start=datetime.date(2026, 10, 1),
        period_end=datetime.date(2026, 10, 31),
        issue_date=datetime.date(2026, 11, 10),
        due_date=datetime.date(2026, 12, 10),
        total_cents=3000,
        payer_name=f"Parent {family.name}",
        payer_address=f"{family.address}\n{family.postal_code} {family.city}",
        family_label=f"Foyer {family.name}",
    )
    child = family.children.first()
    InvoiceLine.objects.create(
        invoice=made,
        position=1,
        kind=InvoiceLine.Kind.BOOKING,
        child=child,
        label=f"{child.first_name} — Matin 07h20-08h20",
        quantity=15,
        unit_price_cents=200,
        amount_cents=3000,
    )
    return made


def cancelled_invoice(family) -> Invoice:
    """The family's September 2026 invoice, cancelled by its credit note (created once)."""
    existing = Invoice.objects.filter(family=family, status=Invoice.Status.CANCELLED).first()
    if existing:
        return existing
    made = Invoice.objects.create(
        regie=Regie.objects.get(slug="periscolaire"),
        family=family,
        number=f"MATRICEA{family.pk:06d}",
        period_start=datetime.date(2026, 9, 1),
        period_end=datetime.date(2026, 9, 30),
        issue_date=datetime.date(2026, 10, 10),
        due_date=datetime.date(2026, 11, 10),
        status=Invoice.Status.CANCELLED,
        total_cents=1000,
        payer_name=f"Parent {family.name}",
        payer_address=f"{family.address}\n{family.postal_code} {family.city}",
        family_label=f"Foyer {family.name}",
    )
    CreditNote.objects.create(
        invoice=made,
        number=f"AVMATRICE{family.pk:06d}",
        issue_date=datetime.date(2026, 10, 20),
        amount_cents=1000,
        reason="Erreur de saisie",
    )
    return made


def mandate(family) -> Mandate:
    """The family's active direct-debit mandate for the périscolaire régie (created once)."""
    existing = Mandate.objects.filter(family=family).order_by("pk").first()
    if existing:
        return existing
    return Mandate.objects.create(
        family=family,
        regie=Regie.objects.get(slug="periscolaire"),
        rum=f"PERI-{family.pk}-1",
        creditor_ics="FR72ZZZ123456",
        account_holder=f"Parent {family.name}",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPP",
        signed_on=datetime.date(2026, 9, 15),
    )
