"""What the régisseur reads about recovery: the invoices mise en recouvrement, still to hand over
to the Trésor Public or already handed over (with their list's number and date), and each
hand-over list with its lines, as a page, a CSV and a PDF."""

import datetime
from dataclasses import dataclass

from django.db import models
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from billing.models import Invoice, Regie
from billing.selectors import csv_amount

from .models import RecoveryHandover, RecoveryHandoverLine


class HandoverState(models.TextChoices):
    """Where an invoice in recovery stands with the Trésor Public."""

    PENDING = "a-transmettre", "À transmettre"
    SENT = "transmises", "Transmises"
    ALL = "toutes", "Toutes"


def with_handover(invoices):
    """Annotates each invoice with the list it was handed over in, if any: `handover_id`,
    `handover_number`, `handover_created_at`."""
    line = RecoveryHandoverLine.objects.filter(invoice=OuterRef("pk"))
    return invoices.annotate(
        handover_id=Subquery(line.values("handover_id")[:1]),
        handover_number=Subquery(line.values("handover__number")[:1]),
        handover_created_at=Subquery(line.values("handover__created_at")[:1]),
    )


def to_hand_over(regie: Regie | None = None):
    """The invoices in recovery not on any hand-over list yet ("à transmettre"), whatever the
    date they were put in recovery."""
    invoices = Invoice.objects.in_recovery().filter(handover_lines__isnull=True)
    return invoices.filter(regie=regie) if regie is not None else invoices


def handover_of(invoice: Invoice) -> RecoveryHandover | None:
    """The list `invoice` was handed over in, or None."""
    return RecoveryHandover.objects.filter(lines__invoice=invoice).first()


@dataclass
class RecoveryList:
    regie: Regie | None  # None: every régie
    state: str
    start: datetime.date | None
    end: datetime.date | None
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

    @property
    def pending(self) -> list:
        return [invoice for invoice in self.invoices if invoice.handover_id is None]

    def pending_by_regie(self) -> list[tuple[Regie, int, int]]:
        """(régie, number of invoices, amount left due) of the invoices shown still to hand
        over, per régie: what each "Créer le bordereau" button would put on its list."""
        groups: dict[int, list] = {}
        for invoice in self.pending:
            groups.setdefault(invoice.regie_id, []).append(invoice)
        return [
            (group[0].regie, len(group), sum(invoice.due_cents() for invoice in group))
            for group in groups.values()
        ]


def recovery_list(
    *,
    regie: Regie | None = None,
    state: str = HandoverState.PENDING,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> RecoveryList:
    """The invoices in recovery of `regie` (or of every régie), still to hand over, handed over
    or both, optionally put in recovery from `start` to `end`, oldest first, with what was
    already paid on each and the list each one was handed over in."""
    invoices = with_handover(Invoice.objects.in_recovery().select_related("regie")).with_paid()
    if regie is not None:
        invoices = invoices.filter(regie=regie)
    if state == HandoverState.PENDING:
        invoices = invoices.filter(handover_lines__isnull=True)
    elif state == HandoverState.SENT:
        invoices = invoices.filter(handover_lines__isnull=False)
    if start is not None:
        invoices = invoices.filter(recovery_date__gte=start)
    if end is not None:
        invoices = invoices.filter(recovery_date__lte=end)
    ordered = invoices.order_by("regie__position", "regie__name", "recovery_date", "number")
    return RecoveryList(regie, state, start, end, list(ordered))


def one_line(address: str) -> str:
    """The payer's address on one line, its lines separated by commas."""
    return ", ".join(line.strip() for line in address.splitlines() if line.strip())


RECOVERY_CSV_HEADER = [
    "Numéro",
    "Régie",
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
    "Transmission",
    "Bordereau",
    "Date du bordereau",
]


def recovery_csv_rows(data: RecoveryList):
    """The list as CSV rows, header first (the admin escapes cells a spreadsheet would run as
    formulas). Amounts in euros with a comma; the address on one line."""
    yield RECOVERY_CSV_HEADER
    for invoice in data.invoices:
        sent = invoice.handover_id is not None
        yield [
            invoice.number,
            invoice.regie.name,
            invoice.period_label,
            f"{invoice.issue_date:%d/%m/%Y}",
            f"{invoice.due_date:%d/%m/%Y}",
            f"{invoice.recovery_date:%d/%m/%Y}",
            csv_amount(invoice.total_cents),
            csv_amount(invoice.paid_cents()),
            csv_amount(invoice.due_cents()),
            invoice.payer_name,
            one_line(invoice.payer_address),
            invoice.family_label,
            "Transmise" if sent else "À transmettre",
            invoice.handover_number or "",
            f"{timezone.localdate(invoice.handover_created_at):%d/%m/%Y}" if sent else "",
        ]


# One hand-over list -----------------------------------------------------------------------------


def handover_lines(handover: RecoveryHandover) -> list[RecoveryHandoverLine]:
    """The list's lines in their order, with their invoices."""
    return list(handover.lines.select_related("invoice").order_by("position"))


HANDOVER_CSV_HEADER = [
    "Bordereau",
    "Date du bordereau",
    "Régie",
    "Numéro de facture",
    "Date d'émission",
    "Date limite de paiement",
    "Débiteur",
    "Adresse du débiteur",
    "Montant dû (€)",
    "Période facturée",
]


def handover_csv_rows(handover: RecoveryHandover):
    """The list as the Trésor Public takes it, header first: one row per invoice with the
    amount left due on the day of the list (euros, comma decimals). Only stored values: the
    same list always gives the same rows."""
    yield HANDOVER_CSV_HEADER
    date = f"{handover.date:%d/%m/%Y}"
    for line in handover_lines(handover):
        invoice = line.invoice
        yield [
            handover.number,
            date,
            handover.regie.name,
            invoice.number,
            f"{invoice.issue_date:%d/%m/%Y}",
            f"{invoice.due_date:%d/%m/%Y}",
            invoice.payer_name,
            one_line(invoice.payer_address),
            csv_amount(line.due_cents),
            invoice.period_label,
        ]
