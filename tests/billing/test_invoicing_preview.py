"""The preview of a month's invoicing: what the run would issue, and skip, computed without
writing anything."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from billing.invoicing import InvoicingPreview, invoicing_preview, invoicing_run, issue_invoices
from billing.models import BookingCharge, Invoice, InvoiceLine, InvoicingRun, Tariff
from common.models import OutboxItem
from reservations.models import Booking

from . import fixtures
from .conftest import ISSUE_DAY, NOVEMBER, OCTOBER, book, make_family, school_days

pytestmark = pytest.mark.django_db

SEPTEMBER = datetime.date(2026, 9, 1)


def preview(regies, slug="periscolaire", month=OCTOBER, today=ISSUE_DAY):
    return invoicing_preview(regie=regies[slug], month=month, today=today)


def reasons(result: InvoicingPreview) -> dict[str, str]:
    """{family name: reason} of the families the preview skips."""
    return {skipped.family.name: skipped.reason for skipped in result.skipped}


@pytest.fixture
def month_of_families(regies, slots):
    """Families of October 2026 on the périscolaire régie: two billed (one with two children,
    one without a valid QF, paying the top bracket, with a walk-in), one with a direct-debit
    mandate, one invoiced already, one whose only booking was cancelled."""
    martin = make_family("MARTIN", qf=850, children=2)
    lea, lalo = martin.children.order_by("pk")
    for day in school_days(OCTOBER, count=7):
        book(lea, slots["matin"], day)
    for day in school_days(OCTOBER, count=3):
        book(lea, slots["soir-1"], day)
        book(lalo, slots["soir-2"], day)
    durand = make_family("DURAND", qf=None)
    for day in school_days(OCTOBER, count=4):
        book(durand.children.get(), slots["soir-1"], day)
    book(
        durand.children.get(),
        slots["matin"],
        datetime.date(2026, 10, 20),
        origin=Booking.Origin.WALK_IN,
        presence=Booking.Presence.PRESENT,
    )
    bernard = make_family("BERNARD")
    fixtures.mandate(bernard)
    book(bernard.children.get(), slots["matin"], datetime.date(2026, 10, 6))
    petit = make_family("PETIT")
    book(petit.children.get(), slots["matin"], datetime.date(2026, 10, 8))
    issue_invoices(
        regie=regies["periscolaire"],
        month=OCTOBER,
        today=ISSUE_DAY,
        family_ids=[petit.pk],
        notify=False,
    )
    roux = make_family("ROUX")
    book(
        roux.children.get(),
        slots["matin"],
        datetime.date(2026, 10, 9),
        status=Booking.Status.CANCELLED,
    )
    return {family.name: family for family in (martin, durand, bernard, petit, roux)}


def test_preview_counts_and_totals_are_what_the_run_issues(regies, month_of_families):
    """Families, invoices and the total in cents, family by family, are those the run then
    issues and records."""
    result = preview(regies)

    run = invoicing_run(regie=regies["periscolaire"], month=OCTOBER, today=ISSUE_DAY, notify=False)

    assert result.families_seen == run.families_seen == 5
    assert len(result.invoices) == run.invoices_issued == 3
    assert len(result.skipped) == run.skipped == 2
    assert result.total_cents == run.amount_cents
    issued = {
        invoice.family.name: (invoice.total_cents, invoice.lines.count())
        for invoice in Invoice.objects.filter(run=run)
    }
    assert {
        invoice.family.name: (invoice.total_cents, invoice.line_count)
        for invoice in result.invoices
    } == issued
    assert issued["MARTIN"][0] == 7 * 200 + 3 * 210 + 3 * 180
    assert [invoice.family.name for invoice in result.invoices] == ["BERNARD", "DURAND", "MARTIN"]
    assert result.direct_debit_count == 1
    assert [i.family.name for i in result.invoices if i.direct_debit] == ["BERNARD"]


def test_preview_names_the_families_skipped_and_why(regies, month_of_families):
    """A family invoiced already is skipped with its invoice's number; one whose bookings are
    all cancelled has nothing to bill."""
    result = preview(regies)

    assert reasons(result) == {
        "PETIT": InvoicingPreview.ALREADY_INVOICED,
        "ROUX": InvoicingPreview.NOTHING,
    }
    petit = next(item for item in result.skipped if item.family.name == "PETIT")
    assert petit.detail == Invoice.objects.get(family__name="PETIT").number
    assert [reason for reason, _ in result.skipped_by_reason()] == [
        InvoicingPreview.ALREADY_INVOICED,
        InvoicingPreview.NOTHING,
    ]
    assert result.blocking == []


def test_preview_writes_nothing(regies, slots, django_assert_max_num_queries):
    """Thirty families: the preview reads them in a fixed number of queries and writes no
    invoice, line, charge, run nor outbox row."""
    for index in range(30):
        family = make_family(f"FAMILLE{index:02d}", children=2)
        for child in family.children.all():
            for day in school_days(OCTOBER, count=5):
                book(child, slots["matin"], day)
                book(child, slots["soir-1"], day)
    models = [Invoice, InvoiceLine, BookingCharge, InvoicingRun, OutboxItem]
    before = [model.objects.count() for model in models]

    with django_assert_max_num_queries(14):
        result = preview(regies)

    assert [model.objects.count() for model in models] == before
    assert len(result.invoices) == 30
    assert result.total_cents == 30 * 2 * 5 * (200 + 210)


def test_a_creneau_without_a_grid_blocks_the_run_and_names_its_families(regies, month_of_families):
    """Without the grid of « soir 2 » in 2026-2027 the run would fail: the preview says why and
    which families book that créneau; the others are still previewed."""
    Tariff.objects.filter(slot__label__startswith="soir 2", school_year__label="2026-2027").delete()

    result = preview(regies)

    assert len(result.blocking) == 1 and "soir 2" in result.blocking[0]
    assert reasons(result)["MARTIN"] == InvoicingPreview.MISSING_PRICE
    assert {invoice.family.name for invoice in result.invoices} == {"BERNARD", "DURAND"}


def test_a_credit_larger_than_the_month_issues_no_invoice(regies, slots):
    """A September booking invoiced then cancelled, and nothing in October: the credit waits for
    the next invoice, and the preview says so with the amount."""
    family = make_family("LEROY")
    booking = book(family.children.get(), slots["matin"], datetime.date(2026, 9, 14))
    issue_invoices(
        regie=regies["periscolaire"],
        month=SEPTEMBER,
        today=datetime.date(2026, 10, 10),
        family_ids=[family.pk],
        notify=False,
    )
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)

    result = preview(regies)

    assert reasons(result) == {"LEROY": InvoicingPreview.NOT_POSITIVE}
    assert result.skipped[0].detail == "-2,00 €"
    assert result.invoices == []


def test_preview_of_a_month_not_over_is_refused(regies):
    """November cannot be invoiced on 26 November."""
    with pytest.raises(ValidationError, match="n'est pas terminé"):
        preview(regies, month=NOVEMBER, today=datetime.date(2026, 11, 26))


def test_the_issue_day_is_the_regies(regies):
    """Before the régie's issue day the preview is early; from that day on, it is not."""
    assert preview(regies, month=OCTOBER, today=datetime.date(2026, 11, 9)).is_early
    on_the_day = preview(regies, month=OCTOBER, today=ISSUE_DAY)
    assert not on_the_day.is_early
    assert on_the_day.planned_issue_date == ISSUE_DAY
