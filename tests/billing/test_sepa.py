"""SEPA batches: the pain.008 file of a collection (validated against its XSD, exactly the due
invoices), numbered once per régie and date, the invoices paid by direct debit; the command and
the régisseur's admin pages."""

import datetime
import xml.etree.ElementTree as ET
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from billing.directdebit import sepa
from billing.directdebit.models import Mandate, SepaBatch
from billing.models import Invoice, Payment
from tests.factories import UserFactory

from .conftest import make_family
from .directdebit_helpers import IBAN, IBAN_POSTE, make_mandate, october_invoice, with_creditor

pytestmark = pytest.mark.django_db

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.02.xsd"
DECEMBER_1 = datetime.date(2026, 12, 1)


@pytest.fixture
def periscolaire(regies):
    return with_creditor(regies["periscolaire"])


@pytest.fixture
def programmed(slots, periscolaire, today):
    """Three families under direct debit: MARTIN (FRST, 3 mornings, 6,00 €) and PETIT (RCUR,
    5 mornings, 10,00 €) invoiced on 10/11 (debit 24/11); ROUX invoiced on 20/11 (debit
    04/12). A fourth family without a mandate."""
    martin, petit, roux, plain = (
        make_family(name) for name in ("MARTIN", "PETIT", "ROUX", "SIMON")
    )
    make_mandate(martin, periscolaire)
    make_mandate(
        petit,
        periscolaire,
        sequence=Mandate.Sequence.RECURRENT,
        iban=IBAN_POSTE,
        bic="PSSTFRPP",
        account_holder="Éloïse PETIT-Laurent",
    )
    make_mandate(roux, periscolaire)
    invoices = {
        "martin": october_invoice(martin, periscolaire, slots),
        "petit": october_invoice(petit, periscolaire, slots, days=(5, 6, 8, 9, 12)),
        "roux": october_invoice(roux, periscolaire, slots, issue_date=datetime.date(2026, 11, 20)),
        "plain": october_invoice(plain, periscolaire, slots),
    }
    return invoices


def export(regie, day=DECEMBER_1, today=datetime.date(2026, 11, 26), by=None):
    return sepa.create_batch(regie=regie, collection_date=day, by=by, today=today)


def parse(batch):
    return ET.fromstring(sepa.batch_bytes(batch))


def test_the_file_holds_exactly_the_due_invoices_and_validates(programmed, periscolaire):
    """The batch of 01/12 takes the invoices debited by then (not ROUX's of 04/12, not the
    family without mandate): one transaction each, amount in euros with 2 decimals, end-to-end
    id = invoice number, mandate = RUM and date, FRST or RCUR per mandate; counts and sums add
    up; the creditor is the régie; the file validates against the pain.008.001.02 XSD."""
    batch = export(periscolaire)
    content = sepa.batch_bytes(batch)

    xmlschema.XMLSchema(str(XSD)).validate(content.decode())
    root = ET.fromstring(content)
    header = root.find("p:CstmrDrctDbtInitn/p:GrpHdr", NS)
    assert header.find("p:MsgId", NS).text == batch.number == "PRLV-PERI-2026-0001"
    assert header.find("p:NbOfTxs", NS).text == "2"
    assert header.find("p:CtrlSum", NS).text == "16.00"
    transactions = {}
    for block in root.iterfind("p:CstmrDrctDbtInitn/p:PmtInf", NS):
        sequence = block.find("p:PmtTpInf/p:SeqTp", NS).text
        assert block.find("p:ReqdColltnDt", NS).text == "2026-12-01"
        assert block.find("p:PmtTpInf/p:LclInstrm/p:Cd", NS).text == "CORE"
        assert block.find("p:CdtrAcct/p:Id/p:IBAN", NS).text == "FR7610071690000000200123464"
        assert block.find("p:CdtrAgt/p:FinInstnId/p:BIC", NS).text == "TRPUFRP1"
        assert block.find("p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", NS).text == "FR72ZZZ123456"
        assert block.find("p:Cdtr/p:Nm", NS).text == "Regie de recette periscolaire municipale"
        total = Decimal(0)
        for tx in block.iterfind("p:DrctDbtTxInf", NS):
            amount = tx.find("p:InstdAmt", NS)
            assert amount.get("Ccy") == "EUR"
            total += Decimal(amount.text)
            transactions[tx.find("p:PmtId/p:EndToEndId", NS).text] = {
                "amount": amount.text,
                "sequence": sequence,
                "rum": tx.find("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", NS).text,
                "signed": tx.find("p:DrctDbtTx/p:MndtRltdInf/p:DtOfSgntr", NS).text,
                "iban": tx.find("p:DbtrAcct/p:Id/p:IBAN", NS).text,
                "name": tx.find("p:Dbtr/p:Nm", NS).text,
                "remittance": tx.find("p:RmtInf/p:Ustrd", NS).text,
            }
        assert block.find("p:CtrlSum", NS).text == f"{total:.2f}"
    martin, petit = programmed["martin"], programmed["petit"]
    assert set(transactions) == {martin.number, petit.number}
    assert transactions[martin.number] == {
        "amount": "6.00",
        "sequence": "FRST",
        "rum": martin.mandate.rum,
        "signed": "2026-09-15",
        "iban": IBAN,
        "name": "Camille MARTIN",
        "remittance": f"Facture {martin.number} octobre 2026",
    }
    assert transactions[petit.number]["amount"] == "10.00"
    assert transactions[petit.number]["sequence"] == "RCUR"
    assert transactions[petit.number]["iban"] == IBAN_POSTE
    assert transactions[petit.number]["name"] == "Eloise PETIT-Laurent"
    assert (batch.invoice_count, batch.total_cents) == (2, 1600)


def test_exported_invoices_are_paid_by_direct_debit(programmed, periscolaire):
    """Each invoice of the batch is paid (a direct-debit payment on the collection date) and
    claimed by the batch; the first-time mandate goes on as recurrent."""
    batch = export(periscolaire)

    for key in ("martin", "petit"):
        invoice = Invoice.objects.get(pk=programmed[key].pk)
        assert (invoice.status, invoice.sepa_batch) == (Invoice.Status.PAID, batch)
        payment = invoice.payments.get()
        assert (payment.means, payment.paid_on, payment.amount_cents) == (
            Payment.Means.DIRECT_DEBIT,
            DECEMBER_1,
            invoice.total_cents,
        )
        assert payment.reference == "Lot PRLV-PERI-2026-0001"
    roux = Invoice.objects.get(pk=programmed["roux"].pk)
    assert (roux.status, roux.sepa_batch) == (Invoice.Status.DIRECT_DEBIT, None)
    assert Mandate.objects.get(family=programmed["martin"].family).sequence == "RCUR"
    assert Mandate.objects.get(family=programmed["roux"].family).sequence == "FRST"


def test_exporting_the_same_date_again_gives_the_same_batch_and_bytes(programmed, periscolaire):
    """A second export for 01/12 (even days later) returns the same batch and the same file,
    adds no payment; the next date gets the next number and only what is left."""
    first = export(periscolaire)
    content = sepa.batch_bytes(first)
    payments = Payment.objects.count()

    again = export(periscolaire, today=datetime.date(2026, 12, 3))

    assert (again.pk, again.was_created, first.was_created) == (first.pk, False, True)
    assert sepa.batch_bytes(again) == content
    assert Payment.objects.count() == payments
    later = export(periscolaire, day=datetime.date(2026, 12, 7))
    assert later.number == "PRLV-PERI-2026-0002"
    assert [tx.text for tx in parse(later).iterfind(".//p:EndToEndId", NS)] == [
        programmed["roux"].number
    ]
    assert SepaBatch.objects.count() == 2


def test_no_due_invoice_no_batch(periscolaire, today):
    """Nothing to collect by that date: no batch, a French message."""
    with pytest.raises(ValidationError, match="Aucune facture à prélever au 01/12/2026"):
        export(periscolaire)
    assert not SepaBatch.objects.exists()


def test_collection_date_must_be_a_future_bank_business_day(programmed, periscolaire):
    """Today or before, a weekend or a TARGET holiday are refused, nothing is claimed."""
    for day, message in (
        (datetime.date(2026, 11, 26), "doit suivre la date du jour"),
        (datetime.date(2026, 12, 5), "n'est pas un jour ouvré des banques"),
        (datetime.date(2026, 12, 25), "choisissez par exemple le 28/12/2026"),
    ):
        with pytest.raises(ValidationError, match=message):
            export(periscolaire, day=day)
    assert not Invoice.objects.filter(sepa_batch__isnull=False).exists()


def test_a_regie_without_creditor_details_cannot_export(regies, slots, today):
    """Without ICS, IBAN and BIC the régisseur is told what is missing."""
    regie = regies["periscolaire"]
    family = make_family()
    make_mandate(family, regie)
    october_invoice(family, regie, slots)

    with pytest.raises(ValidationError, match="ICS"):
        export(regie)


def test_a_file_that_does_not_validate_is_not_exported(slots, periscolaire, today):
    """A mandate whose BIC breaks the schema: the XSD check stops the export, nothing is kept
    (no batch, no payment, the invoice still programmed)."""
    family = make_family()
    make_mandate(family, periscolaire, bic="AGRI")
    invoice = october_invoice(family, periscolaire, slots)

    with pytest.raises(ValidationError, match="ne respecte pas le schéma pain.008"):
        export(periscolaire)

    invoice.refresh_from_db()
    assert (invoice.status, invoice.sepa_batch) == (Invoice.Status.DIRECT_DEBIT, None)
    assert not SepaBatch.objects.exists() and not Payment.objects.exists()


def test_a_revoked_mandate_is_not_collected(programmed, periscolaire, today):
    """An invoice of a mandate revoked in between is no longer in the next batch."""
    from billing.directdebit import services as directdebit

    directdebit.mandate_revoke(mandate=programmed["petit"].mandate, by=None, today=today)
    batch = export(periscolaire)
    assert [tx.text for tx in parse(batch).iterfind(".//p:EndToEndId", NS)] == [
        programmed["martin"].number
    ]


# The command -------------------------------------------------------------------------------------


def test_command_writes_the_file_and_prints_the_batch_number(programmed, periscolaire, tmp_path):
    """export_sepa writes <number>.xml in the folder given and prints the number; run again, it
    writes the same bytes and says so."""
    out = StringIO()
    args = ["--regie", "periscolaire", "--collection-date", "2026-12-01", "--today", "2026-11-26"]
    call_command("export_sepa", *args, "--output", str(tmp_path), stdout=out)

    path = tmp_path / "PRLV-PERI-2026-0001.xml"
    assert "Lot PRLV-PERI-2026-0001 créé : 2 prélèvement(s), 16,00 €" in out.getvalue()
    first = path.read_bytes()
    assert first == sepa.batch_bytes(SepaBatch.objects.get())

    again = StringIO()
    call_command("export_sepa", *args, "--output", str(path), stdout=again)
    assert "déjà exporté (même fichier)" in again.getvalue()
    assert path.read_bytes() == first

    to_stdout = StringIO()
    call_command("export_sepa", *args, "--output", "-", stdout=to_stdout, stderr=StringIO())
    assert to_stdout.getvalue().encode() == first


def test_command_errors_are_french(periscolaire, today):
    """An unknown régie, a bad date, nothing to collect: a clear error, no traceback."""
    with pytest.raises(CommandError, match="Aucune régie « cantine »"):
        call_command("export_sepa", "--regie", "cantine", "--collection-date", "2026-12-01")
    with pytest.raises(CommandError, match="AAAA-MM-JJ"):
        call_command("export_sepa", "--regie", "periscolaire", "--collection-date", "01/12/2026")
    with pytest.raises(CommandError, match="Aucune facture à prélever"):
        call_command("export_sepa", "--regie", "periscolaire", "--collection-date", "2026-12-01")


# The admin -----------------------------------------------------------------------------------------


def test_the_regisseur_exports_and_downloads_a_batch(client, programmed, periscolaire, office):
    """The export form makes the batch; the list shows it; the download is the stored file."""
    client.force_login(office)
    url = reverse("admin:billing_sepabatch_export")
    assert client.get(url).status_code == 200

    response = client.post(url, {"regie": periscolaire.pk, "collection_date": "2026-12-01"})

    batch = SepaBatch.objects.get()
    assert response.status_code == 302
    listing = client.get(reverse("admin:billing_sepabatch_changelist")).content.decode()
    assert "PRLV-PERI-2026-0001" in listing and "16,00 €" in listing
    assert "Exporter un lot de prélèvement" in listing
    download = client.get(reverse("admin:billing_sepabatch_file", args=[batch.pk]))
    assert download["Content-Disposition"] == 'attachment; filename="PRLV-PERI-2026-0001.xml"'
    assert download.content == sepa.batch_bytes(batch)
    detail = client.get(reverse("admin:billing_sepabatch_change", args=[batch.pk])).content
    assert IBAN not in detail.decode()


def test_export_form_errors_are_shown_not_raised(client, periscolaire, office, today):
    """A bad date or an empty collection comes back on the form."""
    client.force_login(office)
    url = reverse("admin:billing_sepabatch_export")

    bad = client.post(url, {"regie": periscolaire.pk, "collection_date": "demain"})
    empty = client.post(url, {"regie": periscolaire.pk, "collection_date": "2026-11-27"})

    assert bad.status_code == empty.status_code == 200
    assert "Indiquez une date" in bad.content.decode()
    assert "Aucune facture à prélever au 27/11/2026" in empty.content.decode()


def test_only_who_may_export_sees_the_file(client, programmed, periscolaire):
    """Staff without the export permission get 403 on the form and the file (full IBANs)."""
    batch = export(periscolaire)
    from django.contrib.auth.models import Group

    assistant = UserFactory(is_staff=True)
    assistant.groups.add(Group.objects.get(name="Assistant administratif"))
    client.force_login(assistant)

    assert client.get(reverse("admin:billing_sepabatch_export")).status_code == 403
    assert client.get(reverse("admin:billing_sepabatch_file", args=[batch.pk])).status_code == 403


def test_mandates_in_the_admin_show_the_iban_masked(client, programmed, office):
    """The list and the page of a mandate never show the full IBAN."""
    client.force_login(office)
    mandate = programmed["martin"].mandate
    listing = client.get(reverse("admin:billing_mandate_changelist")).content.decode()
    page = client.get(reverse("admin:billing_mandate_change", args=[mandate.pk])).content.decode()
    history = client.get(reverse("admin:billing_mandate_history", args=[mandate.pk]))

    assert "FR76 •••• •••• 0189" in listing and "FR76 •••• •••• 0189" in page
    for html in (listing, page, history.content.decode()):
        assert IBAN not in html


def test_the_office_records_a_rejection_from_the_invoice(client, programmed, periscolaire, office):
    """The paid invoice offers "Enregistrer un rejet"; the form records it once."""
    export(periscolaire)
    invoice = Invoice.objects.get(pk=programmed["martin"].pk)
    client.force_login(office)
    change = client.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).content
    url = reverse("admin:billing_debitrejection_record", args=[invoice.pk])
    assert url in change.decode()

    future = client.post(url, {"rejected_on": "2026-12-31", "reason_code": "AM04"})
    assert "ne peut pas être daté dans le futur" in future.content.decode()
    response = client.post(url, {"rejected_on": "2026-11-26", "reason_code": ""})
    assert "Choisissez un code motif" in response.content.decode()
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.PAID

    # Rejected the day after the collection: the pinned clock moves on to 02/12.
    import time_machine

    with time_machine.travel(datetime.datetime(2026, 12, 2, 10, tzinfo=datetime.UTC), tick=False):
        client.force_login(office)  # the session of 26/11 has expired
        done = client.post(url, {"rejected_on": "2026-12-02", "reason_code": "AC04"})
        assert done["Location"] == reverse("admin:billing_invoice_change", args=[invoice.pk])
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.UNPAID
        assert invoice.due_date == datetime.date(2026, 12, 17)
        again = client.get(reverse("admin:billing_invoice_change", args=[invoice.pk]))
        assert url not in again.content.decode()
        twice = client.post(url, {"rejected_on": "2026-12-02", "reason_code": "AC04"})
        assert "déjà été rejeté" in twice.content.decode()


def test_a_programmed_invoice_partly_paid_at_the_counter_is_debited_the_rest(
    slots, periscolaire, today
):
    """2,00 € paid at the counter on a 6,00 € programmed invoice: the batch debits 4,00 €,
    allocated to what the lines still lacked; the invoice ends paid."""
    from billing.services import payment_record

    family = make_family()
    make_mandate(family, periscolaire)
    invoice = october_invoice(family, periscolaire, slots)
    payment_record(
        invoice=invoice,
        amount_cents=200,
        paid_on=datetime.date(2026, 11, 20),
        means=Payment.Means.CASH,
    )

    batch = export(periscolaire)

    assert [tx.text for tx in parse(batch).iterfind(".//p:InstdAmt", NS)] == ["4.00"]
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID and invoice.due_cents() == 0
    debit = invoice.payments.get(means=Payment.Means.DIRECT_DEBIT)
    assert debit.amount_cents == 400
    assert sum(part.amount_cents for part in debit.allocations.all()) == 400
    line = invoice.lines.get()
    assert sum(line.allocations.values_list("amount_cents", flat=True)) == 600


def test_direct_debit_admin_pages_open_for_the_regisseur(client, programmed, periscolaire, office):
    """Téléservices de prélèvement (list, add), mandates, batches, rejections: each page opens."""
    from billing.directdebit.models import DirectDebitTeleservice

    from .directdebit_helpers import dd_teleservice

    link = DirectDebitTeleservice.objects.get(teleservice=dd_teleservice(periscolaire))
    client.force_login(office)
    for name, args in (
        ("admin:billing_directdebitteleservice_changelist", []),
        ("admin:billing_directdebitteleservice_add", []),
        ("admin:billing_directdebitteleservice_change", [link.pk]),
        ("admin:billing_mandate_changelist", []),
        ("admin:billing_sepabatch_changelist", []),
        ("admin:billing_debitrejection_changelist", []),
    ):
        assert client.get(reverse(name, args=args)).status_code == 200, name
