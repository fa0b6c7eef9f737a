"""Direct debit: the "Prélèvement automatique" request (bank details checked on the form, refused
while an invoice is unsettled), the mandate made on acceptance, programmed invoices, revocation
by the family and rejections recorded by the office."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing import selectors
from billing.card.models import PaymentIssue
from billing.directdebit import services as directdebit
from billing.directdebit.models import DebitRejection, Mandate
from billing.models import Invoice, Payment, PaymentAllocation
from billing.notices import notify_invoice_issued
from billing.services import payment_record
from enrolment import services as enrolment_services
from enrolment.kinds import DirectDebitQuestionsForm
from enrolment.models import EnrolmentRequest
from exchanges.models import Message
from tests.conftest import client_for
from tests.factories import UserFactory

from .conftest import make_family
from .directdebit_helpers import (
    ANSWERS,
    IBAN,
    IBAN_BAD_CHECK,
    IBAN_POSTE,
    IBAN_SPACED,
    dd_submitted,
    dd_teleservice,
    make_mandate,
    october_invoice,
    validate_documents,
    with_creditor,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.SITE_URL = "https://portail.example.org"
    settings.OFFICE_EMAIL = "bureau@example.org"


@pytest.fixture
def periscolaire(regies):
    return with_creditor(regies["periscolaire"])


@pytest.fixture
def teleservice(periscolaire):
    return dd_teleservice(periscolaire)


@pytest.fixture
def assistant(db):
    user = UserFactory(is_staff=True, first_name="Claire", last_name="MOREL")
    user.groups.add(Group.objects.get(name="Assistant administratif"))
    return user


def with_check_digits(bban: str, country="FR") -> str:
    """An IBAN with correct check digits for `bban` (whatever its national key)."""
    numeric = "".join(str(int(char, 36)) for char in f"{bban}{country}00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def questions(**data):
    form = DirectDebitQuestionsForm({f"q-{k}": v for k, v in data.items()}, prefix="q")
    form.is_valid()
    return form


# The form --------------------------------------------------------------------------------------


def test_iban_with_a_wrong_check_digit_is_refused_in_french():
    """An IBAN whose 2 check digits are wrong gets a French message on the IBAN field."""
    form = questions(account_holder="Camille MARTIN", iban=IBAN_BAD_CHECK, bic="AGRIFRPP")

    assert form.errors["iban"] == [
        "Cet IBAN n'est pas valide : vérifiez la clé de contrôle (les 2 chiffres après FR) et "
        "recopiez-le depuis votre RIB."
    ]


def test_iban_and_bic_are_normalised():
    """Spaces and lower case are accepted and stored compact, upper case; an empty BIC is
    taken from the IBAN's bank when schwifty knows it."""
    form = questions(account_holder="  Camille   MARTIN ", iban=IBAN_SPACED, bic=" agri frpp ")
    assert form.is_valid(), form.errors
    assert form.answers()["iban"] == IBAN
    assert form.answers()["bic"] == "AGRIFRPP"
    assert form.answers()["account_holder"] == "Camille MARTIN"

    derived = questions(account_holder="Camille MARTIN", iban=IBAN_POSTE, bic="")
    assert derived.is_valid(), derived.errors
    assert derived.answers()["bic"] == "PSSTFRPP"


@pytest.mark.parametrize(
    ("iban", "message"),
    [
        (IBAN[:-2], "Cet IBAN compte 25 caractères : un IBAN FR compte 27 caractères."),
        ("XX7630006000011234567890189", "qui n'est pas un code de pays"),
        ("FR76 3000 6000 0112 3456 7890 18!", "ne contient que des lettres et des chiffres"),
        ("FR7630006000011234567890100", "la clé RIB"),
    ],
)
def test_each_kind_of_wrong_iban_has_its_own_message(iban, message):
    """Wrong length, unknown country, stray characters, wrong RIB key: a message for each."""
    if iban.endswith("00"):  # right IBAN check digits around a wrong RIB key
        iban = with_check_digits(iban[4:])
    form = questions(account_holder="Camille MARTIN", iban=iban, bic="AGRIFRPP")

    assert message in " ".join(form.errors["iban"])


def test_bic_must_match_the_bank_of_the_iban():
    """A BIC of another bank than the IBAN's is refused on the BIC field; a malformed one too."""
    other = questions(account_holder="Camille MARTIN", iban=IBAN, bic="PSSTFRPP")
    assert "ne correspond pas à la banque de l'IBAN" in " ".join(other.errors["bic"])

    malformed = questions(account_holder="Camille MARTIN", iban=IBAN, bic="AGRI")
    assert "Ce BIC n'est pas valide" in " ".join(malformed.errors["bic"])

    branch = questions(account_holder="Camille MARTIN", iban=IBAN, bic="AGRIFRPP835")
    assert branch.is_valid(), branch.errors


def test_the_parent_sees_the_iban_error_on_the_form_and_nothing_is_saved(
    client, teleservice, today
):
    """Posting the form with a wrong IBAN shows the form again with the error; no request."""
    family = make_family()
    response = client_for(client, family).post(
        reverse("enrolment:request_create", args=[teleservice.slug]),
        {
            "action": "submit",
            "q-account_holder": "Camille MARTIN",
            "q-iban": IBAN_BAD_CHECK,
            "q-bic": "AGRIFRPP",
            "q-mandate_accepted": "on",
        },
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "vérifiez la clé de contrôle (les 2 chiffres après FR)" in page
    assert "is-invalid" in page
    assert not EnrolmentRequest.objects.exists()


# Filing and accepting ----------------------------------------------------------------------------


def test_filing_with_an_unpaid_invoice_is_refused_naming_it(client, teleservice, slots, today):
    """The parent cannot send the request while an invoice of the régie is impayée: the form
    says which invoice, its amount and state, and that it must be settled first."""
    family = make_family()
    invoice = october_invoice(family, teleservice.direct_debit_regie.regie, slots)
    from tests.enrolment.helpers import doc_type, upload

    from .directdebit_helpers import sepa_mandate_type

    payload = {
        "action": "submit",
        "q-account_holder": "Camille MARTIN",
        "q-iban": IBAN_SPACED,
        "q-bic": "AGRIFRPP",
        "q-mandate_accepted": "on",
        f"document_{doc_type('rib').pk}": upload("rib.pdf", validated=False),
        f"document_{sepa_mandate_type().pk}": upload("mandat.pdf", validated=False),
    }
    response = client_for(client, family).post(
        reverse("enrolment:request_create", args=[teleservice.slug]), payload
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "ne peut s&#x27;activer que lorsque toutes les factures impayées" in page
    assert f"facture n° {invoice.number} (6,00 €, impayée, à régler avant le 10/12/2026)" in page
    # Nothing is sent; the good files wait on a draft, so the parent need not choose them again.
    (draft,) = EnrolmentRequest.objects.all()
    assert draft.state == EnrolmentRequest.State.DRAFT
    assert draft.documents.count() == 2


def test_an_invoice_in_recovery_also_blocks_the_request(teleservice, slots, today):
    """An invoice mise en recouvrement is a debt too: named, with where to pay it."""
    family = make_family()
    invoice = october_invoice(family, teleservice.direct_debit_regie.regie, slots)
    Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.RECOVERY)

    with pytest.raises(ValidationError) as refusal:
        dd_submitted(family, teleservice)

    assert (
        f"facture n° {invoice.number} (6,00 €, mise en recouvrement : à régler auprès du "
        "Trésor Public)" in " ".join(refusal.value.messages)
    )


def test_acceptance_is_refused_while_an_invoice_became_unpaid_meanwhile(
    teleservice, slots, assistant, today
):
    """An invoice issued after the request was sent stops the acceptance: the office reads
    which one, and no mandate is made."""
    family = make_family()
    request = dd_submitted(family, teleservice)
    validate_documents(request, assistant)
    invoice = october_invoice(family, teleservice.direct_debit_regie.regie, slots)

    with pytest.raises(ValidationError, match=f"facture n° {invoice.number}"):
        enrolment_services.enrolment_request_accept(
            enrolment_request=request, user=assistant, today=today
        )

    request.refresh_from_db()
    assert request.state == EnrolmentRequest.State.SUBMITTED
    assert not Mandate.objects.exists()


def test_acceptance_creates_the_mandate_and_scrubs_the_iban(
    teleservice, assistant, today, django_capture_on_commit_callbacks
):
    """Accepting makes an active mandate (unique RUM, the régie's ICS, signed on the day the
    request was sent, FRST) holding the IBAN; the request keeps only the masked IBAN, and the
    family is told its RUM and creditor."""
    families = [make_family("MARTIN"), make_family("PETIT")]
    mandates = []
    for family in families:
        request = dd_submitted(family, teleservice)
        validate_documents(request, assistant)
        with django_capture_on_commit_callbacks(execute=True):
            enrolment_services.enrolment_request_accept(
                enrolment_request=request, user=assistant, today=today
            )
        mandates.append(Mandate.objects.get(family=family))

    first = mandates[0]
    assert first.rum == f"PERI-{families[0].pk}-1"
    assert len({mandate.rum for mandate in mandates}) == 2
    assert (first.creditor_ics, first.iban, first.bic) == ("FR72ZZZ123456", IBAN, "AGRIFRPP")
    assert (first.sequence, first.status) == (Mandate.Sequence.FIRST, Mandate.Status.ACTIVE)
    assert first.signed_on == datetime.date(2026, 11, 26)  # sent on the (pinned) day
    assert first.account_holder == "Camille MARTIN"
    request = EnrolmentRequest.objects.get(family=families[0])
    assert request.state == EnrolmentRequest.State.CLOSED
    assert request.answers["iban"] == "FR76 •••• •••• 0189"
    assert IBAN not in str(request.answers)
    assert not any(IBAN in str(row.answers) for row in EnrolmentRequest.objects.all())
    notice = Message.objects.filter(thread__family=families[0], body__contains=first.rum).get()
    assert "FR72ZZZ123456" in notice.body and "FR76 •••• •••• 0189" in notice.body
    assert IBAN not in notice.body
    assert any(first.rum in message.body for message in mail.outbox)
    assert not any(IBAN in message.body for message in mail.outbox)


def test_acceptance_needs_the_regie_creditor_details(regies, assistant, today):
    """Without the régie's ICS (or IBAN, BIC) the office is told what is missing."""
    regie = regies["periscolaire"]  # no creditor details
    teleservice = dd_teleservice(regie)
    request = dd_submitted(make_family(), teleservice)
    validate_documents(request, assistant)

    with pytest.raises(ValidationError, match="identifiant créancier SEPA"):
        enrolment_services.enrolment_request_accept(
            enrolment_request=request, user=assistant, today=today
        )
    assert not Mandate.objects.exists()


def test_a_second_mandate_for_the_same_regie_is_refused(teleservice, assistant, today):
    """A family with an active mandate cannot file another one for the régie."""
    family = make_family()
    make_mandate(family, teleservice.direct_debit_regie.regie)

    with pytest.raises(ValidationError, match="déjà actif"):
        dd_submitted(family, teleservice)


def test_an_unmapped_teleservice_cannot_be_accepted(regies, assistant, today):
    """A direct-debit téléservice tied to no régie: the office is told to map it first."""
    from enrolment.models import Teleservice
    from tests.enrolment.helpers import make_teleservice

    teleservice = make_teleservice(Teleservice.Kind.PRELEVEMENT, slug="sans-regie")
    family = make_family()
    request = enrolment_services.enrolment_request_save(
        teleservice=teleservice,
        family=family,
        user=family.guardians.first().user,
        today=today,
        answers=dict(ANSWERS),
        submit=False,
    )
    from tests.enrolment.helpers import doc_type, upload

    enrolment_services.enrolment_request_save(
        teleservice=teleservice,
        family=family,
        user=family.guardians.first().user,
        today=today,
        answers=dict(ANSWERS),
        enrolment_request=request,
        uploads={doc_type("rib"): upload()},
        submit=True,
    )
    validate_documents(request, assistant)

    with pytest.raises(ValidationError, match="rattaché à aucune régie"):
        enrolment_services.enrolment_request_accept(
            enrolment_request=request, user=assistant, today=today
        )


# Programmed invoices ---------------------------------------------------------------------------


def test_debit_date_is_a_target_business_day_at_least_14_days_after_issue(settings):
    """14 days after the issue, moved to the next TARGET business day (weekends, 25-26 Dec,
    1 Jan, Good Friday, Easter Monday, 1 May)."""
    settings.DIRECT_DEBIT_NOTICE_DAYS = 14
    assert directdebit.debit_date_for(datetime.date(2026, 11, 10)) == datetime.date(2026, 11, 24)
    # 10/10/2026 + 14 = Saturday 24/10 → Monday 26/10.
    assert directdebit.debit_date_for(datetime.date(2026, 10, 10)) == datetime.date(2026, 10, 26)
    # 11/12/2026 + 14 = Friday 25/12 (Christmas), then Saturday, Sunday → Monday 28/12.
    assert directdebit.debit_date_for(datetime.date(2026, 12, 11)) == datetime.date(2026, 12, 28)
    # 20/03/2026 + 14 = Friday 03/04 (Good Friday), Easter Monday 06/04 → Tuesday 07/04.
    assert directdebit.debit_date_for(datetime.date(2026, 3, 20)) == datetime.date(2026, 4, 7)


def test_the_next_invoice_is_programmed_and_its_email_states_amount_and_date(
    regies, slots, periscolaire, today, django_capture_on_commit_callbacks
):
    """With an active mandate the next invoice is "prélèvement programmé", due on a debit date
    at least 14 days after its issue; its message and e-mail give the amount and that date;
    it cannot be paid by card. Another family's invoice stays impayée."""
    family, other = make_family("MARTIN"), make_family("PETIT")
    mandate = make_mandate(family, periscolaire)
    programmed = october_invoice(family, periscolaire, slots)
    plain = october_invoice(other, periscolaire, slots)

    assert programmed.status == Invoice.Status.DIRECT_DEBIT
    assert (programmed.mandate, programmed.debit_date) == (mandate, datetime.date(2026, 11, 24))
    assert programmed.due_date == programmed.debit_date
    assert (programmed.debit_date - programmed.issue_date).days >= 14
    assert not programmed.is_payable_online
    assert (plain.status, plain.mandate, plain.debit_date) == (Invoice.Status.UNPAID, None, None)

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notify_invoice_issued(programmed.pk)
    body = Message.objects.get(thread__family=family).body
    assert "Montant : 6,00 €" in body
    assert "6,00 € seront prélevés le 24/11/2026 sur le compte FR76 •••• •••• 0189" in body
    assert "À régler avant" not in body
    (email,) = mail.outbox
    assert email.to == [family.guardians.first().user.email]
    assert "6,00 € seront prélevés le 24/11/2026" in email.body
    assert IBAN not in email.body


def test_programmed_invoice_page_shows_the_debit_instead_of_how_to_pay(
    client, slots, periscolaire, today
):
    """The invoice page and the list give the debit date; no "Comment payer"."""
    family = make_family()
    make_mandate(family, periscolaire)
    invoice = october_invoice(family, periscolaire, slots)
    client = client_for(client, family)

    detail = client.get(invoice.get_absolute_url()).content.decode()
    listing = client.get(reverse("billing:invoice_list", args=["periscolaire"])).content.decode()

    assert "Prélèvement programmé" in detail and "seront prélevés le 24/11/2026" in detail
    assert "Comment payer" not in detail
    assert "Prélèvement programmé" in listing and "le 24/11/2026" in listing


# Revocation -----------------------------------------------------------------------------------


def test_the_parent_revokes_the_mandate(
    client, slots, periscolaire, today, django_capture_on_commit_callbacks
):
    """Revoking (confirmation page, then POST) ends the mandate (who, when); the programmed
    invoice (issued today) goes back to impayée, due on its debit date; the office gets a
    message in Échanges and by e-mail."""
    family = make_family()
    mandate = make_mandate(family, periscolaire)
    invoice = october_invoice(family, periscolaire, slots, issue_date=today)
    assert invoice.debit_date == datetime.date(2026, 12, 10)
    user = family.guardians.first().user
    client = client_for(client, family)
    url = reverse("billing:mandate_revoke", args=[mandate.pk])

    confirm = client.get(url).content.decode()
    assert f"facture n° {invoice.number} : 6,00 €, à régler avant le 10/12/2026" in confirm
    assert "Révoquer le mandat" in confirm
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)

    assert response.status_code == 302
    assert response["Location"] == reverse("billing:direct_debit", args=["periscolaire"])
    mandate.refresh_from_db()
    assert mandate.status == Mandate.Status.REVOKED
    assert (mandate.revoked_by, mandate.revoked_at is not None) == (user, True)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.UNPAID
    assert invoice.due_date == datetime.date(2026, 12, 10)
    assert invoice.is_payable_online
    (to_office,) = Message.objects.filter(side=Message.Side.FAMILY)
    assert f"mandat de prélèvement {mandate.rum}" in to_office.body
    assert invoice.number in to_office.body
    assert [email.to for email in mail.outbox] == [["bureau@example.org"]]
    page = client.get(response["Location"]).content.decode()
    assert "est révoqué" in page and "Mandats révoqués" in page

    with pytest.raises(ValidationError, match="déjà révoqué"):
        directdebit.mandate_revoke(mandate=mandate, by=user, today=today)


def test_revoking_after_the_debit_date_leaves_time_to_pay(slots, periscolaire, today):
    """A programmed invoice whose debit date has passed while waiting for its batch is due 14
    days after the revocation, not at once (it would go to recovery the next night)."""
    family = make_family()
    mandate = make_mandate(family, periscolaire)
    invoice = october_invoice(family, periscolaire, slots)  # debit date 24/11, today 26/11

    (released,) = directdebit.mandate_revoke(mandate=mandate, by=None, today=today)

    assert released == invoice
    invoice.refresh_from_db()
    assert (invoice.status, invoice.due_date) == (
        Invoice.Status.UNPAID,
        datetime.date(2026, 12, 10),
    )


def test_revoking_keeps_invoices_already_in_a_batch(slots, periscolaire, today):
    """An invoice claimed by a batch is collected: revoking afterwards leaves it paid."""
    from billing.directdebit import sepa

    family = make_family()
    mandate = make_mandate(family, periscolaire)
    invoice = october_invoice(family, periscolaire, slots)
    sepa.create_batch(
        regie=periscolaire, collection_date=datetime.date(2026, 12, 1), by=None, today=today
    )

    assert directdebit.mandate_revoke(mandate=mandate, by=None, today=today) == []
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


# Rejections -------------------------------------------------------------------------------------


@pytest.fixture
def collected(slots, periscolaire, today):
    """A programmed October invoice (6,00 €) collected in the batch of 01/12/2026."""
    from billing.directdebit import sepa

    family = make_family()
    make_mandate(family, periscolaire)
    invoice = october_invoice(family, periscolaire, slots)
    sepa.create_batch(
        regie=periscolaire, collection_date=datetime.date(2026, 12, 1), by=None, today=today
    )
    invoice.refresh_from_db()
    return invoice


def test_a_rejection_puts_the_invoice_back_to_unpaid_with_a_reversal(
    collected, office, today, settings
):
    """The office records AM04: a -6,00 € payment reverses the debit (allocations mirrored),
    the invoice is impayée again, due today + 15 days, flagged for the régisseur; the family
    is told the amount, the new date and how to pay; balances are exact to the cent."""
    settings.DIRECT_DEBIT_REJECTION_DUE_DAYS = 15
    family = collected.family
    assert collected.status == Invoice.Status.PAID
    debit = collected.payments.get()

    rejection = directdebit.rejection_record(
        invoice=collected,
        rejected_on=datetime.date(2026, 12, 4),
        reason_code="AM04",
        by=office,
        today=datetime.date(2026, 12, 7),
    )

    collected.refresh_from_db()
    assert collected.status == Invoice.Status.UNPAID
    assert collected.due_date == datetime.date(2026, 12, 22) == rejection.new_due_date
    assert collected.paid_at is None
    assert collected.is_payable_online
    reversal = rejection.reversal
    assert (reversal.amount_cents, reversal.reverses, reversal.means) == (
        -600,
        debit,
        Payment.Means.DIRECT_DEBIT,
    )
    assert sum(p.amount_cents for p in reversal.allocations.all()) == -600
    per_line = {
        line.pk: sum(a.amount_cents for a in PaymentAllocation.objects.filter(line=line))
        for line in collected.lines.all()
    }
    assert set(per_line.values()) == {0}
    assert collected.due_cents() == 600
    balance = selectors.family_balance(family, collected.regie, on=today)
    assert (balance.portal_cents, balance.total_cents) == (600, 600)
    statement = selectors.statement(
        family,
        collected.regie,
        datetime.date(2026, 11, 1),
        datetime.date(2026, 12, 31),
        today=today,
    )
    assert [row.credit_cents for row in statement.rows] == [0, 600, -600]
    assert statement.closing_cents == 600
    assert rejection.reason == "Provision insuffisante"
    issue = PaymentIssue.objects.get()
    assert (issue.kind, issue.invoice, issue.amount_cents) == (
        PaymentIssue.Kind.DEBIT_REJECTED,
        collected,
        600,
    )
    assert issue.resolved_at is None
    notice = Message.objects.filter(thread__family=family, body__contains="rejeté").get()
    assert "Le prélèvement de 6,00 €" in notice.body
    assert "6,00 € avant le 22/12/2026" in notice.body
    assert "par carte bancaire" in notice.body and "au guichet" in notice.body
    mandate = collected.mandate
    mandate.refresh_from_db()
    assert mandate.sequence == Mandate.Sequence.FIRST  # its first debit never went through


def test_a_rejection_is_recorded_once(collected, office, today):
    """The same debit cannot be rejected twice; nothing more is recorded."""
    kwargs = {
        "invoice": collected,
        "rejected_on": datetime.date(2026, 12, 4),
        "reason_code": "MD01",
        "by": office,
        "today": datetime.date(2026, 12, 7),
    }
    directdebit.rejection_record(**kwargs)

    with pytest.raises(ValidationError, match="déjà été rejeté"):
        directdebit.rejection_record(**kwargs)
    assert DebitRejection.objects.count() == 1
    assert Payment.objects.filter(amount_cents__lt=0).count() == 1


def test_an_invoice_paid_otherwise_has_no_debit_to_reject(regies, slots, office, today):
    """Only a direct-debit payment can be rejected."""
    family = make_family()
    invoice = october_invoice(family, regies["periscolaire"], slots)
    payment_record(
        invoice=invoice,
        amount_cents=600,
        paid_on=datetime.date(2026, 11, 12),
        means=Payment.Means.CHEQUE,
    )

    with pytest.raises(ValidationError, match="pas été payée par prélèvement"):
        directdebit.rejection_record(
            invoice=invoice,
            rejected_on=today,
            reason_code="AM04",
            by=office,
            today=today,
        )


def test_after_a_rejection_the_invoice_is_paid_by_card_or_counter(collected, office, today):
    """Once rejected, the invoice takes a counter payment of what is due, and is paid."""
    directdebit.rejection_record(
        invoice=collected,
        rejected_on=datetime.date(2026, 12, 4),
        reason_code="AM04",
        by=office,
        today=datetime.date(2026, 12, 7),
    )
    payment_record(
        invoice=collected,
        amount_cents=600,
        paid_on=datetime.date(2026, 12, 8),
        means=Payment.Means.CASH,
    )
    collected.refresh_from_db()
    assert collected.status == Invoice.Status.PAID
    assert sum(collected.payments.values_list("amount_cents", flat=True)) == 600


def test_ics_check_digits():
    """The creditor identifier's check digits are verified (the demo's, and a known German
    one)."""
    assert directdebit.ics_is_valid("FR72ZZZ123456")
    assert directdebit.ics_is_valid("DE98ZZZ09999999999")
    assert not directdebit.ics_is_valid("FR12ZZZ123456")
    assert not directdebit.ics_is_valid("123456")


def test_a_refused_request_keeps_only_the_masked_iban(teleservice, assistant, today):
    """Refusing a direct-debit request (the RIB is unreadable, say) keeps no usable IBAN: the
    request, the office's page and the family's page show it masked."""
    family = make_family()
    request = dd_submitted(family, teleservice)
    assert request.answers["iban"] == IBAN  # needed in clear until the office decides

    enrolment_services.enrolment_request_refuse(
        enrolment_request=request, user=assistant, reason="RIB illisible"
    )

    request.refresh_from_db()
    assert request.answers["iban"] == "FR76 •••• •••• 0189"
    assert not any(IBAN in str(row.answers) for row in EnrolmentRequest.objects.all())


def test_the_payments_page_tells_programmed_debits_from_invoices_to_pay(
    client, slots, periscolaire, today
):
    """On /paiements/, a programmed debit is counted in "Solde au" but announced as a debit the
    bank will make, not as an invoice the family must pay."""
    family = make_family()
    make_mandate(family, periscolaire)
    invoice = october_invoice(family, periscolaire, slots)
    assert invoice.status == Invoice.Status.DIRECT_DEBIT

    page = client_for(client, family).get(reverse("billing:regie_list")).content.decode()

    assert "1 prélèvement programmé" in page
    assert "à régler</span>" not in page
    balance = selectors.family_balance(family, periscolaire, on=today)
    assert balance.total_cents == 600
    assert (balance.unpaid_invoices, balance.programmed_invoices) == (0, 1)


def test_a_request_in_progress_blocks_a_second_one_for_the_regie_but_not_another_regie(
    regies, teleservice, today
):
    """One live direct-debit request per family and régie: a second one for the same
    téléservice is the duplicate the parent is sent back to; another régie's téléservice takes
    its own request."""
    alai = with_creditor(regies["alai"])
    other = dd_teleservice(alai, slug="prelevement-alai")
    family = make_family()
    first = dd_submitted(family, teleservice)

    with pytest.raises(ValidationError, match=f"n° {first.number}"):
        enrolment_services.check_can_file(
            teleservice=teleservice, family=family, child=None, today=today
        )
    enrolment_services.check_can_file(teleservice=other, family=family, child=None, today=today)
    from enrolment.selectors import offer_rows

    # "Éducation - Enfance" says the same: the request in progress on one, "Demander" on the other.
    assert [row.existing for row in offer_rows(family=family, teleservice=teleservice)] == [first]
    assert [row.existing for row in offer_rows(family=family, teleservice=other)] == [None]
    assert dd_submitted(family, other).teleservice == other
