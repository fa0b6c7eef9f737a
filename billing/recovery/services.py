"""Unpaid invoices after the fact: the reminders some days before the due date (each batch's
e-mails leave together through `billing.recovery.reminders`) and the switch to "mise en
recouvrement" once the due date has passed. What the régisseur reads is
`billing.recovery.selectors`.

Both night jobs claim their invoices (`UPDATE … WHERE status = 'impayee'` on rows locked in
primary-key order), batch by batch, and write the history rows themselves (a bulk update
bypasses simple_history): a second run, or two runs at once, finds nothing left to claim, so no
invoice is switched, reminded or notified twice.

The régisseur then hands the invoices in recovery over to the Trésor Public on numbered lists
(`handover_create`).
"""

import datetime
import functools
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from billing.card.models import PaymentIssue
from billing.card.sessions import expire_open_sessions
from billing.invoicing import lock_sequence
from billing.models import Invoice, NumberSequence
from billing.notices import invoices_label
from common import outbox
from common.emails import absolute_url
from exchanges.services import Notice, notices_send

from .models import RecoveryHandover, RecoveryHandoverLine
from .reminders import send_payment_reminders_batch

logger = logging.getLogger(__name__)

BATCH_SIZE = 200


# Switch to recovery ---------------------------------------------------------------------------


@dataclass
class RecoveryResult:
    """What one run of the switch did."""

    invoice_ids: list = field(default_factory=list)
    family_ids: set = field(default_factory=set)
    due_cents: int = 0  # what is left to pay on the switched invoices

    @property
    def count(self) -> int:
        return len(self.invoice_ids)


def switch_to_recovery(
    *, today: datetime.date, invoices=None, notify: bool = True, batch_size: int = BATCH_SIZE
) -> RecoveryResult:
    """Move every invoice still impayée whose due date is before `today` to "mise en
    recouvrement" (recovery_date = today), tell each family (a message in Échanges, which is
    e-mailed), and expire the invoices' open card-payment sessions once committed. Never a paid,
    cancelled or programmed-debit invoice. `invoices` narrows the candidates (the demo data)."""
    candidates = (
        (invoices if invoices is not None else Invoice.objects.all())
        .filter(status=Invoice.Status.UNPAID, due_date__lt=today)
        .exclude(pk__in=_awaiting_review())
    )
    ids = list(candidates.order_by("pk").values_list("pk", flat=True))
    result = RecoveryResult()
    for start in range(0, len(ids), batch_size):
        for invoice in _switch_batch(ids[start : start + batch_size], today, notify=notify):
            result.invoice_ids.append(invoice.pk)
            result.family_ids.add(invoice.family_id)
            result.due_cents += invoice.due_cents()
    return result


def _awaiting_review():
    """Invoices for which money arrived that the régisseur has not looked at yet (a card
    payment of another amount): they wait for that decision instead of going to the Trésor
    Public, which would make the family pay twice."""
    return PaymentIssue.objects.filter(
        kind=PaymentIssue.Kind.AMOUNT_MISMATCH, resolved_at__isnull=True
    ).values("invoice_id")


def _claim(ids: list[int], **conditions) -> list[Invoice]:
    """Lock (in primary-key order) the invoices of `ids` that still meet `conditions`: a run
    that comes second waits for the first one's commit, then finds them changed."""
    return list(
        Invoice.objects.select_for_update(of=("self",))
        .filter(pk__in=ids, **conditions)
        .select_related("regie", "family")
        .with_paid()
        .order_by("pk")
    )


def _update_claimed(claimed: list[Invoice], condition: dict, changes: dict, reasons) -> None:
    """Apply `changes` to the claimed rows with one UPDATE guarded by `condition`, and write
    their history rows (with a change reason each). The rows are locked, so the UPDATE changes
    exactly them; if it did not (a database that ignores row locks), the batch is rolled back
    rather than acted on twice."""
    updated = Invoice.objects.filter(
        pk__in=[invoice.pk for invoice in claimed], **condition
    ).update(**changes)
    if updated != len(claimed):
        raise RuntimeError(f"{len(claimed)} factures réservées, {updated} modifiées : lot annulé.")
    now = timezone.now()
    for invoice in claimed:
        for name, value in changes.items():
            setattr(invoice, name, value)
        invoice._change_reason = reasons(invoice)[:100]
    Invoice.history.bulk_history_create(claimed, update=True, default_date=now)


@transaction.atomic
def _switch_batch(ids: list[int], today: datetime.date, *, notify: bool) -> list[Invoice]:
    unpaid = {"status": Invoice.Status.UNPAID}
    claimed = _claim(ids, due_date__lt=today, **unpaid)
    if not claimed:
        return []
    _update_claimed(
        claimed,
        unpaid,
        {"status": Invoice.Status.RECOVERY, "recovery_date": today},
        lambda invoice: (
            f"Mise en recouvrement : date limite du {invoice.due_date:%d/%m/%Y} dépassée"
        ),
    )
    if notify:
        notices_send(
            [recovery_notice(invoice) for invoice in claimed],
            label=f"E-mails des mises en recouvrement {invoices_label(claimed)}",
        )
    transaction.on_commit(
        # The card-payment pages still open for invoices now in recovery close (a payment that
        # still arrives is recorded and flagged by the webhook).
        functools.partial(expire_open_sessions, [invoice.pk for invoice in claimed]),
        robust=True,
    )
    return claimed


def recovery_notice(invoice: Invoice) -> Notice:
    """What the family is told, in a thread of its own about the invoice (its subject is what
    the e-mail's subject shows): the invoice is in recovery, no more payment on the portal, the
    Trésor Public will write to them. The guardians get it by e-mail once committed."""
    return Notice(
        family=invoice.family,
        subject=f"Votre facture {invoice.number} est mise en recouvrement",
        body=render_to_string(
            "billing/messages/recovery.txt",
            {
                "invoice": invoice,
                "due_cents": invoice.due_cents(),
                "url": absolute_url(invoice.get_absolute_url()),
            },
        ).strip(),
        related=invoice,
    )


# Reminder before the due date -----------------------------------------------------------------


def reminder_window(today: datetime.date, days: int | None = None):
    """The due dates a reminder goes out for on `today`: from today to today + N days
    (PAYMENT_REMINDER_DAYS)."""
    days = settings.PAYMENT_REMINDER_DAYS if days is None else days
    return today, today + datetime.timedelta(days=days)


def send_payment_reminders(
    *, today: datetime.date, days: int | None = None, batch_size: int = BATCH_SIZE
) -> list[int]:
    """Claim every impayée invoice due within the reminder window and not reminded yet
    (reminder_sent_at), and e-mail one reminder for each once committed (one task per batch).
    Not a programmed debit (the bank collects it), nor a paid, cancelled or recovery one.
    Returns the invoice ids."""
    start, end = reminder_window(today, days)
    ids = list(
        Invoice.objects.filter(
            status=Invoice.Status.UNPAID,
            reminder_sent_at__isnull=True,
            due_date__range=(start, end),
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    reminded = []
    for first in range(0, len(ids), batch_size):
        reminded += _remind_batch(ids[first : first + batch_size], start, end)
    return reminded


@transaction.atomic
def _remind_batch(ids: list[int], start: datetime.date, end: datetime.date) -> list[int]:
    condition = {"status": Invoice.Status.UNPAID, "reminder_sent_at__isnull": True}
    claimed = _claim(ids, due_date__range=(start, end), **condition)
    if not claimed:
        return []
    _update_claimed(
        claimed,
        condition,
        {"reminder_sent_at": timezone.now()},
        lambda invoice: f"Rappel de paiement envoyé (date limite du {invoice.due_date:%d/%m/%Y})",
    )
    outbox.enqueue(
        send_payment_reminders_batch.name,
        [invoice.pk for invoice in claimed],
        label=f"Rappels de paiement {invoices_label(claimed)}",
    )
    return [invoice.pk for invoice in claimed]


# Hand-over lists to the Trésor Public --------------------------------------------------------


def handover_number(regie, year: int, rank: int) -> str:
    """BT-PERI-2026-0001: gapless per régie and year (like the SEPA batches' PRLV-PERI-…)."""
    return f"BT-{regie.invoice_prefix}-{year}-{rank:04d}"


@transaction.atomic
def handover_create(
    *, regie, by, today: datetime.date, invoice_ids: list[int] | None = None
) -> RecoveryHandover:
    """Draw up the next numbered hand-over list of `regie` with its invoices still to hand
    over (`invoice_ids`: exactly those, each of which must still be; None: all of them), each
    with what is left due today. Raises ValidationError when there is nothing to hand over or a
    chosen invoice is no longer to hand over.

    The régie's counter for the year is locked first: a second régisseur clicking at the same
    moment waits for this list's commit, then finds its invoices handed over (so no invoice is
    on two lists, which the database's unique constraint also forbids), and a refused list
    gives its number back."""
    sequence = lock_sequence(regie, NumberSequence.Kind.HANDOVER, today.year)
    candidates = Invoice.objects.filter(regie=regie, status=Invoice.Status.RECOVERY)
    if invoice_ids is not None:
        candidates = candidates.filter(pk__in=invoice_ids)
    invoices = list(
        candidates.select_for_update(of=("self",))
        .filter(handover_lines__isnull=True)
        .with_paid()
        .order_by("recovery_date", "number")
    )
    if invoice_ids is not None and len(invoices) != len(set(invoice_ids)):
        raise ValidationError(
            "Une partie des factures cochées n'est plus à transmettre (déjà sur un bordereau, "
            "ou d'une autre régie) : rechargez la liste et recommencez."
        )
    if not invoices:
        raise ValidationError(f"Aucune facture de la {regie.name} n'est à transmettre.")
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    handover = RecoveryHandover.objects.create(
        regie=regie,
        number=handover_number(regie, today.year, sequence.last_number),
        created_by=by,
        invoice_count=len(invoices),
        total_cents=sum(invoice.due_cents() for invoice in invoices),
    )
    RecoveryHandoverLine.objects.bulk_create(
        RecoveryHandoverLine(
            handover=handover, invoice=invoice, position=position, due_cents=invoice.due_cents()
        )
        for position, invoice in enumerate(invoices, start=1)
    )
    return handover
