"""The monthly invoicing: what a month bills, numbering, idempotence, regularisations."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.invoicing import Biller, due_runs, invoice_due_months, invoicing_run
from billing.models import Invoice, InvoiceLine, InvoicingRun, Tariff
from billing.services import invoice_cancel, invoice_reissue
from exchanges.models import Thread
from reservations.models import Booking, Closure
from reservations.services import absence_decide, closure_apply

from .conftest import ISSUE_DAY, NOVEMBER, OCTOBER, book, make_family, school_days

pytestmark = pytest.mark.django_db

DEC_10 = datetime.date(2026, 12, 10)


def run(regies, slug="periscolaire", month=OCTOBER, today=ISSUE_DAY, **kwargs):
    return invoicing_run(regie=regies[slug], month=month, today=today, **kwargs)


def only_invoice(family, slug="periscolaire", month=OCTOBER):
    return Invoice.objects.live().get(family=family, regie__slug=slug, period_start=month)


def test_lines_per_child_and_creneau_with_exact_totals(regies, slots, today):
    """A month bills each child's bookings grouped by créneau: quantity × unit price, in cents."""
    family = make_family(qf=850, children=2)
    lea, lalo = (
        family.children.order_by("first_name", "pk")[1],
        family.children.order_by("first_name")[0],
    )
    for day in school_days(OCTOBER, count=7):
        book(lea, slots["matin"], day)
    for day in school_days(OCTOBER, count=3):
        book(lea, slots["soir-1"], day)
        book(lalo, slots["soir-2"], day)

    run(regies)

    invoice = only_invoice(family)
    lines = [
        (line.label, line.quantity, line.unit_price_cents, line.amount_cents)
        for line in invoice.lines.order_by("position")
    ]
    assert sorted(lines) == sorted(
        [
            ("Léa — Matin 07h20-08h20", 7, 200, 1400),
            ("Léa — soir 1 : 16h30 à 17h30", 3, 210, 630),
            ("Lalo — soir 2 : 17h30 à 18h30", 3, 180, 540),
        ]
    )
    assert invoice.total_cents == 2570
    assert invoice.status == Invoice.Status.UNPAID
    assert invoice.period_label == "Du 01/10/2026 au 31/10/2026"
    assert invoice.issue_date == ISSUE_DAY
    assert invoice.due_date == ISSUE_DAY + datetime.timedelta(days=30)


def test_each_regie_bills_only_its_own_activities(regies, slots, today):
    """Alaï bills the Wednesdays, the périscolaire régie the mornings and evenings."""
    family = make_family()
    child = family.children.get()
    book(child, slots["matin"], datetime.date(2026, 10, 5))
    book(child, slots["mercredi"], datetime.date(2026, 10, 7))

    run(regies, "periscolaire")
    run(regies, "alai")

    assert only_invoice(family, "periscolaire").total_cents == 200
    assert only_invoice(family, "alai").total_cents == 1250
    assert only_invoice(family, "alai").number == "ALAI2026000001"
    assert only_invoice(family, "periscolaire").number == "PERI2026000001"


def test_expired_quotient_pays_the_top_bracket(regies, slots, today):
    """A QF past its validity date on the day of care is billed at the top bracket."""
    family = make_family(qf=300, valid_until=datetime.date(2026, 10, 15))
    child = family.children.get()
    book(child, slots["matin"], datetime.date(2026, 10, 12))  # QF valid: 1,10 €
    book(child, slots["matin"], datetime.date(2026, 10, 19))  # expired: top bracket, 3,00 €
    no_qf = make_family("SANSQF", qf=None)
    book(no_qf.children.get(), slots["matin"], datetime.date(2026, 10, 12))

    run(regies)

    assert sorted(only_invoice(family).lines.values_list("unit_price_cents", flat=True)) == [
        110,
        300,
    ]
    assert only_invoice(family).total_cents == 410
    assert only_invoice(no_qf).total_cents == 300


def test_excused_absences_closures_and_cancellations_are_not_billed(regies, slots, today):
    """Only billable bookings count: excused absences, closures and cancellations are left out."""
    family = make_family()
    child = family.children.get()
    days = school_days(OCTOBER, count=5)
    book(child, slots["matin"], days[0])
    book(child, slots["matin"], days[1], presence=Booking.Presence.EXCUSED)
    book(child, slots["matin"], days[2], status=Booking.Status.CANCELLED_BY_CLOSURE)
    book(child, slots["matin"], days[3], status=Booking.Status.CANCELLED)
    book(child, slots["matin"], days[4], presence=Booking.Presence.ABSENT)  # not excused: billed

    run(regies)

    line = only_invoice(family).lines.get()
    assert (line.quantity, line.amount_cents) == (2, 400)


def test_walk_in_pays_the_tariff_plus_the_surcharge(regies, slots, today):
    """A walk-in is billed at the tariff on its own line, and the surcharge on another."""
    family = make_family()
    child = family.children.get()
    book(child, slots["soir-1"], datetime.date(2026, 10, 5))
    book(
        child,
        slots["soir-1"],
        datetime.date(2026, 10, 6),
        origin=Booking.Origin.WALK_IN,
        presence=Booking.Presence.PRESENT,
    )

    run(regies)

    lines = {line.kind: line for line in only_invoice(family).lines.all()}
    assert lines[InvoiceLine.Kind.BOOKING].amount_cents == 210
    assert lines[InvoiceLine.Kind.WALK_IN].amount_cents == 210
    assert lines[InvoiceLine.Kind.SURCHARGE].amount_cents == 100
    assert lines[InvoiceLine.Kind.SURCHARGE].is_surcharge
    assert only_invoice(family).total_cents == 520


def test_no_invoice_when_nothing_is_billable(regies, slots, today):
    """A family whose bookings were all cancelled gets no invoice, and is counted as skipped."""
    family = make_family()
    book(
        family.children.get(),
        slots["matin"],
        datetime.date(2026, 10, 5),
        status=Booking.Status.CANCELLED,
    )

    result = run(regies)

    assert not Invoice.objects.filter(family=family).exists()
    assert (result.families_seen, result.invoices_issued, result.skipped) == (1, 0, 1)


def test_running_twice_issues_nothing_more(regies, slots, today):
    """A second run finds every family invoiced: same invoices, same numbers, nothing new."""
    families = [make_family(f"F{index}") for index in range(3)]
    for family in families:
        book(family.children.get(), slots["matin"], datetime.date(2026, 10, 5))

    first = run(regies)
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    second = run(regies)

    assert numbers == ["PERI2026000001", "PERI2026000002", "PERI2026000003"]
    assert sorted(Invoice.objects.values_list("number", flat=True)) == numbers
    assert (first.invoices_issued, first.status) == (3, InvoicingRun.Status.DONE)
    assert (second.invoices_issued, second.skipped, second.families_seen) == (0, 3, 3)


def test_queries_grow_with_batches_not_with_families(regies, slots, today):
    """A batch costs the same number of queries for 2 families or for 12."""

    def queries_for(count, month):
        for index in range(count):
            family = make_family(f"Q{month.month}-{index}")
            for day in school_days(month, count=3):
                book(family.children.get(), slots["matin"], day)
        with CaptureQueriesContext(connection) as queries:
            invoicing_run(
                regie=regies["periscolaire"],
                month=month,
                today=datetime.date(2026, 12, 10),
                notify=False,
                batch_size=50,
            )
        return len(queries)

    assert queries_for(2, OCTOBER) == queries_for(12, NOVEMBER)


def test_a_month_not_over_cannot_be_invoiced(regies, today):
    """Invoicing the current month is refused."""
    with pytest.raises(ValidationError, match="n'est pas terminé"):
        run(regies, month=NOVEMBER, today=datetime.date(2026, 11, 26))


def test_missing_grid_fails_the_run_before_any_invoice(regies, slots, today):
    """Without a grid for a booked créneau, the run fails, says why and issues nothing."""
    family = make_family()
    book(family.children.get(), slots["soir-2"], datetime.date(2026, 10, 5))
    book(make_family("AUTRE").children.get(), slots["matin"], datetime.date(2026, 10, 5))
    Tariff.objects.filter(slot=slots["soir-2"], school_year__label="2026-2027").delete()

    with pytest.raises(ValidationError):
        run(regies)

    assert not Invoice.objects.exists()
    failed = InvoicingRun.objects.get()
    assert failed.status == InvoicingRun.Status.FAILED
    assert "soir 2" in failed.error


def test_each_invoice_is_announced_once_by_message_and_email(
    regies, slots, today, django_capture_on_commit_callbacks
):
    """The family gets a message "Votre facture … est disponible" in Échanges, e-mailed too."""
    family = make_family()
    book(family.children.get(), slots["matin"], datetime.date(2026, 10, 5))

    with django_capture_on_commit_callbacks(execute=True):
        run(regies)

    invoice = only_invoice(family)
    thread = Thread.objects.get(family=family)
    assert thread.subject == f"Votre facture {invoice.number} est disponible"
    assert thread.teleservice == "Régie de recette périscolaire municipale"
    assert "2,00 €" in thread.messages.get().body
    assert [message.to for message in mail.outbox] == [[family.guardians.get().user.email]]
    from billing.notices import notify_invoice_issued

    assert notify_invoice_issued(invoice.pk) is False  # a task run again sends nothing
    assert thread.messages.count() == 1


def test_issued_invoice_never_changes(regies, slots, today):
    """Changing a booking after the invoice leaves the invoice and its lines as issued."""
    family = make_family()
    booking = book(family.children.get(), slots["matin"], datetime.date(2026, 10, 5))
    run(regies)
    before = list(only_invoice(family).lines.values())

    Booking.objects.filter(pk=booking.pk).update(presence=Booking.Presence.EXCUSED)

    assert list(only_invoice(family).lines.values()) == before
    assert only_invoice(family).total_cents == 200


def test_late_excuse_becomes_a_negative_regularisation_on_the_next_invoice(
    regies, slots, today, django_user_model
):
    """An absence excused after October's invoice is given back, dated, on November's."""
    from reservations.models import Absence

    family = make_family()
    child = family.children.get()
    monday, tuesday = datetime.date(2026, 10, 5), datetime.date(2026, 10, 6)
    book(child, slots["matin"], monday)
    late = book(child, slots["matin"], tuesday, presence=Booking.Presence.ABSENT)
    run(regies)
    absence = Absence.objects.create(
        child=child, start_date=tuesday, end_date=tuesday, reason="Grippe"
    )
    Booking.objects.filter(pk=late.pk).update(absence=absence)
    absence_decide(
        absence=absence,
        excused=True,
        by=django_user_model.objects.create(email="office@example.org"),
    )
    book(child, slots["matin"], datetime.date(2026, 11, 2))
    book(child, slots["soir-1"], datetime.date(2026, 11, 2))

    run(regies, month=NOVEMBER, today=DEC_10)

    november = only_invoice(family, month=NOVEMBER)
    regularisation = november.lines.get(kind=InvoiceLine.Kind.REGULARISATION)
    assert regularisation.label == (
        "Régularisation du 06/10/2026 — Léa — Matin 07h20-08h20 : absence excusée"
    )
    assert (
        regularisation.quantity,
        regularisation.unit_price_cents,
        regularisation.amount_cents,
    ) == (-1, 200, -200)
    assert regularisation.service_date == tuesday
    assert november.total_cents == 200 + 210 - 200
    assert only_invoice(family).total_cents == 400  # October's invoice is untouched


def test_a_regularisation_larger_than_the_month_waits_for_a_later_invoice(regies, slots, today):
    """When the credit exceeds the month, no invoice is issued; the credit goes on a later one."""
    family = make_family()
    child = family.children.get()
    excused = [book(child, slots["soir-1"], day) for day in school_days(OCTOBER, count=3)]
    run(regies)
    Booking.objects.filter(pk__in=[b.pk for b in excused]).update(presence=Booking.Presence.EXCUSED)
    book(child, slots["matin"], datetime.date(2026, 11, 2))

    run(regies, month=NOVEMBER, today=DEC_10)
    assert not Invoice.objects.filter(period_start=NOVEMBER).exists()
    for day in school_days(datetime.date(2026, 12, 1), count=5):
        book(child, slots["soir-1"], day)
    run(regies, month=datetime.date(2026, 12, 1), today=datetime.date(2027, 1, 10))

    december = Invoice.objects.get(period_start=datetime.date(2026, 12, 1))
    assert december.total_cents == 5 * 210 + 200 - 3 * 210
    assert december.lines.filter(kind=InvoiceLine.Kind.REGULARISATION).count() == 4


def test_a_regularisation_is_made_once(regies, slots, today):
    """Once given back on one invoice, a late change is not regularised again."""
    family = make_family()
    child = family.children.get()
    booking = book(child, slots["matin"], datetime.date(2026, 10, 5))
    book(child, slots["matin"], datetime.date(2026, 10, 6))
    run(regies)
    Booking.objects.filter(pk=booking.pk).update(presence=Booking.Presence.EXCUSED)
    for day in (datetime.date(2026, 11, 2), datetime.date(2026, 11, 3)):
        book(child, slots["matin"], day)
    run(regies, month=NOVEMBER, today=DEC_10)
    book(child, slots["matin"], datetime.date(2026, 12, 1))

    run(regies, month=datetime.date(2026, 12, 1), today=datetime.date(2027, 1, 10))

    december = Invoice.objects.get(family=family, period_start=datetime.date(2026, 12, 1))
    assert not december.lines.filter(kind=InvoiceLine.Kind.REGULARISATION).exists()
    assert december.number == "PERI2027000001"  # a new year starts a new sequence


def test_changes_after_invoicing_are_regularised_both_ways(regies, slots, today, django_user_model):
    """A closure gives a booking back; a walk-in added late is billed with its surcharge."""
    family = make_family()
    child = family.children.get()
    closed = book(child, slots["soir-1"], datetime.date(2026, 10, 8))
    book(child, slots["soir-1"], datetime.date(2026, 10, 9))
    run(regies)
    closure = Closure.objects.create(
        start_date=datetime.date(2026, 10, 8), end_date=datetime.date(2026, 10, 8), reason="Grève"
    )
    closure_apply(closure=closure)
    book(
        child,
        slots["matin"],
        datetime.date(2026, 10, 9),
        origin=Booking.Origin.WALK_IN,
        presence=Booking.Presence.PRESENT,
    )
    book(child, slots["matin"], datetime.date(2026, 11, 2))

    run(regies, month=NOVEMBER, today=DEC_10)

    regularisations = {
        (line.label, line.amount_cents)
        for line in only_invoice(family, month=NOVEMBER).lines.filter(
            kind=InvoiceLine.Kind.REGULARISATION
        )
    }
    assert regularisations == {
        ("Régularisation du 08/10/2026 — Léa — soir 1 : 16h30 à 17h30 : fermeture (Grève)", -210),
        ("Régularisation du 09/10/2026 — Léa — Matin 07h20-08h20 : accueil sans réservation", 200),
        (
            "Régularisation du 09/10/2026 — Léa — majoration (Matin 07h20-08h20) : accueil sans réservation",
            100,
        ),
    }
    assert closed.pk  # the closure's booking is the one given back
    assert only_invoice(family, month=NOVEMBER).total_cents == 200 - 210 + 200 + 100


def test_a_cancelled_invoice_is_reissued_with_a_new_number(regies, slots, today, django_user_model):
    """Cancelling gives a credit note from its own sequence; reissuing gives the next number."""
    office = django_user_model.objects.create(email="regisseur@example.org")
    first, second = make_family("UN"), make_family("DEUX")
    for family in (first, second):
        book(family.children.get(), slots["matin"], datetime.date(2026, 10, 5))
    run(regies)
    invoice = only_invoice(first)
    assert invoice.number == "PERI2026000001"

    note = invoice_cancel(
        invoice=invoice, reason="Erreur de tarif", by=office, today=datetime.date(2026, 11, 20)
    )
    again = invoice_reissue(invoice=invoice, by=office, today=datetime.date(2026, 11, 20))

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.CANCELLED
    assert note.number == "AVPERI2026000001"
    assert note.amount_cents == invoice.total_cents
    assert again.number == "PERI2026000003"
    assert again.replaces == invoice
    assert again.total_cents == invoice.total_cents
    assert again.issue_date == datetime.date(2026, 11, 20)
    assert only_invoice(first) == again
    with pytest.raises(ValidationError, match="déjà été réémise"):
        invoice_reissue(invoice=invoice, by=office, today=datetime.date(2026, 11, 20))
    second_note = invoice_cancel(
        invoice=only_invoice(second), reason="Doublon", by=office, today=datetime.date(2026, 11, 21)
    )
    assert second_note.number == "AVPERI2026000002"


def test_what_a_cancelled_invoice_billed_is_billed_on_the_next_one(
    regies, slots, today, django_user_model
):
    """A month cancelled and not reissued is billed again, as regularisations, the month after."""
    office = django_user_model.objects.create(email="regisseur@example.org")
    family = make_family()
    child = family.children.get()
    book(child, slots["matin"], datetime.date(2026, 10, 5))
    run(regies)
    invoice_cancel(
        invoice=only_invoice(family), reason="Erreur", by=office, today=datetime.date(2026, 11, 20)
    )
    book(child, slots["matin"], datetime.date(2026, 11, 2))

    run(regies, month=NOVEMBER, today=DEC_10)

    november = only_invoice(family, month=NOVEMBER)
    assert november.total_cents == 400
    with pytest.raises(ValidationError, match="Rien à facturer"):
        invoice_reissue(
            invoice=Invoice.objects.get(status=Invoice.Status.CANCELLED), by=office, today=DEC_10
        )


def test_the_night_job_waits_for_the_issue_day_and_runs_once(regies, slots, today):
    """Last month is invoiced from the régie's issue day on, then never again by the night job."""
    book(make_family().children.get(), slots["matin"], datetime.date(2026, 10, 5))

    assert due_runs(datetime.date(2026, 11, 9)) == []
    assert invoice_due_months(today=datetime.date(2026, 11, 9)) == []
    runs = invoice_due_months(today=datetime.date(2026, 11, 10))
    assert {r.regie.slug for r in runs} == {"alai", "periscolaire"}
    assert Invoice.objects.count() == 1
    assert invoice_due_months(today=datetime.date(2026, 11, 11)) == []


def test_pending_total_prices_what_is_not_invoiced(regies, slots, today):
    """The value not yet invoiced counts this month's bookings and walk-ins, not the invoiced ones."""
    family = make_family()
    child = family.children.get()
    book(child, slots["matin"], datetime.date(2026, 10, 5))
    run(regies)
    book(child, slots["matin"], datetime.date(2026, 11, 2))
    book(child, slots["soir-1"], datetime.date(2026, 11, 3), origin=Booking.Origin.WALK_IN)
    book(child, slots["matin"], datetime.date(2026, 12, 1))  # next month: not counted yet

    assert (
        Biller(regies["periscolaire"]).pending_total(family, today=datetime.date(2026, 11, 26))
        == 200 + 210 + 100
    )


def test_before_the_issue_day_last_month_is_not_invoiced_yet(regies, slots, today):
    """Until the 10th, last month's bookings count as not invoiced, as plain lines."""
    family = make_family()
    child = family.children.get()
    book(child, slots["matin"], datetime.date(2026, 10, 5))
    book(child, slots["matin"], datetime.date(2026, 11, 2))
    biller = Biller(regies["periscolaire"])

    draft = biller.not_invoiced(family, today=datetime.date(2026, 11, 5))

    assert [(line.kind, line.quantity) for line in draft.lines] == [(InvoiceLine.Kind.BOOKING, 2)]
    assert biller.pending_total(family, today=datetime.date(2026, 11, 12)) == 400  # not run yet
