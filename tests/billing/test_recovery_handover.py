"""Hand-over lists to the Trésor Public: every invoice in recovery is "à transmettre" until the
régisseur puts it on a numbered list, then "transmise" with that list's number and date; never on
two lists, numbers gapless per régie and year (also when two régisseurs click at once), and each
list's CSV and PDF the same bytes at every download."""

import csv
import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from billing.models import Invoice, NumberSequence
from billing.recovery import services
from billing.recovery.models import RecoveryHandover, RecoveryHandoverLine
from billing.recovery.services import handover_create, switch_to_recovery
from billing.services import payment_record
from tests.concurrency import at_once, meeting_after
from tests.conftest import TODAY
from tests.factories import UserFactory

from .conftest import make_family, pdf_first_page_png, pdf_text
from .test_recovery import make_invoice

RECOVERY = "admin:billing_invoice_recovery"
CREATE = "admin:billing_recoveryhandover_create"
JANUARY_10 = datetime.date(2026, 1, 10)


def _staff(group: str):
    user = UserFactory(is_staff=True, first_name="Paul", last_name="GIRAUD")
    user.groups.add(Group.objects.get(name=group))
    return user


def _in_recovery(family, number, *, on, regie="periscolaire", **fields):
    """An invoice of `family` put in recovery by the night job of `on`."""
    invoice = make_invoice(
        family, number=number, due_date=on - datetime.timedelta(days=1), regie=regie, **fields
    )
    switch_to_recovery(today=on, invoices=Invoice.objects.filter(pk=invoice.pk), notify=False)
    invoice.refresh_from_db()
    return invoice


@pytest.fixture
def january(regies, slots):
    """Like the demo's: the LAGRANGE invoice in recovery since 10/01/2026 (12,34 € paid at the
    counter before)."""
    invoice = make_invoice(
        make_family("LAGRANGE"),
        number="PERI2025000001",
        due_date=datetime.date(2026, 1, 9),
        period_start=datetime.date(2025, 11, 1),
        total_cents=4250,
    )
    payment_record(
        invoice=invoice, amount_cents=1234, paid_on=datetime.date(2025, 12, 20), means="cheque"
    )
    switch_to_recovery(today=JANUARY_10, notify=False)
    invoice.refresh_from_db()
    return invoice


@pytest.fixture
def november(regies, slots):
    """Two more périscolaire invoices put in recovery on 26/11/2026 (one of a payer whose name
    is a spreadsheet formula) and an Alaï one."""
    bernard = make_family("BERNARD", names=["Nina"])
    piege = make_family("PIEGE", names=["Zoé"])
    return {
        "bernard": _in_recovery(bernard, "PERI2026000101", on=TODAY),
        "formula": _in_recovery(
            piege,
            "PERI2026000102",
            on=TODAY,
            payer_name='=HYPERLINK("http://evil.example/x","Cliquez")',
        ),
        "alai": _in_recovery(bernard, "ALAI2026000101", on=TODAY, regie="alai"),
    }


# The recovery page -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_invoice_in_recovery_since_january_shows_when_the_page_opens(
    client, office, january, today
):
    """The page opens on every invoice still to hand over, whatever its month: the invoice in
    recovery since 10/01 is there, « À transmettre », with the totals and the button."""
    client.force_login(office)
    page = client.get(reverse(RECOVERY)).content.decode()

    assert "PERI2025000001" in page
    assert "Toutes les régies — à transmettre : 1 facture, reste dû 30,16 €" in page
    assert "10/01/2026" in page and "À transmettre" in page
    assert "Créer le bordereau — Régie de recette périscolaire municipale (1 facture, 30,16 €)" in (
        page
    )


@pytest.mark.django_db
def test_the_page_filters_by_state_and_regie(client, office, january, november, today):
    """« Transmises » shows the invoices handed over with their list's number and date;
    « Toutes » both; a régie only its own."""
    handover_create(
        regie=january.regie, by=office, today=TODAY, invoice_ids=[november["bernard"].pk]
    )
    client.force_login(office)

    def numbers(**query):
        page = client.get(reverse(RECOVERY), query).content.decode()
        return {
            n
            for n in ("PERI2025000001", "PERI2026000101", "PERI2026000102", "ALAI2026000101")
            if n in page
        }, page

    pending, _ = numbers()
    assert pending == {"PERI2025000001", "PERI2026000102", "ALAI2026000101"}
    sent, page = numbers(etat="transmises")
    assert sent == {"PERI2026000101"}
    assert "Transmise le 26/11/2026 — " in page and "BT-PERI-2026-0001</a>" in page
    assert numbers(etat="toutes")[0] == pending | sent
    assert numbers(regie="alai")[0] == {"ALAI2026000101"}


# Creating a list -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_list_is_numbered_and_its_invoices_handed_over_once(office, january, november, today):
    """The first list of the year is BT-PERI-2026-0001 with every périscolaire invoice still to
    hand over and what is left due on each; a second list takes only invoices put in recovery
    since, and is 0002; with nothing left, no list and no number is used."""
    regie = january.regie
    first = handover_create(regie=regie, by=office, today=TODAY)

    assert first.number == "BT-PERI-2026-0001"
    assert (first.invoice_count, first.total_cents) == (3, 3016 + 3000 + 3000)
    assert [(line.position, line.invoice.number, line.due_cents) for line in first.lines.all()] == [
        (1, "PERI2025000001", 3016),
        (2, "PERI2026000101", 3000),
        (3, "PERI2026000102", 3000),
    ]
    assert first.created_by == office and first.date == TODAY

    with pytest.raises(ValidationError, match="Aucune facture de la Régie de recette"):
        handover_create(regie=regie, by=office, today=TODAY)
    with pytest.raises(ValidationError, match="n'est plus à transmettre"):
        handover_create(regie=regie, by=office, today=TODAY, invoice_ids=[january.pk])

    later = _in_recovery(make_family("DURAND"), "PERI2026000150", on=TODAY)
    second = handover_create(regie=regie, by=office, today=TODAY)
    assert second.number == "BT-PERI-2026-0002"
    assert [line.invoice for line in second.lines.all()] == [later]
    assert NumberSequence.objects.get(regie=regie, kind="handover", year=2026).last_number == 2
    assert RecoveryHandoverLine.objects.filter(invoice=january).count() == 1


@pytest.mark.django_db
def test_the_database_refuses_an_invoice_on_two_lists(office, january, today):
    """Even written directly, a second line for the same invoice is refused by the database."""
    handover = handover_create(regie=january.regie, by=office, today=TODAY)
    other = RecoveryHandover.objects.create(
        regie=january.regie, number="BT-TEST", invoice_count=1, total_cents=1
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        RecoveryHandoverLine.objects.create(
            handover=other, invoice=january, position=1, due_cents=1
        )
    assert list(RecoveryHandoverLine.objects.values_list("handover", flat=True)) == [handover.pk]


@pytest.mark.django_db
def test_the_regisseur_creates_a_list_of_the_ticked_invoices(
    client, office, january, november, today
):
    """From the page, the régisseur ticks two périscolaire invoices (and an Alaï one, ignored
    for that régie's button): they form the list, whose page links them; each invoice's page
    says « Transmise » with the list's number and date; the unticked one stays to hand over."""
    client.force_login(office)
    response = client.post(
        reverse(CREATE),
        {
            "regie": "periscolaire",
            "invoice": [january.pk, november["bernard"].pk, november["alai"].pk],
        },
    )

    handover = RecoveryHandover.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:billing_recoveryhandover_change", args=[handover.pk]
    )
    assert [line.invoice for line in handover.lines.all()] == [january, november["bernard"]]

    page = client.get(response["Location"]).content.decode()
    assert "Bordereau BT-PERI-2026-0001 établi : 2 factures, 60,16 €" in page
    assert reverse("admin:billing_invoice_change", args=[january.pk]) in page
    assert reverse("admin:billing_recoveryhandover_pdf", args=[handover.pk]) in page
    assert reverse("admin:billing_recoveryhandover_csv", args=[handover.pk]) in page

    invoice_page = client.get(
        reverse("admin:billing_invoice_change", args=[january.pk])
    ).content.decode()
    assert "Transmise le 26/11/2026 — bordereau" in invoice_page
    assert f'{handover.get_absolute_url()}">BT-PERI-2026-0001</a>' in invoice_page
    waiting = client.get(
        reverse("admin:billing_invoice_change", args=[november["formula"].pk])
    ).content.decode()
    assert "À transmettre au Trésor Public" in waiting

    listed = client.get(reverse(RECOVERY)).content.decode()
    assert "PERI2025000001" not in listed and "PERI2026000102" in listed


@pytest.mark.django_db
def test_ticking_an_invoice_already_handed_over_refuses_the_whole_list(
    client, office, january, november, today
):
    """A page loaded before a colleague's list: its ticked invoices are no longer all to hand
    over, so nothing is created and the régisseur is told why, in French."""
    handover_create(regie=january.regie, by=office, today=TODAY, invoice_ids=[january.pk])
    client.force_login(office)
    response = client.post(
        reverse(CREATE),
        {"regie": "periscolaire", "invoice": [january.pk, november["bernard"].pk]},
        follow=True,
    )

    assert "n&#x27;est plus à transmettre" in response.content.decode()
    assert RecoveryHandover.objects.count() == 1
    assert NumberSequence.objects.get(kind="handover").last_number == 1


@pytest.mark.django_db
def test_the_assistant_reads_lists_but_cannot_create_one(client, january, today):
    """The administrative assistant sees the page (without the button), the lists and their
    downloads, but posting « Créer le bordereau » is refused (403) and creates nothing; the
    régisseur's post creates the list."""
    assistant = _staff("Assistant administratif")
    client.force_login(assistant)
    page = client.get(reverse(RECOVERY)).content.decode()
    assert "PERI2025000001" in page and "Créer le bordereau" not in page

    refused = client.post(reverse(CREATE), {"regie": "periscolaire", "invoice": [january.pk]})
    assert refused.status_code == 403
    assert not RecoveryHandover.objects.exists()

    regisseur = _staff("Régisseur")
    client.force_login(regisseur)
    assert client.get(reverse(CREATE)).status_code == 405
    done = client.post(reverse(CREATE), {"regie": "periscolaire", "invoice": [january.pk]})
    assert done.status_code == 302
    handover = RecoveryHandover.objects.get()

    client.force_login(assistant)
    for name in ("changelist", "csv", "pdf", "change"):
        args = [] if name == "changelist" else [handover.pk]
        assert (
            client.get(reverse(f"admin:billing_recoveryhandover_{name}", args=args)).status_code
            == 200
        )

    client.force_login(UserFactory(is_staff=True))
    assert (
        client.get(reverse("admin:billing_recoveryhandover_csv", args=[handover.pk])).status_code
        == 403
    )
    assert client.post(reverse(CREATE), {"regie": "periscolaire"}).status_code == 403


# Exports ---------------------------------------------------------------------------------------


@pytest.fixture
def handover(office, january, november, today):
    return handover_create(regie=january.regie, by=office, today=TODAY)


def _csv_rows(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


@pytest.mark.django_db
def test_the_csv_has_what_the_tresor_public_needs_and_safe_cells(client, office, handover):
    """One row per invoice: list number and date, invoice number, dates, debtor's name and
    address, amount left due in euros with a comma, period; a formula comes out inert; two
    downloads are the same bytes."""
    client.force_login(office)
    url = reverse("admin:billing_recoveryhandover_csv", args=[handover.pk])
    first, second = client.get(url), client.get(url)

    assert first["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="BT-PERI-2026-0001.csv"' in first["Content-Disposition"]
    assert first.content == second.content
    header, *rows = _csv_rows(first.content)
    assert header == [
        "Bordereau",
        "Date du bordereau",
        "Régie",
        "Numéro de facture",
        "Date d'émission",
        "Date limite de paiement",
        "Débiteur",
        "Adresse du débiteur",
        "Montant dû (€)",
        "Période facturée",
    ]
    assert rows[0] == [
        "BT-PERI-2026-0001",
        "26/11/2026",
        "Régie de recette périscolaire municipale",
        "PERI2025000001",
        "10/12/2025",
        "09/01/2026",
        "Camille LAGRANGE",
        "1 place de la Mairie, 69160 Tassin la Demi-Lune",
        "30,16",
        "Du 01/11/2025 au 30/11/2025",
    ]
    assert rows[2][6] == '\'=HYPERLINK("http://evil.example/x","Cliquez")'
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def _pdf_info(content: bytes, tmp_path) -> dict[str, str]:
    """The document's metadata as pdfinfo reads it (dates in ISO 8601)."""
    import subprocess

    path = tmp_path / "info.pdf"
    path.write_bytes(content)
    output = subprocess.run(
        ["pdfinfo", "-isodates", str(path)], check=True, capture_output=True, text=True
    ).stdout
    return dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition(":") for line in output.splitlines())
    )


@pytest.mark.django_db
def test_the_pdf_is_the_same_bytes_at_every_download(client, office, handover, tmp_path):
    """The PDF lists the invoices and the total, carries the list's own date as its document
    dates (no « now » inside), and two downloads, at different times, are byte-identical."""
    import time_machine

    client.force_login(office)
    url = reverse("admin:billing_recoveryhandover_pdf", args=[handover.pk])
    first = client.get(url)
    with time_machine.travel(datetime.datetime(2026, 11, 26, 17, 30, tzinfo=datetime.UTC)):
        second = client.get(url)

    assert first["Content-Type"] == "application/pdf"
    assert 'filename="BT-PERI-2026-0001.pdf"' in first["Content-Disposition"]
    assert first.content == second.content
    info = _pdf_info(first.content, tmp_path)
    assert info["CreationDate"] == info["ModDate"] == "2026-11-26T11:00:00+01"
    text = pdf_text(first.content, tmp_path)
    assert "Bordereau de transmission n° BT-PERI-2026-0001" in text
    for number in ("PERI2025000001", "PERI2026000101", "PERI2026000102"):
        assert number in text
    assert "90,16 €" in text and "Camille LAGRANGE" in text
    pdf_first_page_png(first.content, "recovery_handover")


# Two régisseurs at once (PostgreSQL) -----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_regisseurs_at_once_never_put_an_invoice_on_two_lists(regies, slots, today):
    """A list of the year exists (its counter row too); two régisseurs create the next list at
    the same moment, each having read the counter before the other writes: one list 0002 holds
    both new invoices, the other is refused in French, and the next list is 0003 — no invoice
    on two lists, no number skipped."""
    office, other = _staff("Régisseur"), _staff("Régisseur")
    first = _in_recovery(make_family("A"), "PERI2026000001", on=TODAY)
    regie = first.regie
    handover_create(regie=regie, by=office, today=TODAY)
    new = [_in_recovery(make_family(f"N{i}"), f"PERI202600001{i}", on=TODAY) for i in range(2)]

    with meeting_after(services, "lock_sequence", 2):
        results = at_once(
            lambda: handover_create(regie=regie, by=office, today=TODAY),
            lambda: handover_create(regie=regie, by=other, today=TODAY),
        )

    created = [r for r in results if isinstance(r, RecoveryHandover)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(created) == 1 and len(refused) == 1, results
    assert created[0].number == "BT-PERI-2026-0002"
    assert sorted(line.invoice_id for line in created[0].lines.all()) == [i.pk for i in new]
    assert RecoveryHandoverLine.objects.count() == 3

    _in_recovery(make_family("Z"), "PERI2026000099", on=TODAY)
    assert handover_create(regie=regie, by=office, today=TODAY).number == "BT-PERI-2026-0003"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_lists_of_different_invoices_at_once_get_consecutive_numbers(regies, slots, today):
    """Two régisseurs each tick a different invoice at the same moment: both lists are
    created, numbered 0002 and 0003 (gapless, never the same number)."""
    office, other = _staff("Régisseur"), _staff("Régisseur")
    first = _in_recovery(make_family("A"), "PERI2026000001", on=TODAY)
    regie = first.regie
    handover_create(regie=regie, by=office, today=TODAY)
    x, y = (_in_recovery(make_family(f"N{i}"), f"PERI202600001{i}", on=TODAY) for i in range(2))

    with meeting_after(services, "lock_sequence", 2):
        results = at_once(
            lambda: handover_create(regie=regie, by=office, today=TODAY, invoice_ids=[x.pk]),
            lambda: handover_create(regie=regie, by=other, today=TODAY, invoice_ids=[y.pk]),
        )

    assert all(isinstance(r, RecoveryHandover) for r in results), results
    assert sorted(r.number for r in results) == ["BT-PERI-2026-0002", "BT-PERI-2026-0003"]
    assert NumberSequence.objects.get(regie=regie, kind="handover").last_number == 3


@pytest.mark.django_db
def test_the_demo_invoice_in_recovery_waits_on_the_page_when_it_opens(client, today):
    """In the demo data, the parent's invoice in recovery since 10/01/2026 is « à transmettre »
    and listed as soon as the régisseur opens the page."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from portail.demo import seed_demo

    seed_demo(today)
    regisseur = get_user_model().objects.get(email="regisseur@example.org")
    TOTP.activate(regisseur, generate_totp_secret())  # staff pages ask for an authenticator app
    client.force_login(regisseur)
    page = client.get(reverse(RECOVERY)).content.decode()

    assert "PERI2025000001" in page and "10/01/2026" in page
    assert "Toutes les régies — à transmettre : 1 facture, reste dû 30,00 €" in page
