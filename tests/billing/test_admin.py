"""The régisseur's admin: invoices, counter payments, credit notes, runs, the journal."""

import csv
import datetime
import io
import re

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.html import escape

from billing.admin import csv_safe
from billing.models import CreditNote, Invoice, InvoicingRun, Payment, Tariff
from billing.services import payment_record
from common.models import OutboxItem
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


def launch_page(client, **query):
    return client.get(reverse("admin:billing_invoicingrun_launch"), query).content.decode()


def test_runs_list_offers_to_invoice_a_month_to_the_regisseur_only(client, office, regies, today):
    """« Facturer un mois » is a button of the runs' list for the régisseur; the assistant sees
    the list without it and cannot open the page nor launch a run."""
    launch = reverse("admin:billing_invoicingrun_launch")
    runs = reverse("admin:billing_invoicingrun_changelist")
    client.force_login(office)
    assert launch in client.get(runs).content.decode()

    assistant = UserFactory(is_staff=True)
    assistant.groups.add(Group.objects.get(name="Assistant administratif"))
    client.force_login(assistant)
    assert launch not in client.get(runs).content.decode()
    assert client.get(launch, {"mois": "2026-10"}).status_code == 403
    assert client.post(launch, {"mois": "2026-10", "early": "on"}).status_code == 403
    assert not OutboxItem.objects.exists()


def test_months_are_chosen_from_the_last_twelve_finished_ones(client, office, regies, today):
    """The month is a list: the twelve last finished months, most recent first, in words."""
    client.force_login(office)
    page = launch_page(client)
    options = re.findall(r'<option value="(\d{4}-\d{2})"[^>]*>([^<]+)</option>', page)
    assert len(options) == 12
    assert options[0] == ("2026-10", "octobre 2026") and options[-1] == ("2025-11", "novembre 2025")
    assert '<option value="2026-10" selected>' in page
    assert 'value="2026-11"' not in page
    assert "Aperçu" not in page  # nothing is computed before a month is chosen
    refused = launch_page(client, mois="2026-11")
    assert "Sélectionnez un choix valide" in refused and "Aperçu" not in refused


def test_preview_then_confirm_issues_what_was_shown(
    client, office, regies, slots, today, django_capture_on_commit_callbacks
):
    """The preview shows the families, invoices and total; confirming hands the run to the
    worker, which issues exactly that."""
    for name, days in (("MARTIN", 3), ("DURAND", 2)):
        child = make_family(name).children.get()
        for day in (5, 6, 8)[:days]:
            book(child, slots["matin"], datetime.date(2026, 10, day))
    regie = regies["periscolaire"]
    client.force_login(office)

    page = launch_page(client, regie=regie.pk, mois="2026-10")
    assert "Aperçu de la facturation d&#x27;octobre 2026" in page
    assert re.search(r"Factures à émettre</dt><dd>2\b", page)
    assert "10,00 €" in page and "MARTIN" in page and "DURAND" in page
    assert "avant cette date" not in page  # 26/11: the issue day (10/11) has come
    assert not Invoice.objects.exists() and not OutboxItem.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:billing_invoicingrun_launch"), {"regie": regie.pk, "mois": "2026-10"}
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:billing_invoicingrun_changelist")
    run = InvoicingRun.objects.get()
    assert (run.regie, run.invoices_issued, run.amount_cents) == (regie, 2, 1000)
    assert run.trigger == f"Administration ({office.email})"
    listing = client.get(response["Location"]).content.decode()
    assert "Facturation d&#x27;octobre 2026 lancée" in listing


def test_all_regies_are_previewed_and_launched_together(
    client, office, regies, slots, today, django_capture_on_commit_callbacks
):
    """Without a régie chosen, each régie has its preview and its run."""
    child = make_family().children.get()
    book(child, slots["matin"], datetime.date(2026, 10, 5))
    book(child, slots["mercredi"], datetime.date(2026, 10, 7))
    client.force_login(office)

    page = launch_page(client, regie="", mois="2026-10")
    assert escape(regies["periscolaire"].name) in page and escape(regies["alai"].name) in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:billing_invoicingrun_launch"), {"regie": "", "mois": "2026-10"})
    assert {run.regie.slug: run.invoices_issued for run in InvoicingRun.objects.all()} == {
        "periscolaire": 1,
        "alai": 1,
    }


def test_before_the_issue_day_a_warning_asks_for_confirmation(
    client, office, regies, slots, django_capture_on_commit_callbacks
):
    """On 5 December, November's invoices are due on the 10th: the preview warns, and only a
    ticked confirmation launches the run."""
    book(make_family().children.get(), slots["matin"], datetime.date(2026, 11, 5))
    url = reverse("admin:billing_invoicingrun_launch")
    data = {"regie": regies["periscolaire"].pk, "mois": "2026-11"}
    warning = (
        "La date d'émission prévue pour ce mois est le 10/12/2026 : facturer maintenant "
        "émet les factures avant cette date."
    )
    with time_machine.travel(datetime.datetime(2026, 12, 5, 9, 0, tzinfo=datetime.UTC)):
        client.force_login(office)
        assert warning in launch_page(client, **data)

        refused = client.post(url, data).content.decode()
        assert "Cochez cette case" in refused and warning in refused
        assert not OutboxItem.objects.exists()

        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(url, {**data, "early": "on"}).status_code == 302
    assert InvoicingRun.objects.get().invoices_issued == 1

    with time_machine.travel(datetime.datetime(2026, 12, 10, 9, 0, tzinfo=datetime.UTC)):
        client.force_login(office)
        page = launch_page(client, **data)
    assert "avant cette date" not in page and "Émettre les factures" in page


def test_a_missing_grid_is_shown_and_nothing_is_launched(client, office, regies, slots, today):
    """A créneau without a grid: the preview names it, and no run can be launched."""
    child = make_family("MARTIN").children.get()
    book(child, slots["soir-2"], datetime.date(2026, 10, 5))
    Tariff.objects.filter(slot=slots["soir-2"], school_year__label="2026-2027").delete()
    data = {"regie": regies["periscolaire"].pk, "mois": "2026-10"}
    client.force_login(office)

    page = launch_page(client, **data)
    assert "Aucune grille tarifaire pour le créneau" in page and "MARTIN" in page
    assert "Émettre les factures" not in page
    page = client.post(reverse("admin:billing_invoicingrun_launch"), data).content.decode()
    assert "tarifs manquants" in page and not OutboxItem.objects.exists()


def test_the_regies_former_link_leads_to_the_new_page(client, office, regies, today):
    """« Facturer un mois » of the régies' list, and an interrupted run's link with its month,
    open the new page with the régie (and the month) chosen."""
    regie = regies["periscolaire"]
    old = reverse("admin:billing_regie_run", args=[regie.pk])
    launch = reverse("admin:billing_invoicingrun_launch")
    client.force_login(office)

    regies_list = client.get(reverse("admin:billing_regie_changelist")).content.decode()
    assert f'href="{launch}?regie={regie.pk}"' in regies_list
    assert client.get(old)["Location"] == f"{launch}?regie={regie.pk}"
    response = client.get(old, {"mois": "2026-09"})
    assert response["Location"] == f"{launch}?regie={regie.pk}&mois=2026-09"
    page = client.get(response["Location"]).content.decode()
    assert f'<option value="{regie.pk}" selected>' in page
    assert '<option value="2026-09" selected>' in page and "Aperçu" in page


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


def test_journal_opens_on_a_period_with_payments(client, office, invoice, regies, today):
    """The journal opens on the last 30 days when money came in then, otherwise on the month
    of the last payment; an empty period says so and links to that month."""
    payment_record(
        invoice=invoice, amount_cents=250, paid_on=datetime.date(2026, 11, 12), means="cheque"
    )
    url = reverse("admin:billing_regie_journal", args=[regies["periscolaire"].pk])
    client.force_login(office)

    page = client.get(url).content.decode()
    assert "Du 28/10/2026 au 26/11/2026 : 1 encaissement, 2,50 €" in page
    assert 'name="du" value="2026-10-28"' in page and 'name="au" value="2026-11-26"' in page

    with time_machine.travel(datetime.datetime(2027, 1, 20, 9, 0, tzinfo=datetime.UTC)):
        client.force_login(office)
        page = client.get(url).content.decode()
    assert "Du 01/11/2026 au 30/11/2026 : 1 encaissement, 2,50 €" in page

    empty = client.get(url, {"du": "2026-09-01", "au": "2026-09-30"}).content.decode()
    assert "Aucun encaissement sur cette période." in empty
    assert "Le dernier encaissement de la régie date du 12/11/2026" in empty
    assert '<a href="?du=2026-11-01&amp;au=2026-11-30">voir novembre 2026</a>' in empty

    alai = client.get(reverse("admin:billing_regie_journal", args=[regies["alai"].pk]))
    assert "Cette régie n'a encore enregistré aucun encaissement." in alai.content.decode()


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


def test_an_invoice_and_its_threads_link_to_each_other(client, office, family_a, today):
    """The invoice's admin page lists the Échanges about it (its notice, a question) with their
    links and « Écrire à la famille à ce sujet »; each thread links back to the invoice."""
    from exchanges.models import Message
    from exchanges.services import thread_start
    from tests.billing.fixtures import invoice as invoice_of

    invoice = invoice_of(family_a)
    thread = thread_start(
        family=family_a,
        subject=f"Votre facture {invoice.number}",
        body="Une question sur la ligne du 5 octobre.",
        side=Message.Side.FAMILY,
        related=invoice,
    )
    client.force_login(office)
    invoice_url = reverse("admin:billing_invoice_change", args=[invoice.pk])
    thread_url = reverse("admin:exchanges_thread_change", args=[thread.pk])

    invoice_page = client.get(invoice_url).content.decode()
    assert f'href="{thread_url}"' in invoice_page
    assert "Écrire à la famille à ce sujet" in invoice_page
    assert f'href="{invoice_url}"' in client.get(thread_url).content.decode()
