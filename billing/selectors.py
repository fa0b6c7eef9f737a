"""Read side of billing: balances, the account statement, the tax certificate, the journal of
money collected. Each returns a small dataclass that pages and PDFs render alike."""

import datetime
import functools
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from common import refcache
from common.dates import long_date
from common.money import format_cents
from families.models import Child

from .invoicing import REFERENCE, Biller, add_months, pending_totals
from .models import CreditNote, Invoice, Payment, PaymentAllocation, Regie

# Balances ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    """A family's balance with one régie on a date: the one source of "Solde au <date>" and
    "Solde réel" on Paiements, Mes factures, the relevé de compte and its PDF."""

    regie: Regie
    on: datetime.date
    # Left to pay on the invoices still settled through the portal (impayée, prélèvement
    # programmé).
    portal_cents: int = 0
    # Left to pay on the invoices in recovery: owed to the Trésor Public, no longer payable on
    # the portal.
    recovery_cents: int = 0
    # Bookings and walk-ins not invoiced yet, up to the end of the month (None: not computed,
    # the date is not today).
    pending_cents: int | None = None
    open_invoices: int = 0
    programmed_invoices: int = 0
    recovery_invoices: int = 0

    @property
    def total_cents(self) -> int:
        """ "Solde au <on>": everything the family owes on its invoices, recovery included."""
        return self.portal_cents + self.recovery_cents

    @property
    def real_cents(self) -> int | None:
        """ "Solde réel": the invoices left to pay plus what is not invoiced yet."""
        return None if self.pending_cents is None else self.total_cents + self.pending_cents

    @property
    def unpaid_invoices(self) -> int:
        """Open invoices the family has to pay itself (not the programmed debits)."""
        return self.open_invoices - self.programmed_invoices


@functools.cache
def _paid_on_invoice():
    """The sum of the payments of the invoice of the outer query (built once; never evaluated
    itself)."""
    return (
        Payment.objects.filter(invoice=OuterRef("pk"))
        .order_by()
        .values("invoice")
        .annotate(total=Sum("amount_cents"))
        .values("total")
    )


def _owed_by_regie(family, on: datetime.date) -> dict[int, dict]:
    """{régie id: the fields of its Balance} from the invoices of `family` as they stood at the
    end of `on`: issued by then, not cancelled by a credit note by then, less the payments made
    by then (the running balance of the relevé, invoice by invoice). One query."""
    paid = _paid_on_invoice().filter(paid_on__lte=on)
    invoices = (
        Invoice.objects.for_family(family)
        .filter(issue_date__lte=on)
        .exclude(credit_note__issue_date__lte=on)
        .annotate(paid_then=Coalesce(Subquery(paid), 0))
        .filter(total_cents__gt=F("paid_then"))
        .order_by()
        .values_list("regie_id", "status", "recovery_date", "total_cents", "paid_then")
    )
    owed = defaultdict(
        lambda: {
            "portal_cents": 0,
            "recovery_cents": 0,
            "open_invoices": 0,
            "programmed_invoices": 0,
            "recovery_invoices": 0,
        }
    )
    for regie_id, status, recovery_date, total, paid_then in invoices:
        parts = owed[regie_id]
        in_recovery = status == Invoice.Status.RECOVERY and (
            recovery_date is None or recovery_date <= on
        )
        if in_recovery:
            parts["recovery_cents"] += total - paid_then
            parts["recovery_invoices"] += 1
        else:
            parts["portal_cents"] += total - paid_then
            parts["open_invoices"] += 1
            parts["programmed_invoices"] += int(status == Invoice.Status.DIRECT_DEBIT)
    return owed


def family_balances(
    family, *, on: datetime.date, regies=None, with_pending: bool = True
) -> list[Balance]:
    """The balance of `family` with each régie (or each of `regies`) at the end of `on`. With
    `with_pending` (`on` being today), "Solde réel" adds what is not invoiced yet."""
    owed = _owed_by_regie(family, on)
    regies = _all_regies() if regies is None else list(regies)
    pending = (
        pending_totals([Biller(regie, cached=True) for regie in regies], family, today=on)
        if with_pending
        else {}
    )
    return [
        Balance(regie, on, pending_cents=pending.get(regie.pk), **owed.get(regie.pk, {}))
        for regie in regies
    ]


def _all_regies() -> list[Regie]:
    """Every régie, in order, from the cache of reference data (common.refcache)."""
    return refcache.reference(REFERENCE, "regies", lambda: list(Regie.objects.all()))


def family_balance(
    family, regie: Regie, *, on: datetime.date, with_pending: bool = True
) -> Balance:
    """The balance of `family` with `regie` at the end of `on` (see `family_balances`)."""
    return family_balances(family, on=on, regies=[regie], with_pending=with_pending)[0]


# Statement (relevé de compte) -----------------------------------------------------------------


@dataclass
class StatementRow:
    date: datetime.date
    label: str
    debit_cents: int = 0
    credit_cents: int = 0
    balance_cents: int = 0
    url: str = ""


@dataclass
class Statement:
    regie: Regie
    family: object
    start: datetime.date
    end: datetime.date
    opening_cents: int
    rows: list = field(default_factory=list)
    balance: Balance | None = None  # "Solde au <end>", from the same function as Paiements

    @property
    def closing_cents(self) -> int:
        return self.rows[-1].balance_cents if self.rows else self.opening_cents

    @property
    def total_debit_cents(self) -> int:
        return sum(row.debit_cents for row in self.rows)

    @property
    def total_credit_cents(self) -> int:
        return sum(row.credit_cents for row in self.rows)


def default_statement_period(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last twelve months, to today."""
    return add_months(today, -11), today


def _movements(family, regie: Regie, *, until: datetime.date):
    """(date, recorded at, order, pk, row) of every invoice, credit note and payment up to
    `until`: on one day, movements follow the order in which they were recorded (a credit note
    comes before the invoice that replaces the one it cancels)."""
    yield from _invoice_movements(family, regie, until=until)
    yield from _credit_note_movements(family, regie, until=until)
    yield from _payment_movements(family, regie, until=until)


def _invoice_movements(family, regie: Regie, *, until: datetime.date):
    invoices = Invoice.objects.for_family(family).filter(regie=regie, issue_date__lte=until)
    for invoice in invoices.only(
        "pk",
        "number",
        "issue_date",
        "period_start",
        "period_end",
        "total_cents",
        "created_at",
        "status",
        "recovery_date",
    ):
        yield (
            invoice.issue_date,
            invoice.created_at,
            1,
            invoice.pk,
            StatementRow(
                invoice.issue_date,
                f"Facture {invoice.number} — {invoice.period_label.lower()}",
                debit_cents=invoice.total_cents,
                url=invoice.get_absolute_url(),
            ),
        )
        if invoice.in_recovery and invoice.recovery_date and invoice.recovery_date <= until:
            # A note without amount: the family still owes it, to the Trésor Public now. The
            # switch runs at night, before anything else of that day.
            yield (
                invoice.recovery_date,
                datetime.datetime.combine(invoice.recovery_date, datetime.time.min, datetime.UTC),
                3,
                invoice.pk,
                StatementRow(
                    invoice.recovery_date,
                    f"Facture {invoice.number} mise en recouvrement — à régler auprès du Trésor "
                    "Public",
                    url=invoice.get_absolute_url(),
                ),
            )


def _credit_note_movements(family, regie: Regie, *, until: datetime.date):
    notes = CreditNote.objects.filter(
        invoice__family=family, invoice__regie=regie, issue_date__lte=until
    ).select_related("invoice")
    for note in notes:
        yield (
            note.issue_date,
            note.created_at,
            0,
            note.pk,
            StatementRow(
                note.issue_date,
                f"Avoir {note.number} annulant la facture {note.invoice.number}",
                credit_cents=note.amount_cents,
                url=note.invoice.get_absolute_url(),
            ),
        )


def _payment_movements(family, regie: Regie, *, until: datetime.date):
    payments = (
        Payment.objects.for_family(family)
        .filter(invoice__regie=regie, paid_on__lte=until)
        .select_related("invoice")
    )
    for payment in payments:
        reference = f", {payment.reference}" if payment.reference else ""
        yield (
            payment.paid_on,
            payment.recorded_at,
            2,
            payment.pk,
            StatementRow(
                payment.paid_on,
                f"Paiement ({payment.get_means_display().lower()}{reference}) — facture "
                f"{payment.invoice.number}",
                credit_cents=payment.amount_cents,
                url=payment.invoice.get_absolute_url(),
            ),
        )


def statement(
    family, regie: Regie, start: datetime.date, end: datetime.date, *, today: datetime.date
) -> Statement:
    """Invoices, credit notes and payments from `start` to `end` with a running balance (what
    the family owes; negative: in its favour), starting from the balance before `start`, and
    the balance at `end` (with "Solde réel" when `end` is `today`)."""
    movements = sorted(_movements(family, regie, until=end), key=lambda m: m[:4])
    opening = 0
    result = Statement(regie, family, start, end, 0)
    balance = 0
    for day, *_, row in movements:
        balance += row.debit_cents - row.credit_cents
        if day < start:
            opening = balance
            continue
        row.balance_cents = balance
        result.rows.append(row)
    result.opening_cents = opening
    result.balance = family_balance(family, regie, on=end, with_pending=end == today)
    return result


# Tax certificate (attestation fiscale) ---------------------------------------------------------

CERTIFICATE_AGE_LIMIT = 6


@dataclass
class CertificateInvoice:
    number: str
    period_label: str
    amount_cents: int


@dataclass
class CertificateChild:
    child: Child
    age_on_january_first: int
    amount_cents: int = 0
    invoices: list = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return self.age_on_january_first < CERTIFICATE_AGE_LIMIT


@dataclass
class Certificate:
    regie: Regie
    family: object
    year: int
    children: list
    issued_on: datetime.date

    @property
    def january_first(self) -> datetime.date:
        return datetime.date(self.year, 1, 1)

    @property
    def eligible(self) -> list:
        return [c for c in self.children if c.eligible]

    @property
    def excluded(self) -> list:
        return [c for c in self.children if not c.eligible]

    @property
    def total_cents(self) -> int:
        return sum(c.amount_cents for c in self.eligible)

    @property
    def period_label(self) -> str:
        return f"du 01/01/{self.year} au 31/12/{self.year}"

    @property
    def issued_label(self) -> str:
        return long_date(self.issued_on)


def tax_certificate(family, regie: Regie, year: int, *, today: datetime.date) -> Certificate:
    """For each child of `family`, the childcare amounts paid to `regie` during `year` (by
    payment date, from the payment allocations; surcharges excluded). Children aged 6 or more
    on 1 January are listed apart, with nothing counted."""
    january_first = datetime.date(year, 1, 1)
    children = {
        child.pk: CertificateChild(child, child.age_on(january_first))
        for child in Child.objects.in_household(family).order_by("birth_date", "first_name", "pk")
    }
    parts = (
        PaymentAllocation.objects.filter(
            payment__invoice__family=family,
            payment__invoice__regie=regie,
            payment__paid_on__range=(january_first, datetime.date(year, 12, 31)),
            line__is_surcharge=False,
            line__child__isnull=False,
        )
        .values(
            "line__child_id",
            "line__invoice__number",
            "line__invoice__period_start",
            "line__invoice__period_end",
        )
        .annotate(total=Sum("amount_cents"))
        .order_by("line__invoice__period_start", "line__invoice__number")
    )
    for part in parts:
        entry = children.get(part["line__child_id"])
        if entry is None or not entry.eligible or not part["total"]:
            continue
        entry.amount_cents += part["total"]
        entry.invoices.append(
            CertificateInvoice(
                part["line__invoice__number"],
                f"du {part['line__invoice__period_start']:%d/%m/%Y} au {part['line__invoice__period_end']:%d/%m/%Y}",
                part["total"],
            )
        )
    return Certificate(regie, family, year, list(children.values()), today)


# Journal des encaissements ---------------------------------------------------------------------


@dataclass
class Journal:
    regie: Regie
    start: datetime.date
    end: datetime.date
    payments: list
    totals_by_means: list  # [(label, cents, count)] for every means

    @property
    def total_cents(self) -> int:
        return sum(cents for _, cents, _ in self.totals_by_means)

    @property
    def count(self) -> int:
        return len(self.payments)


def journal(regie: Regie, start: datetime.date, end: datetime.date) -> Journal:
    """The money collected by `regie` from `start` to `end` (by payment date), with the totals
    by means of payment."""
    payments = list(
        Payment.objects.filter(invoice__regie=regie, paid_on__range=(start, end))
        .select_related("invoice__family", "recorded_by")
        .order_by("paid_on", "pk")
    )
    totals = {means: [0, 0] for means in Payment.Means.values}
    for payment in payments:
        totals[payment.means][0] += payment.amount_cents
        totals[payment.means][1] += 1
    by_means = [(Payment.Means(m).label, cents, count) for m, (cents, count) in totals.items()]
    return Journal(regie, start, end, payments, by_means)


# Invoice document ------------------------------------------------------------------------------


@dataclass
class InvoiceDocument:
    """What the invoice page and PDF show."""

    invoice: Invoice
    lines: list
    regularisations: list
    payments: list
    paid_cents: int
    due_cents: int
    credit_note: CreditNote | None
    replaced_by: Invoice | None

    @property
    def regie(self) -> Regie:
        return self.invoice.regie


def invoice_document(invoice: Invoice) -> InvoiceDocument:
    lines = list(invoice.lines.select_related("child", "slot").order_by("position"))
    payments = list(invoice.payments.order_by("paid_on", "pk"))
    paid = sum(payment.amount_cents for payment in payments)
    return InvoiceDocument(
        invoice=invoice,
        lines=[line for line in lines if not line.is_regularisation],
        regularisations=[line for line in lines if line.is_regularisation],
        payments=payments,
        paid_cents=paid,
        due_cents=0 if invoice.is_cancelled else max(invoice.total_cents - paid, 0),
        credit_note=CreditNote.objects.filter(invoice=invoice).first(),
        replaced_by=Invoice.objects.filter(replaces=invoice).first(),
    )


def csv_amount(cents: int) -> str:
    """ "1234,50": a spreadsheet reads it as a number (no thousands separator, no symbol)."""
    return format_cents(cents, currency=False).replace(" ", "")


def journal_csv_rows(data: Journal):
    """The journal as CSV rows (header first); see views for the escaping of formulas."""
    yield ["Date", "Facture", "Foyer", "Moyen de paiement", "Référence", "Montant (€)"]
    for payment in data.payments:
        yield [
            payment.paid_on.strftime("%d/%m/%Y"),
            payment.invoice.number,
            payment.invoice.family_label,
            payment.get_means_display(),
            payment.reference,
            csv_amount(payment.amount_cents),
        ]
    yield []
    for label, cents, count in data.totals_by_means:
        yield ["Total", "", "", label, f"{count} paiement(s)", csv_amount(cents)]
    yield [
        "Total",
        "",
        "",
        "Tous moyens",
        f"{data.count} paiement(s)",
        csv_amount(data.total_cents),
    ]
