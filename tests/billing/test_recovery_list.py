"""The régisseur's list of invoices in recovery, per régie, hand-over state and period, and its
CSV."""

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing.recovery.services import switch_to_recovery
from billing.services import payment_record
from tests.conftest import TODAY
from tests.factories import UserFactory

from .conftest import make_family
from .test_recovery import make_invoice

pytestmark = pytest.mark.django_db

URL = "admin:billing_invoice_recovery"


@pytest.fixture
def in_recovery(regies, slots, today):
    """Two périscolaire invoices put in recovery on 26/11/2026 (one of them 12,34 € paid at the
    counter before), one Alaï invoice, and one périscolaire invoice switched in October."""
    lagrange = make_family("LAGRANGE")
    hacker = make_family("PIEGE", names=["Zoé"])
    october = make_invoice(
        lagrange,
        number="PERI2026000050",
        due_date=datetime.date(2026, 10, 9),
        period_start=datetime.date(2026, 8, 1),
    )
    switch_to_recovery(today=datetime.date(2026, 10, 10))
    partly = make_invoice(
        lagrange, number="PERI2026000101", due_date=datetime.date(2026, 11, 9), total_cents=4250
    )
    payment_record(
        invoice=partly, amount_cents=1234, paid_on=datetime.date(2026, 11, 2), means="cheque"
    )
    formula = make_invoice(
        hacker,
        number="PERI2026000102",
        due_date=datetime.date(2026, 11, 9),
        payer_name='=HYPERLINK("http://evil.example/x","Cliquez")',
    )
    alai = make_invoice(
        lagrange, number="ALAI2026000101", due_date=datetime.date(2026, 11, 9), regie="alai"
    )
    switch_to_recovery(today=TODAY)
    return {"october": october, "partly": partly, "formula": formula, "alai": alai}


def csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_csv_lists_the_regies_invoices_of_the_period_with_exact_amounts(
    client, office, in_recovery, today
):
    """The CSV of a régie and a period of recovery dates has one row per invoice: number,
    period, dates, amount billed, already paid and left due in euros with a comma (exact
    cents), payer, address on one line and household."""
    client.force_login(office)
    response = client.get(
        reverse(URL),
        {"regie": "periscolaire", "du": "2026-11-01", "au": "2026-11-30", "format": "csv"},
    )

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        'filename="recouvrement-periscolaire-a-transmettre-du-2026-11-01-au-2026-11-30.csv"'
        in (response["Content-Disposition"])
    )
    header, *rows = csv_rows(response)
    assert header == [
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
    assert [row[0] for row in rows] == ["PERI2026000101", "PERI2026000102"]
    assert rows[0] == [
        "PERI2026000101",
        "Régie de recette périscolaire municipale",
        "Du 01/09/2026 au 30/09/2026",
        "10/10/2026",
        "09/11/2026",
        "26/11/2026",
        "42,50",
        "12,34",
        "30,16",
        "Camille LAGRANGE",
        "1 place de la Mairie, 69160 Tassin la Demi-Lune",
        "Foyer LAGRANGE",
        "À transmettre",
        "",
        "",
    ]


def test_a_formula_in_a_cell_comes_out_inert(client, office, in_recovery, today):
    """A payer named "=HYPERLINK(…)" is written with a leading quote: a spreadsheet shows the
    text and runs nothing."""
    client.force_login(office)
    response = client.get(
        reverse(URL),
        {"regie": "periscolaire", "du": "2026-11-26", "au": "2026-11-26", "format": "csv"},
    )
    row = next(row for row in csv_rows(response) if row[0] == "PERI2026000102")
    assert row[9] == '\'=HYPERLINK("http://evil.example/x","Cliquez")'
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)


def test_the_page_shows_the_list_and_its_totals(client, office, in_recovery, today):
    """The page lists the invoices of the period with the totals and the CSV link; another
    period or régie shows its own."""
    client.force_login(office)
    page = client.get(
        reverse(URL), {"regie": "periscolaire", "du": "2026-11-01", "au": "2026-11-30"}
    ).content.decode()
    assert "PERI2026000101" in page and "PERI2026000102" in page
    assert "PERI2026000050" not in page and "ALAI2026000101" not in page
    assert "2 factures, reste dû 60,16 €" in page
    assert "format=csv" in page
    assert "=HYPERLINK(&quot;http://evil.example/x&quot;" in page  # escaped in HTML

    october = client.get(
        reverse(URL), {"regie": "periscolaire", "du": "2026-10-01", "au": "2026-10-31"}
    ).content.decode()
    assert "PERI2026000050" in october and "PERI2026000101" not in october
    alai = client.get(
        reverse(URL), {"regie": "alai", "du": "2026-11-01", "au": "2026-11-30"}
    ).content.decode()
    assert "ALAI2026000101" in alai and "PERI2026000101" not in alai


def test_the_default_is_everything_still_to_hand_over(client, office, in_recovery, today):
    """Opened without a choice: every régie's invoices still to hand over, whatever the month
    they were put in recovery."""
    client.force_login(office)
    page = client.get(reverse(URL)).content.decode()
    assert "Toutes les régies — à transmettre : 4 factures" in page
    for invoice in in_recovery.values():
        assert invoice.number in page


def test_bad_dates_are_refused_in_french_without_a_file(client, office, in_recovery, today):
    """An end before the start, or a date that is not one: a French message, no CSV."""
    client.force_login(office)
    for query, message in (
        ({"du": "2026-11-30", "au": "2026-11-01"}, "La fin de la période doit suivre son début."),
        ({"du": "hier", "au": "2026-11-01"}, "Saisissez une date valide."),
        ({"du": "2026-11-01", "au": "2026-11-30", "regie": "inconnue"}, "Sélectionnez un choix"),
    ):
        response = client.get(reverse(URL), {"regie": "periscolaire", **query, "format": "csv"})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")
        assert message in response.content.decode(), query


def test_the_regisseur_finds_it_from_the_invoices_and_the_regies(client, office, regies, today):
    """The invoice list and each régie's tools link to the list."""
    client.force_login(office)
    invoices = client.get(reverse("admin:billing_invoice_changelist")).content.decode()
    assert reverse(URL) in invoices and "Factures mises en recouvrement" in invoices
    regie_list = client.get(reverse("admin:billing_regie_changelist")).content.decode()
    assert f"{reverse(URL)}?regie=periscolaire" in regie_list
    assert f"{reverse(URL)}?regie=alai" in regie_list


def test_only_staff_who_may_view_invoices(client, in_recovery, today):
    """The administrative assistant (who reads invoices) may open it; a staff member without
    the invoice permission gets 403; a parent is sent to the login page."""
    assistant = UserFactory(is_staff=True)
    assistant.groups.add(Group.objects.get(name="Assistant administratif"))
    client.force_login(assistant)
    assert client.get(reverse(URL)).status_code == 200

    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse(URL)).status_code == 403
    assert client.get(reverse(URL), {"format": "csv"}).status_code == 403

    parent = in_recovery["partly"].family.guardians.get().user
    client.force_login(parent)
    response = client.get(reverse(URL), {"format": "csv"})
    assert response.status_code == 302 and "login" in response["Location"]
