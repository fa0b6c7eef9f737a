"""Builders shared by the direct-debit and SEPA tests."""

import datetime

from django.contrib.auth.models import Permission

from billing.directdebit.models import DirectDebitTeleservice, Mandate
from billing.invoicing import issue_invoices
from billing.models import Invoice, Regie
from billing.reference import DEMO_CREDITORS
from enrolment import services as enrolment_services
from enrolment.models import DocumentType, Teleservice, TeleserviceDocument
from tests.enrolment.helpers import doc_type, make_teleservice, upload

from .conftest import OCTOBER, book

# Valid French IBANs (check digits and RIB key) and the BIC of their bank.
IBAN = "FR7630006000011234567890189"  # Crédit Agricole, AGRIFRPP
IBAN_SPACED = "fr76 3000 6000 0112 3456 7890 189"
IBAN_POSTE = "FR1420041010050500013M02606"  # La Banque Postale, PSSTFRPP
# One digit wrong in the check digits (77 for 76).
IBAN_BAD_CHECK = "FR7730006000011234567890189"

ANSWERS = {
    "account_holder": "Camille MARTIN",
    "iban": IBAN,
    "bic": "AGRIFRPP",
    "mandate_accepted": True,
}


def with_creditor(regie: Regie) -> Regie:
    """The régie with the demo's SEPA creditor details (ICS, IBAN, BIC)."""
    for field, value in DEMO_CREDITORS[regie.slug].items():
        setattr(regie, field, value)
    regie.save()
    return regie


def sepa_mandate_type() -> DocumentType:
    return DocumentType.objects.get_or_create(
        slug="mandat-sepa", defaults={"name": "Mandat de prélèvement SEPA signé"}
    )[0]


def dd_teleservice(regie: Regie, *, slug=None) -> Teleservice:
    """An open "Prélèvement automatique" téléservice (RIB and signed mandate required), mapped
    to `regie`."""
    teleservice = make_teleservice(
        Teleservice.Kind.PRELEVEMENT, slug=slug or f"prelevement-{regie.slug}"
    )
    TeleserviceDocument.objects.create(
        teleservice=teleservice,
        document_type=sepa_mandate_type(),
        requirement=TeleserviceDocument.Requirement.REQUIRED,
        position=1,
    )
    DirectDebitTeleservice.objects.create(teleservice=teleservice, regie=regie)
    return teleservice


def dd_submitted(family, teleservice, *, answers=None):
    """A direct-debit request sent to the office with its RIB and signed mandate."""
    user = family.guardians.first().user
    request = enrolment_services.enrolment_request_save(
        teleservice=teleservice,
        family=family,
        user=user,
        today=datetime.date(2026, 11, 20),
        answers=answers or dict(ANSWERS),
        uploads={
            doc_type("rib"): upload("rib.pdf"),
            sepa_mandate_type(): upload("mandat.pdf"),
        },
    )
    return enrolment_services.enrolment_request_submit(
        enrolment_request=request, user=user, today=datetime.date(2026, 11, 20)
    )


def validate_documents(request, user):
    for document in request.documents.all():
        enrolment_services.document_validate(document=document, user=user)


def make_mandate(family, regie, *, rank=1, signed_on=datetime.date(2026, 9, 15), **fields):
    """An active mandate made directly (not through a request)."""
    return Mandate.objects.create(
        family=family,
        regie=regie,
        rum=f"{regie.invoice_prefix}-{family.pk}-{rank}",
        creditor_ics=regie.creditor_ics or "FR72ZZZ123456",
        account_holder=fields.pop("account_holder", f"Camille {family.name}"),
        iban=fields.pop("iban", IBAN),
        bic=fields.pop("bic", "AGRIFRPP"),
        signed_on=signed_on,
        **fields,
    )


def october_invoice(
    family, regie, slots, *, days=(5, 6, 8), issue_date=datetime.date(2026, 11, 10)
):
    """October mornings of the family's first child, invoiced on `issue_date` (2,00 € each at
    QF 850)."""
    child = family.children.order_by("pk").first()
    for day in days:
        book(child, slots["matin"], datetime.date(2026, 10, day))
    (invoice,) = issue_invoices(
        regie=regie, month=OCTOBER, today=issue_date, family_ids=[family.pk], notify=False
    )
    return Invoice.objects.get(pk=invoice.pk)


def grant(user, *codenames):
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="billing", codename__in=codenames)
    )
    return user
