"""The régisseur's admin: invoices, counter payments, credit notes, runs, the journal."""

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing.admin import csv_safe
from billing.models import CreditNote, Invoice, InvoicingRun, Payment
from billing.services import payment_record
from tests.factories import UserFactory

from .conftest import book, issue, make_family, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(regies, slots, today):
    family = make_family("LAGRANGE")
    for day in (5, 6, 8):
        book(family.children.get(), slots["matin"], datetime.date(2026, 10, day))
    issue(regies)
    return Invoice.objects.get()


def test_regisseur_records_a_counter_payment(client, office, invoice, today):
    """The payment form records a payment; paying the whole amount marks the invoice paid."""
    client.force_login(office)
    url = reverse("admin:billing_invoice_payment", args=[invoice.pk])
    assert client.get(url).status_code == 200

    response = client.post(
        url,
        {"amount": "6,00", "paid_on": "2026-11-20", "means": "cheque", "reference": "Chèque 42"},
    )

    assert response.status_code == 302
    payment = Payment.objects.get()
    assert (payment.amount_cents, payment.means, payment.recorded_by) == (600, "cheque", office)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_payment_form_refuses_bad_amounts_in_french(client, office, invoice, today):
    """Too much, not a number or a future date: the form says why and nothing is saved."""
    client.force_login(office)
    url = reverse("admin:billing_invoice_payment", args=[invoice.pk])
    cases = [
        ({"amount": "7,00", "paid_on": "2026-11-20"}, "dépasse le reste à payer"),
        ({"amount": "six", "paid_on": "2026-11-20"}, "Saisissez un montant en euros"),
        ({"amount": "1", "paid_on": "2026-12-20"}, "ne peut pas être daté dans le futur"),
    ]
    for data, message in cases:
        page = client.post(url, {**data, "means": "especes"}).content.decode()
        assert message in page
    assert not Payment.objects.exists()


def test_regisseur_cancels_with_a_credit_note_then_reissues(client, office, invoice, today):
    """Cancel asks for a reason and issues a credit note; reissue gives a new number."""
    client.force_login(office)
    url = reverse("admin:billing_invoice_cancel", args=[invoice.pk])
    assert "Ce champ est obligatoire." in client.post(url, {"reason": ""}).content.decode()
    assert not CreditNote.objects.exists()

    client.post(url, {"reason": "Tarif erroné"})
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.CANCELLED
    assert CreditNote.objects.get().reason == "Tarif erroné"
    change = client.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).content.decode()
    assert "Réémettre la facture" in change

    client.post(reverse("admin:billing_invoice_reissue", args=[invoice.pk]))
    new = Invoice.objects.get(replaces=invoice)
    assert new.number == "PERI2026000002"
    assert new.status == Invoice.Status.UNPAID


def test_assistant_sees_invoices_but_cannot_take_money(client, invoice, today):
    """The administrative assistant reads invoices; payments and cancellations are the régie's."""
    assistant = UserFactory(is_staff=True)
    assistant.groups.add(Group.objects.get(name="Assistant administratif"))
    client.force_login(assistant)

    assert client.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).status_code == 200
    for name in ("admin:billing_invoice_payment", "admin:billing_invoice_cancel"):
        assert client.get(reverse(name, args=[invoice.pk])).status_code == 403


def test_invoice_list_filters_and_search(client, office, invoice, today):
    """The invoice list filters by régie, period and state, and finds an invoice by family name."""
    client.force_login(office)
    url = reverse("admin:billing_invoice_changelist")
    for query in (
        {"regie__id__exact": invoice.regie_id},
        {"periode": "2026-10"},
        {"status__exact": "impayee"},
        {"q": "LAGRANGE"},
        {"q": invoice.number},
    ):
        page = client.get(url, query).content.decode()
        assert invoice.number in page, query
    assert invoice.number not in client.get(url, {"periode": "2026-09"}).content.decode()
    detail = client.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).content.decode()
    assert "Léa — Matin 07h20-08h20" in detail and "Enregistrer un paiement" in detail


def test_invoicing_runs_are_listed_with_their_counts(client, office, invoice, today):
    """Each run shows the families seen, invoices issued and families skipped."""
    client.force_login(office)
    page = client.get(reverse("admin:billing_invoicingrun_changelist")).content.decode()
    assert "10/2026" in page and "Terminée" in page


def test_run_view_launches_a_month(
    client, office, regies, slots, today, django_capture_on_commit_callbacks
):
    """Launching a month from the admin issues its invoices once the request commits (the task
    runs in-process in tests)."""
    book(make_family().children.get(), slots["matin"], datetime.date(2026, 10, 5))
    client.force_login(office)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:billing_regie_run", args=[regies["periscolaire"].pk]),
            {"month": "2026-10"},
        )
    assert response.status_code == 302
    assert InvoicingRun.objects.get().invoices_issued == 1
    page = client.post(
        reverse("admin:billing_regie_run", args=[regies["periscolaire"].pk]), {"month": "2026-11"}
    ).content.decode()
    assert "Ce mois n&#x27;est pas terminé." in page


def test_journal_totals_by_means_with_csv_and_pdf(client, office, invoice, regies, tmp_path, today):
    """The journal lists the money collected over a period with totals by means, as CSV and PDF;
    a CSV cell that a spreadsheet would run as a formula is escaped."""
    payment_record(
        invoice=invoice,
        amount_cents=200,
        paid_on=datetime.date(2026, 11, 12),
        means=Payment.Means.CASH,
    )
    payment_record(
        invoice=invoice,
        amount_cents=400,
        paid_on=datetime.date(2026, 11, 13),
        means=Payment.Means.CHEQUE,
        reference='=HYPERLINK("http://x")',
    )
    client.force_login(office)
    url = reverse("admin:billing_regie_journal", args=[regies["periscolaire"].pk])
    period = {"du": "2026-11-01", "au": "2026-11-30"}

    page = client.get(url, period).content.decode()
    assert "Espèces" in page and "2,00 €" in page and "4,00 €" in page and "6,00 €" in page

    response = client.get(url, {**period, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Date"
    assert ["12/11/2026", invoice.number, "Foyer LAGRANGE", "Espèces", "", "2,00"] in rows
    assert '\'=HYPERLINK("http://x")' in [row[4] for row in rows if len(row) > 4]
    assert ["Total", "", "", "Tous moyens", "2 paiement(s)", "6,00"] in rows

    pdf = client.get(url, {**period, "format": "pdf"})
    text = pdf_text(pdf.content, tmp_path)
    assert "Journal des encaissements" in text and "Chèque" in text and "6,00 €" in text

    assert client.get(url, {"du": "2026-11-01", "au": "2026-11-30"}).status_code == 200
    other = UserFactory(is_staff=True)
    client.force_login(other)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("value", ["=1+1", "+33", "-2", "@SUM(A1)", "\t=1+1", "\r=1+1"])
def test_csv_cells_that_look_like_formulas_are_escaped(value):
    """Cells starting with =, +, -, @, a tab or a carriage return are prefixed so that no
    spreadsheet runs them."""
    assert csv_safe(value) == "'" + value
    assert csv_safe("Espèces") == "Espèces"


def test_every_billing_admin_page_opens(client, invoice, today, office):
    """Each billing model's list and detail open in the admin (superuser)."""
    from billing.models import CreditNote, InvoicingRun, Regie, Tariff
    from billing.services import invoice_cancel

    payment_record(
        invoice=invoice,
        amount_cents=100,
        paid_on=datetime.date(2026, 11, 12),
        means=Payment.Means.CASH,
    )
    other = Invoice.objects.create(
        regie=invoice.regie,
        family=invoice.family,
        number="PERI2026000099",
        period_start=datetime.date(2026, 9, 1),
        period_end=datetime.date(2026, 9, 30),
        issue_date=datetime.date(2026, 10, 10),
        due_date=datetime.date(2026, 11, 9),
        total_cents=100,
        payer_name="X",
        payer_address="Y",
        family_label="Foyer LAGRANGE",
    )
    invoice_cancel(invoice=other, reason="Essai", by=office, today=datetime.date(2026, 11, 20))
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    objects = [
        Regie.objects.first(),
        Tariff.objects.first(),
        InvoicingRun.objects.first(),
        invoice,
        Payment.objects.first(),
        CreditNote.objects.first(),
    ]
    for obj in objects:
        meta = obj._meta
        for url in (
            reverse(f"admin:billing_{meta.model_name}_changelist"),
            reverse(f"admin:billing_{meta.model_name}_change", args=[obj.pk]),
        ):
            assert client.get(url).status_code == 200, url
    assert (
        client.get(reverse("admin:billing_invoice_history", args=[invoice.pk])).status_code == 200
    )
    pdf = client.get(reverse("admin:billing_invoice_pdf", args=[invoice.pk]))
    assert pdf["Content-Type"] == "application/pdf"
