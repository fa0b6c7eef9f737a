"""What a month bills, and the monthly invoicing run that issues it.

Billed for a family, a régie and a month: each billable booking of the month on the régie's
créneaux (reservations' `Booking.objects.billable()`: active bookings and walk-ins, except
excused absences; bookings cancelled by the family or by a closure are not billable), priced at
the grid of its créneau and school year for the family's QF valid that day; a walk-in also pays
the grid's surcharge. Lines group a child's bookings of a créneau at one price.

Corrections never touch an issued invoice. `BookingCharge` keeps what each line charged for each
booking; a booking of an earlier month (within REGULARISATION_MONTHS) whose billable state no
longer matches what invoices that are not cancelled charged for it becomes a dated
regularisation line on the family's next invoice: negative for a late excuse, a closure or a
cancellation, positive for a walk-in or a staff booking added after the month was invoiced.

Issuing is done in batches of families, each in one transaction that first locks the régie's
number counter (gapless numbers), then skips the families already invoiced for the month
(a concurrent run may have done them), then inserts the invoices, their lines and charges in a
few statements. The counts of the run grow with each committed batch.
"""

import datetime
import functools
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import (
    BooleanField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    Sum,
    Value,
)
from django.utils import timezone

from common import outbox, refcache
from common.bulk import insert_rows
from common.dates import month_name
from common.money import format_cents
from families.models import Child, Family, Guardian
from reservations.models import Booking, Slot

from .directdebit.services import active_mandates, debit_date_for
from .models import (
    BookingCharge,
    Invoice,
    InvoiceLine,
    InvoicingRun,
    NumberSequence,
    Regie,
    month_end,
    month_start,
)
from .notices import invoices_label, notify_invoices_issued
from .tariffs import PriceBook, TariffMissing

logger = logging.getLogger(__name__)

BATCH_SIZE = 200  # families per transaction of a run
REGULARISATION_MONTHS = 12  # how far back a change of a booking is regularised
CHARGE_CHUNK = 5000  # rows per INSERT of booking charges
# The task that renders and keeps the PDFs of issued invoices (billing.documents), by name.
STORE_INVOICE_DOCUMENTS = "billing.documents.store_invoice_documents"

Kind = InvoiceLine.Kind


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months` after (or before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def previous_month(today: datetime.date) -> datetime.date:
    return add_months(today, -1)


def chunks(items, size):
    for index in range(0, len(items), size):
        yield items[index : index + size]


@dataclass
class DraftLine:
    """A line before it is issued, with the bookings it charges: [(booking id, cents)]."""

    kind: str
    child: Child
    slot: Slot
    label: str
    quantity: int
    unit_price_cents: int
    is_surcharge: bool = False
    service_date: datetime.date | None = None
    charges: list = field(default_factory=list)

    @property
    def amount_cents(self) -> int:
        return self.quantity * self.unit_price_cents

    @property
    def is_regularisation(self) -> bool:
        return self.kind == Kind.REGULARISATION


@dataclass
class Draft:
    """What a family would be invoiced by a régie for a month."""

    family: Family
    month: datetime.date
    lines: list

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


@dataclass(frozen=True)
class _Row:
    """A booking as billing reads it."""

    pk: int
    child_id: int
    family_id: int
    slot_id: int
    date: datetime.date
    origin: str
    presence: str
    status: str
    absence_id: int | None
    cancel_reason: str


# A booking is billed to the household that made it (`Booking.family`): for a child in
# résidence alternée, each household pays its own days at its own QF.
ROW_FIELDS = [
    "pk", "child_id", "family_id", "slot_id", "date", "origin", "presence", "status",
    "absence_id", "cancel_reason",
]  # fmt: skip
CHARGE_ROW_FIELDS = [f"booking__{name}" if name != "pk" else "booking_id" for name in ROW_FIELDS]


def _row(values) -> "_Row":
    return _Row(*values)


def _billable_q(prefix=""):
    """The condition of reservations' Booking.objects.billable(), for a lookup through `prefix`."""
    return Q(**{f"{prefix}status": Booking.Status.VALIDATED}) & ~Q(
        **{f"{prefix}presence": Booking.Presence.EXCUSED}
    )


# The régies' créneaux and price grids in the cache (invalidated by BillingConfig.ready).
REFERENCE = "billing"


def _live_charges():
    return BookingCharge.objects.exclude(line__invoice__status=Invoice.Status.CANCELLED)


# The two parts of the query of `pending_rows`, without the families, children, créneaux and
# dates of a call, which filter them further. Built once per process: building them at each
# call cost about a millisecond of a parent's page. Never evaluated themselves.


@functools.cache
def _uncharged_billable_rows():
    """Billable bookings that no charge of an invoice not cancelled bills, as rows, with the
    columns of `_charges_to_settle` left empty (no line, no régie, no amount)."""
    # Typed as booleans, the three NULLs are read as they come; typed as integers, they would
    # have Django convert every row of the union (its columns are typed by this first query).
    empty = Value(None, output_field=BooleanField())
    return (
        Booking.objects.filter(_billable_q())
        .filter(~Exists(_live_charges().filter(booking=OuterRef("pk"))))
        .values_list(*ROW_FIELDS)
        .annotate(no_line=empty, no_regie=empty, no_amount=empty)
        .order_by()
    )


@functools.cache
def _charges_to_settle():
    """(row, is_surcharge, régie id, net cents) of the bookings charged by invoices not
    cancelled, by invoice line kind and régie: those given back (net 0) that are billable
    again, and those still charged that are no longer billable."""
    return (
        _live_charges()
        .values_list(*CHARGE_ROW_FIELDS, "line__is_surcharge", "line__invoice__regie_id")
        .annotate(net=Sum("amount_cents"))
        .filter((Q(net=0) & _billable_q("booking__")) | (~Q(net=0) & ~_billable_q("booking__")))
        .order_by()
    )


def pending_rows(billers, child_ids, family_ids, *, windows) -> dict[int, tuple[list, list]]:
    """{régie id: (to bill, to give back)} for each of `billers`, from the bookings that the
    families of `family_ids` made for the children of `child_ids` on the régie's créneaux within
    its window ({régie id: (since, until)}): billable bookings that invoices not cancelled have
    not charged (rows), and the charges by the régie's invoices of bookings no longer billable
    ((row, is_surcharge, net cents)). One query whatever the number of régies, starting from
    the children's bookings (index on child, date)."""
    if not windows:
        return {}
    child_ids, family_ids = list(child_ids), list(family_ids)
    regie_of_slot = {slot_id: biller.regie.pk for biller in billers for slot_id in biller.slots}
    since = min(start for start, _ in windows.values())
    until = max(end for _, end in windows.values())
    uncharged = _uncharged_billable_rows().filter(
        slot_id__in=list(regie_of_slot),
        child_id__in=child_ids,
        family_id__in=family_ids,
        date__range=(since, until),
    )
    charged = _charges_to_settle().filter(
        booking__child_id__in=child_ids,
        booking__family_id__in=family_ids,
        booking__slot_id__in=list(regie_of_slot),
        booking__date__range=(since, until),
        line__invoice__regie_id__in=list(windows),
    )
    to_bill = {regie_id: [] for regie_id in windows}
    to_give_back = {regie_id: [] for regie_id in windows}
    billed_again = set()  # once for all the lines of the booking
    size = len(ROW_FIELDS)
    for values in uncharged.union(charged, all=True):
        row = _row(values[:size])
        is_surcharge, charged_by, net = values[size:]
        regie_id = regie_of_slot[row.slot_id]
        start, end = windows[regie_id]
        if not start <= row.date <= end:
            continue  # outside its régie's window
        if charged_by is None:  # billable, and no invoice charges it
            to_bill[regie_id].append(row)
        elif charged_by != regie_id:
            continue  # charged by another régie's invoice
        elif net:  # still charged, no longer billable
            to_give_back[regie_id].append((row, is_surcharge, net))
        elif row.pk not in billed_again:  # charged and given back, billable again
            billed_again.add(row.pk)
            to_bill[regie_id].append(row)
    return {regie_id: (to_bill[regie_id], to_give_back[regie_id]) for regie_id in windows}


class Biller:
    """Prices and groups the bookings of one régie. Loads the régie's créneaux and grids once;
    each call then costs a fixed number of queries, whatever the number of families."""

    def __init__(self, regie: Regie, *, cached: bool = False):
        """`cached`: the créneaux and grids from the cache (common.refcache), for pages that
        show an estimate; invoicing reads them from the database."""
        self.regie = regie
        if cached:
            name = f"biller-{regie.pk}"
            self.slots, self.prices = refcache.reference(REFERENCE, name, self._reference)
        else:
            self.slots, self.prices = self._reference()

    def _reference(self):
        slots = {slot.pk: slot for slot in self.regie.slots().select_related("activity")}
        return slots, PriceBook(slots)

    # Reading what is due -----------------------------------------------------------------

    def lookback_start(self, month: datetime.date) -> datetime.date:
        start = add_months(month, -REGULARISATION_MONTHS)
        if self.regie.billing_start and self.regie.billing_start > start:
            start = self.regie.billing_start
        return start

    def _bookings(self):
        return Booking.objects.filter(slot_id__in=list(self.slots))

    def candidate_families(self, month: datetime.date) -> list[int]:
        """Families with a booking of the régie from the look-back window to the month's end:
        those the run examines (most have nothing to regularise and are simply billed)."""
        since = self.lookback_start(month)
        return sorted(
            set(
                self._bookings()
                .filter(date__range=(since, month_end(month)))
                .values_list("family_id", flat=True)
                .distinct()
                .order_by()
            )
        )

    def _billed_days(self, month: datetime.date):
        """(créneau id, day) of the billable bookings of `month`."""
        return (
            self._bookings()
            .filter(_billable_q(), date__range=(month, month_end(month)))
            .values_list("slot_id", "date")
            .distinct()
            .order_by()
        )

    def check_prices(self, month: datetime.date) -> None:
        """TariffMissing unless every créneau and school year billed in `month` has a grid
        (checked before any invoice of the run is issued)."""
        for slot_id, day in self._billed_days(month):
            self.prices.grid(self.slots[slot_id], day)

    def missing_prices(self, month: datetime.date) -> dict[tuple[int, datetime.date], str]:
        """{(créneau id, day): why it cannot be priced} for the billable bookings of `month`
        whose créneau has no grid that school year: what `check_prices` refuses, all of it."""
        missing = {}
        for slot_id, day in self._billed_days(month):
            try:
                self.prices.grid(self.slots[slot_id], day)
            except TariffMissing as exc:
                missing[(slot_id, day)] = exc.messages[0]
        return missing

    def families_billed_on(self, days) -> dict[int, set[str]]:
        """{family id: reasons} of the families with a billable booking on one of `days`
        ({(créneau id, day): reason}), in one query."""
        by_slot = defaultdict(set)
        for slot_id, day in days:
            by_slot[slot_id].add(day)
        if not by_slot:
            return {}
        condition = Q()
        for slot_id, dates in by_slot.items():
            condition |= Q(slot_id=slot_id, date__in=sorted(dates))
        families = defaultdict(set)
        rows = (
            self._bookings()
            .filter(_billable_q(), condition)
            .values_list("family_id", "slot_id", "date")
            .distinct()
            .order_by()
        )
        for family_id, slot_id, day in rows:
            families[family_id].add(days[(slot_id, day)])
        return families

    # Pricing and grouping -------------------------------------------------------------------

    def drafts(
        self, family_ids, month: datetime.date, *, until=None, families=None, children=None
    ) -> dict[int, Draft]:
        """What `month` bills each family of `family_ids` (regularisations of earlier months
        included), by family id. Families with nothing are left out; a draft may total zero or
        less (no invoice is then issued). `families` ({id: family}, guardians prefetched when
        the draft is to be issued) and `children` (a list) may be given when already loaded."""
        family_ids = list(family_ids)
        if not family_ids:
            return {}
        children = _children_by_id(family_ids, children)
        window = (self.lookback_start(month), until or month_end(month))
        rows = pending_rows([self], children, family_ids, windows={self.regie.pk: window})
        return self._drafts(*rows[self.regie.pk], month, families=families, children=children)

    def _drafts(self, to_bill, to_give_back, month, *, families, children) -> dict[int, Draft]:
        """The drafts of `drafts`, from the rows `pending_rows` read for the régie."""
        if not (to_bill or to_give_back):
            return {}
        if families is None:
            concerned = {row.family_id for row in to_bill} | {
                row.family_id for row, _, _ in to_give_back
            }
            families = _families_to_bill(concerned)
        child_order = {pk: index for index, pk in enumerate(children)}
        month_groups, regularisations = self._group(
            to_bill, to_give_back, month, families, children
        )
        lines_by_family = self._month_lines(month_groups, children, child_order)
        for family_id, lines in regularisations.items():
            lines.sort(
                key=lambda line: (
                    line.service_date,
                    child_order[line.child.pk],
                    line.slot.position,
                    line.is_surcharge,
                )
            )
            lines_by_family[family_id].extend(line for line in lines if line.amount_cents)
        return {
            family_id: Draft(families[family_id], month, lines)
            for family_id, lines in lines_by_family.items()
            if lines
        }

    def _group(self, to_bill, to_give_back, month, families, children):
        """The bookings of `month` grouped into lines ((family, child, slot, kind, unit price) →
        booking ids), and the regularisation lines of earlier months, by family."""
        month_groups = defaultdict(list)
        regularisations = defaultdict(list)
        for row in to_bill:
            family, child, slot = (
                families[row.family_id],
                children[row.child_id],
                self.slots[row.slot_id],
            )
            price = self.prices.unit_price(slot, row.date, family.valid_quotient(row.date))
            walk_in = row.origin == Booking.Origin.WALK_IN
            surcharge = self.prices.surcharge(slot, row.date) if walk_in else 0
            if row.date >= month:
                kind = Kind.WALK_IN if walk_in else Kind.BOOKING
                month_groups[(row.family_id, row.child_id, row.slot_id, kind, price)].append(row.pk)
                if surcharge:
                    month_groups[
                        (row.family_id, row.child_id, row.slot_id, Kind.SURCHARGE, surcharge)
                    ].append(row.pk)
                continue
            reason = _addition_reason(row)
            regularisations[row.family_id].append(_regularisation(child, slot, row, price, reason))
            if surcharge:
                regularisations[row.family_id].append(
                    _regularisation(child, slot, row, surcharge, reason, surcharge=True)
                )
        for row, is_surcharge, net in to_give_back:
            child, slot = children[row.child_id], self.slots[row.slot_id]
            regularisations[row.family_id].append(
                _regularisation(
                    child, slot, row, -net, _removal_reason(row), surcharge=is_surcharge
                )
            )
        return month_groups, regularisations

    def _month_lines(self, month_groups, children, child_order):
        """The month's lines of each family, in the invoice's order: child, créneau, then
        bookings, walk-ins and surcharges, the dearer first."""
        kind_order = {Kind.BOOKING: 0, Kind.WALK_IN: 1, Kind.SURCHARGE: 2}
        lines_by_family = defaultdict(list)
        for key in sorted(
            month_groups,
            key=lambda k: (
                k[0],
                child_order[k[1]],
                self.slots[k[2]].position,
                k[2],
                kind_order[k[3]],
                -k[4],
            ),
        ):
            family_id, child_id, slot_id, kind, price = key
            bookings = month_groups[key]
            lines_by_family[family_id].append(
                DraftLine(
                    kind=kind,
                    child=children[child_id],
                    slot=self.slots[slot_id],
                    label=_month_label(kind, children[child_id], self.slots[slot_id]),
                    quantity=len(bookings),
                    unit_price_cents=price,
                    is_surcharge=kind == Kind.SURCHARGE,
                    charges=[(pk, price) for pk in bookings],
                )
            )
        return lines_by_family

    def open_month(self, today: datetime.date) -> datetime.date:
        """The first month whose invoices are not out yet on `today`: last month until the
        régie's issue day, then the current month."""
        last = add_months(today, -1)
        return last if today < self.regie.issue_date_for(last) else month_start(today)

    def not_invoiced(self, family, *, today: datetime.date, children=None) -> Draft | None:
        """What is not invoiced yet for `family` up to the end of the current month: the months
        not invoiced yet, and the regularisations due; None when there is nothing."""
        return not_invoiced_by_regie([self], family, today=today, children=children)[self.regie.pk]

    def pending_total(self, family, *, today: datetime.date, children=None) -> int:
        """The priced value of everything not yet invoiced for `family` up to the end of the
        current month (bookings and walk-ins, and pending regularisations), in cents."""
        return pending_totals([self], family, today=today, children=children)[self.regie.pk]


def not_invoiced_by_regie(billers, family, *, today: datetime.date, children=None) -> dict:
    """{régie id: `Biller.not_invoiced`} for each of `billers`, the bookings of all the régies
    read in the same two queries."""
    if not billers:
        return {}
    children = _children_by_id([family.pk], children)
    months, windows = {}, {}
    for biller in billers:
        month = months[biller.regie.pk] = biller.open_month(today)
        windows[biller.regie.pk] = (biller.lookback_start(month), month_end(today))
    rows = pending_rows(billers, children, [family.pk], windows=windows)
    families = {family.pk: family}
    return {
        biller.regie.pk: biller._drafts(
            *rows[biller.regie.pk],
            months[biller.regie.pk],
            families=families,
            children=children,
        ).get(family.pk)
        for biller in billers
    }


def pending_totals(billers, family, *, today: datetime.date, children=None) -> dict[int, int]:
    """{régie id: `Biller.pending_total`} for each of `billers`, the bookings of all the régies
    read in the same two queries."""
    drafts = not_invoiced_by_regie(billers, family, today=today, children=children)
    return {regie_id: draft.total_cents if draft else 0 for regie_id, draft in drafts.items()}


def _children_by_id(family_ids, children=None) -> dict:
    """{id: child} of `children`, or else of the children the families of `family_ids` look
    after: their own, and those they share as second household (résidence alternée)."""
    if children is None:
        children = Child.objects.in_households(family_ids).only(
            "pk", "family_id", "first_name", "last_name", "birth_date"
        )
    return {child.pk: child for child in children}


def _families_to_bill(family_ids) -> dict:
    """The families by id, with their guardians (the payer) in order."""
    guardians = Guardian.objects.select_related("user").order_by("created_at", "pk")
    return {
        family.pk: family
        for family in Family.objects.filter(pk__in=family_ids).prefetch_related(
            Prefetch("guardians", queryset=guardians)
        )
    }


def _month_label(kind, child, slot) -> str:
    if kind == Kind.WALK_IN:
        return f"{child.first_name} — {slot.label} (accueil sans réservation)"
    if kind == Kind.SURCHARGE:
        return f"{child.first_name} — majoration accueil sans réservation ({slot.label})"
    return f"{child.first_name} — {slot.label}"


def _addition_reason(row: _Row) -> str:
    if row.origin == Booking.Origin.WALK_IN:
        return "accueil sans réservation"
    if row.origin == Booking.Origin.STAFF:
        return "réservation ajoutée par le pôle administratif"
    if row.absence_id:
        return "absence non excusée"
    return "réservation non facturée"


def _removal_reason(row: _Row) -> str:
    if row.status == Booking.Status.CANCELLED_BY_CLOSURE:
        return f"fermeture ({row.cancel_reason})" if row.cancel_reason else "fermeture"
    if row.status == Booking.Status.CANCELLED:
        return "réservation annulée"
    return "absence excusée"


def _regularisation(
    child, slot, row: _Row, amount: int, reason: str, *, surcharge=False
) -> DraftLine:
    """A dated line for one booking: +1 × price to bill it, -1 × price to give it back."""
    what = f"majoration ({slot.label})" if surcharge else slot.label
    return DraftLine(
        kind=Kind.REGULARISATION,
        child=child,
        slot=slot,
        label=f"Régularisation du {row.date:%d/%m/%Y} — {child.first_name} — {what} : {reason}",
        quantity=1 if amount >= 0 else -1,
        unit_price_cents=abs(amount),
        is_surcharge=surcharge,
        service_date=row.date,
        charges=[(row.pk, amount)],
    )


# Issuing ------------------------------------------------------------------------------------


def lock_sequence(regie: Regie, kind: str, year: int) -> NumberSequence:
    """The counter of `regie`, `kind` and `year`, created if missing and locked until the end of
    the transaction (so that numbers are gapless: a rollback gives them back)."""
    NumberSequence.objects.bulk_create(
        [NumberSequence(regie=regie, kind=kind, year=year)], ignore_conflicts=True
    )
    return NumberSequence.objects.select_for_update().get(regie=regie, kind=kind, year=year)


def format_number(regie: Regie, kind: str, year: int, rank: int) -> str:
    """ALAI2026000123 for an invoice, AVALAI2026000004 for a credit note (≤ 30 characters)."""
    prefix = (
        regie.invoice_prefix if kind == NumberSequence.Kind.INVOICE else f"AV{regie.invoice_prefix}"
    )
    return f"{prefix}{year}{rank:06d}"


def _payer(family: Family) -> tuple[str, str]:
    guardians = list(family.guardians.all())
    name = guardians[0].user.get_full_name() if guardians else ""
    name = name or (guardians[0].user.email if guardians else family.name)
    lines = [family.address, family.address_complement, f"{family.postal_code} {family.city}"]
    return name, "\n".join(line for line in lines if line)


def _quotient_label(family: Family, month: datetime.date) -> str:
    qf = family.valid_quotient(month_end(month))
    if qf is not None:
        return f"Quotient familial {qf} € (valable jusqu'au {family.quotient_valid_until:%d/%m/%Y})"
    return "Quotient familial non fourni ou expiré : tarif de la dernière tranche"


def issue_drafts(
    drafts, *, regie, month, issue_date, sequence, run=None, replaces=None
) -> list[Invoice]:
    """Insert the invoices of `drafts` with their lines and charges, numbered from `sequence`
    (locked by the caller, in the caller's transaction). A family with an active direct-debit
    mandate for the régie gets a "prélèvement programmé" invoice, due on its debit date."""
    if not drafts:
        return []
    now = timezone.now()
    invoices = _new_invoices(
        drafts, regie=regie, month=month, issue_date=issue_date, sequence=sequence, now=now
    )
    for invoice in invoices:
        invoice.run, invoice.replaces = run, replaces
    Invoice.objects.bulk_create(invoices)
    Invoice.history.bulk_history_create(
        invoices, default_date=now, default_change_reason="Émission"
    )
    _insert_lines_and_charges(invoices, drafts)
    sequence.save(update_fields=["last_number"])
    return invoices


def _new_invoices(drafts, *, regie, month, issue_date, sequence, now) -> list[Invoice]:
    """The invoices of `drafts` (not saved), numbered from `sequence`: a family with an active
    mandate for the régie gets a programmed debit, due on its debit date."""
    mandates = active_mandates(regie, [draft.family.pk for draft in drafts])
    debit_date = debit_date_for(issue_date) if mandates else None
    invoices = []
    for draft in drafts:
        sequence.last_number += 1
        payer_name, payer_address = _payer(draft.family)
        mandate = mandates.get(draft.family.pk)
        invoices.append(
            Invoice(
                regie=regie,
                family=draft.family,
                number=format_number(regie, sequence.kind, sequence.year, sequence.last_number),
                period_start=month,
                period_end=month_end(month),
                issue_date=issue_date,
                due_date=debit_date
                if mandate
                else issue_date + datetime.timedelta(days=regie.payment_delay_days),
                status=Invoice.Status.DIRECT_DEBIT if mandate else Invoice.Status.UNPAID,
                mandate=mandate,
                debit_date=debit_date if mandate else None,
                total_cents=draft.total_cents,
                payer_name=payer_name[:200],
                payer_address=payer_address,
                family_label=f"Foyer {draft.family.name}"[:200],
                quotient_label=_quotient_label(draft.family, month),
                created_at=now,
            )
        )
    return invoices


def _insert_lines_and_charges(invoices, drafts) -> None:
    """Insert the lines of the saved `invoices` and the booking each line charges."""
    lines = []
    for invoice, draft in zip(invoices, drafts, strict=True):
        for position, line in enumerate(draft.lines, start=1):
            lines.append(
                InvoiceLine(
                    invoice=invoice,
                    position=position,
                    kind=line.kind,
                    child=line.child,
                    slot=line.slot,
                    label=line.label[:250],
                    quantity=line.quantity,
                    unit_price_cents=line.unit_price_cents,
                    amount_cents=line.amount_cents,
                    is_surcharge=line.is_surcharge,
                    service_date=line.service_date,
                )
            )
    InvoiceLine.objects.bulk_create(lines, batch_size=2000)
    drafted = (line for draft in drafts for line in draft.lines)
    charges = [
        BookingCharge(booking_id=booking_id, line=line, amount_cents=amount)
        for line, draft_line in zip(lines, drafted, strict=True)
        for booking_id, amount in draft_line.charges
    ]
    for chunk in chunks(charges, CHARGE_CHUNK):
        insert_rows(BookingCharge, chunk)


def _enqueue_notifications(invoices):
    """The families' notices of these invoices, promised in the batch's own transaction (the
    outbox) as one task: they go out once the batch commits, even if the broker is down at that
    moment."""
    outbox.enqueue(
        notify_invoices_issued.name,
        [invoice.pk for invoice in invoices],
        label=f"Avis {invoices_label(invoices)}",
    )


def _enqueue_documents(invoices):
    """The PDFs of these invoices, promised in the batch's own transaction: the worker renders
    them once the batch commits (billing.documents says why not in the batch itself)."""
    outbox.enqueue(
        STORE_INVOICE_DOCUMENTS,
        [invoice.pk for invoice in invoices],
        label=f"PDF des factures {invoices[0].number} à {invoices[-1].number}",
    )


def _issue_batch(
    biller: Biller,
    month: datetime.date,
    issue_date: datetime.date,
    family_ids,
    *,
    run: InvoicingRun | None = None,
    notify: bool,
) -> list[int]:
    """Invoice one batch of families in one transaction; returns the new invoices' ids."""
    regie = biller.regie
    with transaction.atomic():
        sequence = lock_sequence(regie, NumberSequence.Kind.INVOICE, issue_date.year)
        done = set(
            Invoice.objects.live()
            .filter(regie=regie, period_start=month, family_id__in=family_ids)
            .values_list("family_id", flat=True)
        )
        todo = [pk for pk in family_ids if pk not in done]
        drafts = [d for d in biller.drafts(todo, month).values() if d.total_cents > 0]
        drafts.sort(key=lambda d: d.family.pk)
        invoices = issue_drafts(
            drafts, regie=regie, month=month, issue_date=issue_date, sequence=sequence, run=run
        )
        if run is not None:
            # The batch's counts and the run's sign of life. A run taken for interrupted while
            # this batch waited (on the counter, say) is running again.
            InvoicingRun.objects.filter(pk=run.pk).update(
                invoices_issued=F("invoices_issued") + len(invoices),
                skipped=F("skipped") + len(family_ids) - len(invoices),
                amount_cents=F("amount_cents") + sum(invoice.total_cents for invoice in invoices),
                heartbeat_at=timezone.now(),
                status=InvoicingRun.Status.RUNNING,
                finished_at=None,
                error="",
            )
        ids = [invoice.pk for invoice in invoices]
        if notify and ids:
            _enqueue_notifications(invoices)
            _enqueue_documents(invoices)
    return ids


def _issue_batches(biller, month, issue_date, family_ids, *, run=None, notify, batch_size):
    ids = []
    for batch in chunks(family_ids, batch_size):
        try:
            ids += _issue_batch(biller, month, issue_date, batch, run=run, notify=notify)
        except IntegrityError:
            # A concurrent run inserted one of these families' invoices between our check and
            # our insert (only possible where the counter lock does not hold, e.g. SQLite): the
            # batch rolled back whole; doing it again skips them.
            ids += _issue_batch(biller, month, issue_date, batch, run=run, notify=notify)
    return ids


def _check_month(month: datetime.date, today: datetime.date) -> datetime.date:
    """The first day of `month`, if `month` is over on `today`; ValidationError otherwise."""
    month = month_start(month)
    if month >= month_start(today):
        raise ValidationError(
            f"Le mois de {month_name(month)} n'est pas terminé : ses factures ne peuvent pas "
            "encore être émises."
        )
    return month


def issue_invoices(
    *, regie: Regie, month: datetime.date, today: datetime.date, family_ids, notify: bool = True
) -> list[Invoice]:
    """Issue the invoices of `month` for the given families only, dated `today`, without
    recording a run (the demo, an office correction). Families already invoiced are skipped.
    With `notify` off (demo data, the bench), nothing goes to the outbox: no notice, and each
    PDF is made by its first download."""
    month = _check_month(month, today)
    biller = Biller(regie)
    biller.check_prices(month)
    ids = _issue_batches(
        biller, month, today, sorted(family_ids), notify=notify, batch_size=BATCH_SIZE
    )
    return list(Invoice.objects.filter(pk__in=ids).order_by("number"))


# Preview ------------------------------------------------------------------------------------


@dataclass
class PreviewInvoice:
    """An invoice the run would issue."""

    family: Family
    total_cents: int
    line_count: int
    direct_debit: bool


@dataclass
class SkippedFamily:
    """A family the run would examine without invoicing it, and why."""

    family: Family
    reason: str
    detail: str = ""


@dataclass
class InvoicingPreview:
    """What running the invoicing of `month` for `regie` on `today` would do, computed without
    writing anything: the invoices it would issue, the families it would skip with the reason,
    and what would make it fail (`blocking`: a créneau without a grid)."""

    ALREADY_INVOICED = "Déjà facturée pour ce mois"
    MISSING_PRICE = "Tarif manquant : la facturation échouerait"
    NOTHING = "Rien à facturer"
    NOT_POSITIVE = "Total nul ou négatif : aucune facture, la régularisation attend la suivante"
    REASONS = [ALREADY_INVOICED, MISSING_PRICE, NOT_POSITIVE, NOTHING]

    regie: Regie
    month: datetime.date
    today: datetime.date
    families_seen: int
    invoices: list
    skipped: list
    blocking: list

    @property
    def total_cents(self) -> int:
        return sum(invoice.total_cents for invoice in self.invoices)

    @property
    def direct_debit_count(self) -> int:
        return sum(invoice.direct_debit for invoice in self.invoices)

    @property
    def planned_issue_date(self) -> datetime.date:
        return self.regie.issue_date_for(self.month)

    @property
    def is_early(self) -> bool:
        """Issuing today would date the invoices before the régie's issue day."""
        return self.today < self.planned_issue_date

    def skipped_by_reason(self) -> list[tuple[str, list[SkippedFamily]]]:
        """[(reason, families)] in the order of REASONS, reasons without a family left out."""
        groups = defaultdict(list)
        for skipped in self.skipped:
            groups[skipped.reason].append(skipped)
        return [(reason, groups[reason]) for reason in self.REASONS if groups[reason]]


def invoicing_preview(*, regie: Regie, month: datetime.date, today: datetime.date):
    """What `invoicing_run` would issue for `regie` and `month` on `today`, family by family,
    read with the run's own rules and a fixed number of queries, whatever the number of
    families. Writes nothing. ValidationError if the month is not over."""
    month = _check_month(month, today)
    biller = Biller(regie)
    family_ids = biller.candidate_families(month)
    families = {family.pk: family for family in Family.objects.filter(pk__in=family_ids)}
    invoiced = dict(
        Invoice.objects.live()
        .filter(regie=regie, period_start=month)
        .values_list("family_id", "number")
        .order_by()
    )
    missing = biller.missing_prices(month)
    unpriced = biller.families_billed_on(missing)
    blocking = sorted(set(missing.values()))
    todo = [pk for pk in family_ids if pk not in invoiced and pk not in unpriced]
    try:
        drafts = biller.drafts(todo, month, families=families)
    except TariffMissing as exc:
        # A regularisation of an earlier month (or a QF) that no grid prices: the run would
        # fail on the batch, and which families it concerns is not known without pricing each.
        blocking += exc.messages
        unpriced.update({pk: set(exc.messages) for pk in todo})
        drafts = {}
    positive = [draft for draft in drafts.values() if draft.total_cents > 0]
    mandates = active_mandates(regie, [draft.family.pk for draft in positive]) if positive else {}
    invoices = [
        PreviewInvoice(
            draft.family, draft.total_cents, len(draft.lines), draft.family.pk in mandates
        )
        for draft in positive
    ]
    skipped = []
    for pk in family_ids:
        family = families[pk]
        if pk in invoiced:
            skipped.append(SkippedFamily(family, InvoicingPreview.ALREADY_INVOICED, invoiced[pk]))
        elif pk in unpriced:
            detail = " ".join(sorted(unpriced[pk]))
            skipped.append(SkippedFamily(family, InvoicingPreview.MISSING_PRICE, detail))
        elif pk in drafts and drafts[pk].total_cents <= 0:
            skipped.append(
                SkippedFamily(
                    family, InvoicingPreview.NOT_POSITIVE, format_cents(drafts[pk].total_cents)
                )
            )
        elif pk not in drafts:
            skipped.append(SkippedFamily(family, InvoicingPreview.NOTHING))
    invoices.sort(key=lambda invoice: (invoice.family.name, invoice.family.pk))
    skipped.sort(key=lambda skipped: (skipped.family.name, skipped.family.pk))
    return InvoicingPreview(
        regie=regie,
        month=month,
        today=today,
        families_seen=len(family_ids),
        invoices=invoices,
        skipped=skipped,
        blocking=blocking,
    )


def mark_interrupted_runs(*, now: datetime.datetime | None = None) -> int:
    """Record as interrupted the runs of every régie that were stopped before their end (no sign
    of life for INVOICING_RUN_STALE_AFTER on `now`); returns how many."""
    return InvoicingRun.objects.mark_interrupted(now=now or timezone.now())


def invoicing_run(
    *,
    regie: Regie,
    month: datetime.date,
    today: datetime.date,
    trigger: str = "",
    notify: bool = True,
    batch_size: int = BATCH_SIZE,
) -> InvoicingRun:
    """Issue the invoices of `month` for `regie`, dated `today`. Safe to run again, or
    concurrently: families already invoiced for the month are skipped, numbers stay gapless.
    The run is recorded with its counts; a failure marks it failed and is raised again. The
    run resumes the month's last interrupted run, if any: it issues the families left."""
    month = _check_month(month, today)
    now = timezone.now()
    mark_interrupted_runs(now=now)
    resumes = (
        InvoicingRun.objects.filter(
            regie=regie,
            month=month,
            status=InvoicingRun.Status.INTERRUPTED,
            resumed_by__isnull=True,
        )
        .order_by("-started_at", "-pk")
        .first()
    )
    run = InvoicingRun.objects.create(
        regie=regie,
        month=month,
        issue_date=today,
        trigger=trigger[:150],
        started_at=now,
        heartbeat_at=now,
        resumes=resumes,
    )
    try:
        biller = Biller(regie)
        biller.check_prices(month)
        family_ids = biller.candidate_families(month)
        InvoicingRun.objects.filter(pk=run.pk).update(
            families_seen=len(family_ids), heartbeat_at=timezone.now()
        )
        _issue_batches(
            biller, month, today, family_ids, run=run, notify=notify, batch_size=batch_size
        )
    except Exception as exc:
        error = " ".join(exc.messages) if isinstance(exc, ValidationError) else repr(exc)
        InvoicingRun.objects.filter(pk=run.pk).update(
            status=InvoicingRun.Status.FAILED, finished_at=timezone.now(), error=error[:2000]
        )
        if not isinstance(exc, ValidationError):
            logger.exception("Invoicing run %s failed", run.pk)
        raise
    InvoicingRun.objects.filter(pk=run.pk).update(
        status=InvoicingRun.Status.DONE, finished_at=timezone.now()
    )
    run.refresh_from_db()
    return run


def generate_invoices(
    *,
    month: datetime.date,
    today: datetime.date,
    regies=None,
    trigger: str = "",
    notify: bool = True,
) -> list[InvoicingRun]:
    """Run the invoicing of `month` for each régie (all by default)."""
    regies = list(regies) if regies is not None else list(Regie.objects.all())
    return [
        invoicing_run(regie=regie, month=month, today=today, trigger=trigger, notify=notify)
        for regie in regies
    ]


def due_runs(today: datetime.date):
    """(régie, month) pairs the night job must invoice on `today`: last month, for each régie
    whose issue day has come and that has no completed run for that month yet (a month whose
    runs failed or were interrupted is run again: it issues the families left)."""
    month = previous_month(today)
    done = set(
        InvoicingRun.objects.filter(month=month, status=InvoicingRun.Status.DONE).values_list(
            "regie_id", flat=True
        )
    )
    return [
        (regie, month)
        for regie in Regie.objects.all()
        if today >= regie.issue_date_for(month) and regie.pk not in done
    ]


def invoice_due_months(*, today: datetime.date, notify: bool = True) -> list[InvoicingRun]:
    """The night job: issue last month's invoices of every régie whose issue day has come, and
    finish a month whose run was interrupted (recorded as such first)."""
    mark_interrupted_runs()
    return [
        invoicing_run(regie=regie, month=month, today=today, trigger="Tâche de nuit", notify=notify)
        for regie, month in due_runs(today)
    ]
