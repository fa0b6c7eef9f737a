"""The régisseur's hand-over lists: the invoices of a régie put in recovery over a period, with
what was already paid on each, to transmit to the Trésor Public (as a page and as CSV)."""

import datetime
from dataclasses import dataclass

from billing.models import Invoice, Regie
from billing.selectors import csv_amount


@dataclass
class RecoveryList:
    regie: Regie
    start: datetime.date
    end: datetime.date
    invoices: list

    @property
    def count(self) -> int:
        return len(self.invoices)

    @property
    def total_cents(self) -> int:
        return sum(invoice.total_cents for invoice in self.invoices)

    @property
    def paid_cents(self) -> int:
        return sum(invoice.paid_cents() for invoice in self.invoices)

    @property
    def due_cents(self) -> int:
        return sum(invoice.due_cents() for invoice in self.invoices)


def recovery_list(regie: Regie, start: datetime.date, end: datetime.date) -> RecoveryList:
    """The invoices of `regie` put in recovery from `start` to `end` (by recovery date), with
    what was already paid on each."""
    invoices = list(
        Invoice.objects.in_recovery()
        .filter(regie=regie, recovery_date__range=(start, end))
        .with_paid()
        .order_by("recovery_date", "number")
    )
    return RecoveryList(regie, start, end, invoices)


RECOVERY_CSV_HEADER = [
    "Numéro",
    "Période",
    "Date d'émission",
    "Date limite de paiement",
    "Date de mise en recouvrement",
    "Montant facturé (€)",
    "Déjà payé (€)",
    "Reste dû (€)",
    "Payeur",
    "Adresse",
    "Foyer",
]


def recovery_csv_rows(data: RecoveryList):
    """The list as CSV rows, header first (the admin escapes cells a spreadsheet would run as
    formulas). Amounts in euros with a comma; the address on one line."""
    yield RECOVERY_CSV_HEADER
    for invoice in data.invoices:
        yield [
            invoice.number,
            invoice.period_label,
            f"{invoice.issue_date:%d/%m/%Y}",
            f"{invoice.due_date:%d/%m/%Y}",
            f"{invoice.recovery_date:%d/%m/%Y}",
            csv_amount(invoice.total_cents),
            csv_amount(invoice.paid_cents()),
            csv_amount(invoice.due_cents()),
            invoice.payer_name,
            ", ".join(line.strip() for line in invoice.payer_address.splitlines() if line.strip()),
            invoice.family_label,
        ]
