"""Demo and bench invoices (used by seed_demo and seed_bench).

The demo families get real invoices, issued by the invoicing service from real bookings: the
month before last paid, last month unpaid (and, for each family, one invoice cancelled by a
credit note and reissued), and for the parent the tutorial's November invoice of 30,00 €, left
unpaid past its due date and therefore "mise en recouvrement" (as the night job leaves it).
"""

import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from common.bulk import insert_rows
from families.models import SchoolYear
from reservations.calendar import ServiceCalendar, days_between
from reservations.models import Booking, Slot

from .directdebit.demo import collect_due_debits, ensure_direct_debit, seed_mandates
from .invoicing import Biller, add_months, issue_invoices
from .models import Invoice, Payment, Regie, month_end
from .reference import ensure_billing_reference
from .services import invoice_cancel, invoice_reissue, payment_record

# Créneaux each demo child uses in the invoiced months: {first name: {slot code: ISO weekdays}}.
MONTH_PATTERNS = {
    "Léa": {"matin": {1, 2, 4, 5}, "soir-1": {2, 4}, "mercredi": {3}},
    "Lalo": {"soir-2": {1, 4}, "mercredi": {3}},
    "Nina": {"soir-1": {1, 2, 4, 5}, "mercredi": {3}},
}
TUTORIAL_CHILD, TUTORIAL_SLOT, TUTORIAL_DAYS = "Lalo", "matin", 15  # 15 × 2,00 € = 30,00 €


def last_invoiced_month(today: datetime.date, regie: Regie) -> datetime.date:
    """The latest month whose invoices are out on `today` (last month from its issue day on)."""
    month = add_months(today, -1)
    return month if today >= regie.issue_date_for(month) else add_months(month, -1)


def tutorial_month(before: datetime.date) -> datetime.date:
    """The latest November strictly before the month `before`."""
    year = before.year if before.month > 11 else before.year - 1
    return datetime.date(year, 11, 1)


def _book_month(children, patterns, month, today, calendar):
    slots = {slot.code: slot for slot in Slot.objects.all()}
    rows = []
    for child in children:
        for day in days_between(month, month_end(month)):
            for code, weekdays in patterns.get(child.first_name, {}).items():
                slot = slots[code]
                if day.isoweekday() in weekdays and calendar.runs(day, slot, child.school_id):
                    rows.append(
                        Booking(
                            child=child,
                            family_id=child.family_id,
                            slot=slot,
                            date=day,
                            school_id=child.school_id,
                            presence=Booking.Presence.PRESENT
                            if day < today
                            else Booking.Presence.RESERVED,
                        )
                    )
    insert_rows(Booking, rows, ignore_conflicts=True)  # days the reservations demo booked stay


def _book_tutorial(child, month, calendar):
    slot = Slot.objects.get(code=TUTORIAL_SLOT)
    days = [
        day
        for day in days_between(month, month_end(month))
        if calendar.runs(day, slot, child.school_id)
    ]
    insert_rows(
        Booking,
        [
            Booking(
                child=child,
                family_id=child.family_id,
                slot=slot,
                date=day,
                school_id=child.school_id,
                presence=Booking.Presence.PRESENT,
            )
            for day in days[:TUTORIAL_DAYS]
        ],
        ignore_conflicts=True,
    )


def _invoice(family, regie, month):
    return Invoice.objects.live().filter(family=family, regie=regie, period_start=month).first()


@transaction.atomic
def seed_invoices(families: dict, today: datetime.date) -> int:
    """Invoices in each state for the demo families (`{"parent": …, "voisin": …}`). Idempotent:
    nothing is done for a family that already has invoices."""
    from django.contrib.auth import get_user_model

    demo_families = list(families.values())
    ensure_direct_debit()
    families = {
        key: family
        for key, family in families.items()
        if not Invoice.objects.filter(family=family).exists()
    }
    if not families:
        seed_recovery(demo_families, today)
        return 0
    regies = ensure_billing_reference(list(SchoolYear.objects.all()))
    periscolaire, alai = regies["periscolaire"], regies["alai"]
    regisseur = get_user_model().objects.filter(email="regisseur@example.org").first()
    seed_mandates(families.values())  # before the invoices: theirs are programmed debits
    last = last_invoiced_month(today, periscolaire)
    before = add_months(last, -1)
    november = tutorial_month(before)
    calendar = ServiceCalendar(november, month_end(last))
    for key, family in families.items():
        children = [child for child in family.children.all() if child.school_id]
        for month in (before, last):
            _book_month(children, MONTH_PATTERNS, month, today, calendar)
        tutorial_child = next((c for c in children if c.first_name == TUTORIAL_CHILD), None)
        if key == "parent" and tutorial_child is not None:
            _book_tutorial(tutorial_child, november, calendar)
    family_ids = [family.pk for family in families.values()]
    issued = 0
    # Month by month, so that numbers follow the dates of issue.
    for month in (november, before, last):
        for regie in (periscolaire, alai):
            issued += len(
                issue_invoices(
                    regie=regie,
                    month=month,
                    today=regie.issue_date_for(month),
                    family_ids=family_ids,
                    notify=False,
                )
            )
    for family in families.values():
        # The month before last is paid: by card (périscolaire) and by cheque (Alaï).
        for regie, means, reference in (
            (periscolaire, Payment.Means.CARD, "Paiement en ligne"),
            (alai, Payment.Means.CHEQUE, "Chèque n° 4521087"),
        ):
            invoice = _invoice(family, regie, before)
            if invoice is not None and invoice.status == Invoice.Status.UNPAID:
                paid_on = min(invoice.issue_date + datetime.timedelta(days=6), today)
                payment_record(
                    invoice=invoice,
                    amount_cents=invoice.total_cents,
                    paid_on=paid_on,
                    means=means,
                    reference=reference,
                    by=regisseur,
                )
        # Last month's Alaï invoice had a mistake: cancelled by a credit note, then reissued.
        invoice = _invoice(family, alai, last)
        if invoice is not None:
            cancelled_on = min(invoice.issue_date + datetime.timedelta(days=2), today)
            invoice_cancel(
                invoice=invoice,
                reason="Adresse du payeur erronée : facture rectifiée.",
                by=regisseur,
                today=cancelled_on,
            )
            invoice_reissue(invoice=invoice, by=regisseur, today=cancelled_on)
            issued += 1
    # The month before last under direct debit was collected; last month's is programmed.
    collect_due_debits(families.values(), before=last, by=regisseur)
    seed_recovery(demo_families, today)
    return issued


def seed_recovery(families, today: datetime.date) -> int:
    """What the night job did for the demo families' invoices left unpaid past their due date
    (the parent's tutorial November invoice): each was put in recovery the day after its due
    date, and the family told then (a message read since, dated that night). Idempotent, and
    the night job finds nothing more to do afterwards."""
    from exchanges.models import Message, Thread

    from .recovery.services import switch_to_recovery

    demo_invoices = Invoice.objects.filter(family__in=families)
    overdue = demo_invoices.filter(status=Invoice.Status.UNPAID, due_date__lt=today)
    switched = 0
    for due_date in sorted(set(overdue.values_list("due_date", flat=True))):
        night = due_date + datetime.timedelta(days=1)
        result = switch_to_recovery(today=night, invoices=demo_invoices.filter(due_date=due_date))
        when = timezone.make_aware(datetime.datetime.combine(night, datetime.time(1, 15)))
        threads = Thread.objects.filter(
            related_type=ContentType.objects.get_for_model(Invoice),
            related_id__in=result.invoice_ids,
            subject__contains="mise en recouvrement",
        )
        Message.objects.filter(thread__in=threads).update(created_at=when)
        threads.update(created_at=when, last_message_at=when, family_unread=False)
        switched += result.count
    return switched


def seed_bench_invoices(today: datetime.date) -> int:
    """Invoice, for every family, the months of the current school year before last month, so
    that the bench times last month's run as on a real 10th (earlier months invoiced). Families
    already invoiced are skipped: a second call issues nothing."""
    regies = ensure_billing_reference(list(SchoolYear.objects.all()))
    year = SchoolYear.objects.current(today)
    issued = 0
    for regie in regies.values():
        month = year.start_date.replace(day=1)
        while month < add_months(today, -1):
            family_ids = Biller(regie).candidate_families(month)
            issued += len(
                issue_invoices(
                    regie=regie,
                    month=month,
                    today=regie.issue_date_for(month),
                    family_ids=family_ids,
                    notify=False,
                )
            )
            month = add_months(month, 1)
    return issued
