"""Builders shared by the enrolment tests and the access matrix."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from common.files import PDF, sanitize_filename
from enrolment import kinds, services
from enrolment.models import (
    DocumentType,
    EnrolmentRequest,
    RequestDocument,
    Service,
    Teleservice,
    TeleserviceDocument,
)
from tests.common.test_uploads import pdf_bytes
from tests.factories import SchoolYearFactory

Requirement = TeleserviceDocument.Requirement


def upload(name="justificatif.pdf", content=None, *, validated=True):
    """A PDF upload; `validated` gives it what common.files' field adds (kind, display name)."""
    uploaded = SimpleUploadedFile(name, content if content is not None else pdf_bytes())
    if validated:
        uploaded.kind, uploaded.display_name = PDF, sanitize_filename(name)
    return uploaded


def make_teleservice(
    kind=Teleservice.Kind.PERISCOLAIRE,
    *,
    slug=None,
    school_year=None,
    opens_on=None,
    closes_on=None,
    rules=None,
) -> Teleservice:
    """An open téléservice of 2026-2027 (around the pinned today, 26/11/2026)."""
    school_year = school_year or SchoolYearFactory()
    service_slug = {"periscolaire": "periscolaire", "alai": "alai"}.get(kind)
    teleservice = Teleservice.objects.create(
        kind=kind,
        label=f"Téléservice {kind} {school_year}",
        slug=slug or f"{kind}-{school_year.label}",
        school_year=school_year,
        service=Service.objects.get(slug=service_slug) if service_slug else None,
        opens_on=opens_on or datetime.date(2026, 6, 1),
        closes_on=closes_on or school_year.end_date,
    )
    if rules is None:
        rules = {
            Teleservice.Kind.PERISCOLAIRE: [
                ("attestation-caf", Requirement.REQUIRED, ""),
                ("justificatif-domicile", Requirement.REQUIRED, ""),
                ("jugement-garde", Requirement.CONDITIONAL, "shared_custody"),
                ("assurance", Requirement.OPTIONAL, ""),
            ],
            Teleservice.Kind.ALAI: [("vaccinations", Requirement.REQUIRED, "")],
            Teleservice.Kind.PRELEVEMENT: [("rib", Requirement.REQUIRED, "")],
        }[kind]
    for position, (slug_, requirement, condition) in enumerate(rules):
        TeleserviceDocument.objects.create(
            teleservice=teleservice,
            document_type=DocumentType.objects.get(slug=slug_),
            requirement=requirement,
            condition=condition,
            position=position,
        )
    return teleservice


def doc_type(slug) -> DocumentType:
    return DocumentType.objects.get(slug=slug)


def draft_for(family, teleservice, *, child=None, documents=(), answers=None) -> EnrolmentRequest:
    """A draft filed through the service, with a PDF for each document type slug given."""
    child = (
        child
        if child is not None
        else (family.children.first() if kinds.get_kind(teleservice.kind).per_child else None)
    )
    return services.enrolment_request_save(
        teleservice=teleservice,
        family=family,
        user=family.guardians.first().user,
        today=timezone.localdate(),
        answers=answers or {"shared_custody": False, "rules_accepted": True},
        child=child,
        uploads={doc_type(slug): upload(f"{slug}.pdf") for slug in documents},
    )


def submitted_for(family, teleservice, *, child=None, documents=None) -> EnrolmentRequest:
    """A request sent to the office with all the required documents (pending review)."""
    if documents is None:
        documents = [
            rule.document_type.slug
            for rule in teleservice.document_rules.all()
            if rule.requirement == Requirement.REQUIRED
        ]
    request = draft_for(family, teleservice, child=child, documents=documents)
    return services.enrolment_request_submit(
        enrolment_request=request, user=family.guardians.first().user, today=timezone.localdate()
    )


def document(request, slug) -> RequestDocument:
    return request.documents.get(document_type__slug=slug)


def form_payload(
    child, *, action="submit", documents=(), with_child_field=True, **overrides
) -> dict:
    """What the browser posts from the request form for `child`, with a PDF for each document slug."""
    contacts = list(child.contacts.all())
    payload = {
        "action": action,
        "child-school": child.school_id or "",
        "child-school_class": child.school_class or "CE2",
        "child-canteen": "on",
        "child-health_notes": child.health_notes,
        "child-image_rights": "on",
        "contacts-TOTAL_FORMS": str(len(contacts) + 1),
        "contacts-INITIAL_FORMS": str(len(contacts)),
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
        f"contacts-{len(contacts)}-child": child.pk,
        f"contacts-{len(contacts)}-can_pick_up": "on",
        "q-rules_accepted": "on",
    }
    if with_child_field:
        payload["child"] = child.pk
    for index, contact in enumerate(contacts):
        payload.update(
            {
                f"contacts-{index}-id": contact.pk,
                f"contacts-{index}-child": child.pk,
                f"contacts-{index}-full_name": contact.full_name,
                f"contacts-{index}-relationship": contact.relationship,
                f"contacts-{index}-phone": contact.phone,
                f"contacts-{index}-can_pick_up": "on",
            }
        )
    for slug in documents:
        payload[services.document_field_name(doc_type(slug))] = upload(
            f"{slug}.pdf", validated=False
        )
    payload.update(overrides)
    return {key: value for key, value in payload.items() if value is not None}
