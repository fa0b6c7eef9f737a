"""SEPA direct-debit batches: one numbered pain.008 file per régie and collection date.

`create_batch` serialises on the régie's row (SELECT … FOR UPDATE): for a date that already has
its batch it returns that batch unchanged (the same file, byte for byte); otherwise, in one
transaction, it claims every programmed invoice due by that date (UPDATE … WHERE sepa_batch IS
NULL: an invoice is never in two batches), builds the pain.008.001.02 file with sepaxml and
validates it against its XSD, stores it under the next number of the régie and year, records a
direct-debit payment for each invoice (paid on the collection date) and moves each first-time
mandate to the recurrent sequence. The file is the only place where full IBANs leave the
database.
"""

import datetime
import logging
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from sepaxml import SepaDD
from sepaxml.validation import ValidationError as SchemaError

from billing.models import Invoice, InvoiceLine, Payment, PaymentAllocation, Regie
from billing.services import allocation_parts
from common.dates import month_name
from common.money import format_cents

from . import services
from .models import Mandate, SepaBatch

logger = logging.getLogger(__name__)

SCHEMA = "pain.008.001.02"  # the SDD Core format every French bank accepts
NUMBER_PREFIX = "PRLV"


def batch_number(regie: Regie, year: int, rank: int) -> str:
    """PRLV-PERI-2026-0001: gapless per régie and year of collection (≤ 35 characters)."""
    return f"{NUMBER_PREFIX}-{regie.invoice_prefix}-{year}-{rank:04d}"


def batch_filename(batch: SepaBatch) -> str:
    return f"{batch.number}.xml"


def batch_bytes(batch: SepaBatch) -> bytes:
    """The stored pain.008 file, exactly as exported the first time."""
    return batch.xml.encode("utf-8")


def remittance(invoice: Invoice) -> str:
    """What the family reads on its bank statement: "Facture PERI2026000123 octobre 2026"."""
    return f"Facture {invoice.number} {month_name(invoice.period_start)}"


def due_invoices(regie: Regie, collection_date: datetime.date):
    """Programmed invoices of `regie` to collect on `collection_date`: debit date reached, not
    in a batch yet, under a mandate still active."""
    return Invoice.objects.filter(
        regie=regie,
        status=Invoice.Status.DIRECT_DEBIT,
        sepa_batch__isnull=True,
        debit_date__lte=collection_date,
        mandate__status=Mandate.Status.ACTIVE,
    )


def check_collection_date(collection_date: datetime.date, today: datetime.date) -> None:
    """A new batch is collected on a TARGET business day after today."""
    if collection_date <= today:
        raise ValidationError(
            f"La date d'échéance ({collection_date:%d/%m/%Y}) doit suivre la date du jour : la "
            "banque a besoin du fichier avant le jour du prélèvement."
        )
    if not services.is_target_business_day(collection_date):
        suggestion = services.next_target_business_day(collection_date)
        raise ValidationError(
            f"Le {collection_date:%d/%m/%Y} n'est pas un jour ouvré des banques (TARGET) : "
            f"choisissez par exemple le {suggestion:%d/%m/%Y}."
        )


class _Pain008(SepaDD):
    """sepaxml's pain.008 with our identifiers: the batch number as message id, one payment
    information block per sequence (FRST, RCUR) named after it, the batch's creation time."""

    def __init__(self, config, *, message_id: str, created_at: datetime.datetime):
        self._message_id, self._created_at = message_id, created_at
        super().__init__(config, schema=SCHEMA)

    def _create_header(self):
        self.msg_id = self._message_id
        super()._create_header()
        header = self._xml.find("CstmrDrctDbtInitn").find("GrpHdr")
        header.find("CreDtTm").text = self._created_at.strftime("%Y-%m-%dT%H:%M:%S")

    def _finalize_batch(self):
        super()._finalize_batch()
        for block in self._xml.find("CstmrDrctDbtInitn").iter("PmtInf"):
            sequence = block.find("PmtTpInf").find("SeqTp").text
            block.find("PmtInfId").text = f"{self._message_id}-{sequence}"


def build_pain008(
    regie: Regie,
    *,
    message_id: str,
    created_at: datetime.datetime,
    collection_date: datetime.date,
    debits,
) -> bytes:
    """The pain.008 file of `debits` ([(invoice, mandate, cents)]), validated against the XSD
    (ValidationError in French if it does not validate)."""
    document = _Pain008(
        {
            "name": regie.name,
            "IBAN": regie.creditor_iban,
            "BIC": regie.creditor_bic,
            "batch": True,
            "creditor_id": regie.creditor_ics.replace(" ", "").upper(),
            "currency": "EUR",
            "instrument": "CORE",
        },
        message_id=message_id,
        created_at=created_at,
    )
    for invoice, mandate, cents in debits:
        document.add_payment(
            {
                "name": mandate.account_holder,
                "IBAN": mandate.iban,
                "BIC": mandate.bic,
                "amount": cents,
                "type": mandate.sequence,
                "collection_date": collection_date,
                "mandate_id": mandate.rum,
                "mandate_date": mandate.signed_on,
                "description": remittance(invoice),
                "endtoend_id": invoice.number,
            }
        )
    try:
        return document.export(validate=True)
    except SchemaError as exc:
        # Only where it failed: the error's text would quote the element, IBAN included.
        logger.error(
            "pain.008 du lot %s invalide à %s", message_id, getattr(exc.__cause__, "path", "?")
        )
        raise ValidationError(
            "Le fichier de prélèvement ne respecte pas le schéma pain.008 : vérifiez les "
            "coordonnées de créancier de la régie et les mandats concernés."
        ) from exc


def _claim_due_invoices(regie, collection_date, *, by, now) -> SepaBatch:
    """A new numbered batch of `regie` for `collection_date`, with the programmed invoices due
    then claimed for it (the caller holds the régie's lock). ValidationError when none is due."""
    ids = list(due_invoices(regie, collection_date).order_by("number").values_list("pk", flat=True))
    if not ids:
        raise ValidationError(
            f"Aucune facture à prélever au {collection_date:%d/%m/%Y} pour la {regie.name} : "
            "aucun lot n'est créé.",
            code="empty",
        )
    number = batch_number(regie, collection_date.year, _next_rank(regie, collection_date.year))
    batch = SepaBatch.objects.create(
        regie=regie,
        number=number,
        collection_date=collection_date,
        message_id=number,
        xml="",
        created_at=now,
        created_by=by,
    )
    claimed = Invoice.objects.filter(
        pk__in=ids, sepa_batch__isnull=True, status=Invoice.Status.DIRECT_DEBIT
    ).update(sepa_batch=batch)
    if claimed != len(ids):  # only if the régie's lock did not hold: start again later
        raise ValidationError("Un autre export de prélèvements est en cours : réessayez.")
    return batch


def _mandates_now_recurrent(batch: SepaBatch, mandates, *, now) -> None:
    """The mandates whose first debit is in `batch` go on with recurrent debits (RCUR)."""
    first_time = {
        mandate.pk: mandate for mandate in mandates if mandate.sequence == Mandate.Sequence.FIRST
    }
    if not first_time:
        return
    for mandate in first_time.values():
        mandate.sequence = Mandate.Sequence.RECURRENT
    Mandate.objects.filter(pk__in=list(first_time)).update(sequence=Mandate.Sequence.RECURRENT)
    Mandate.history.bulk_history_create(
        list(first_time.values()),
        default_date=now,
        default_change_reason=f"Premier prélèvement remis dans le lot {batch.number}",
    )


def _record_debits(batch: SepaBatch, debits, *, by, now) -> None:
    """A direct-debit payment of each claimed invoice (paid on the collection date, allocated
    to its lines as a counter payment would be), and the invoices paid: a few statements for
    the whole batch (the invoices are claimed, nothing else can pay them meanwhile)."""
    payments = Payment.objects.bulk_create(
        Payment(
            invoice=invoice,
            amount_cents=cents,
            paid_on=batch.collection_date,
            means=Payment.Means.DIRECT_DEBIT,
            reference=f"Lot {batch.number}",
            recorded_by=by,
            recorded_at=now,
        )
        for invoice, _, cents in debits
    )
    lines = defaultdict(list)
    for line in (
        InvoiceLine.objects.filter(invoice__sepa_batch=batch)
        .annotate(allocated=Coalesce(Sum("allocations__amount_cents"), 0))
        .order_by("invoice_id", "position")
    ):
        lines[line.invoice_id].append(line)
    PaymentAllocation.objects.bulk_create(
        (
            part
            for payment in payments
            for part in allocation_parts(payment, lines[payment.invoice_id])
        ),
        batch_size=2000,
    )
    invoices = [invoice for invoice, _, _ in debits]
    for invoice in invoices:
        invoice.set_status(Invoice.Status.PAID, now=now)
    Invoice.objects.filter(pk__in=[invoice.pk for invoice in invoices]).update(
        status=Invoice.Status.PAID, paid_at=now
    )
    Invoice.history.bulk_history_create(
        invoices, default_date=now, default_change_reason=f"Prélevée (lot {batch.number})"
    )


def _next_rank(regie: Regie, year: int) -> int:
    """The next rank of the régie's batches of `year` (the caller holds the régie's lock)."""
    prefix = batch_number(regie, year, 0)[:-4]
    return SepaBatch.objects.filter(regie=regie, number__startswith=prefix).count() + 1


def create_batch(
    *, regie: Regie, collection_date: datetime.date, by=None, today: datetime.date
) -> SepaBatch:
    """The batch of `regie` for `collection_date`: the existing one, unchanged, or a new one
    that claims the invoices due by that date (see the module's docstring). The returned batch
    has `was_created` set. ValidationError (in French) when there is nothing to collect, the
    date does not suit, or the régie lacks its creditor details."""
    try:
        return _create_batch(regie=regie, collection_date=collection_date, by=by, today=today)
    except IntegrityError:
        # Where the régie's lock does not hold (SQLite), a concurrent export may have created
        # the batch of that date first: it is the answer.
        existing = SepaBatch.objects.filter(regie=regie, collection_date=collection_date).first()
        if existing is None:
            raise
        existing.was_created = False
        return existing


def _create_batch(*, regie, collection_date, by, today) -> SepaBatch:
    with transaction.atomic():
        regie = Regie.objects.select_for_update().get(pk=regie.pk)
        existing = SepaBatch.objects.filter(regie=regie, collection_date=collection_date).first()
        if existing is not None:
            existing.was_created = False
            return existing
        check_collection_date(collection_date, today)
        error = services.creditor_error(regie)
        if error is not None:
            raise error
        now = timezone.now()
        batch = _claim_due_invoices(regie, collection_date, by=by, now=now)
        invoices = list(
            Invoice.objects.filter(sepa_batch=batch)
            .select_related("mandate")
            .with_paid()
            .order_by("number")
        )
        debits = [(invoice, invoice.mandate, invoice.due_cents()) for invoice in invoices]
        xml = build_pain008(
            regie,
            message_id=batch.message_id,
            created_at=timezone.localtime(now),
            collection_date=collection_date,
            debits=debits,
        )
        _record_debits(batch, debits, by=by, now=now)
        _mandates_now_recurrent(batch, [mandate for _, mandate, _ in debits], now=now)
        batch.xml = xml.decode("utf-8")
        batch.invoice_count = len(debits)
        batch.total_cents = sum(cents for _, _, cents in debits)
        batch.save(update_fields=["xml", "invoice_count", "total_cents"])
    logger.info(
        "Lot %s : %d prélèvement(s), %s au %s",
        batch.number,
        batch.invoice_count,
        format_cents(batch.total_cents),
        collection_date,
    )
    batch.was_created = True
    return batch
