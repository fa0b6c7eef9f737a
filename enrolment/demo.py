"""Demo téléservices and requests (seed_demo, seed_bench): every state, with documents and timelines."""

import datetime
import secrets

from django.core.files.base import ContentFile
from django.utils import timezone

from exchanges.services import notify_family
from families.models import SchoolYear

from .models import (
    DocumentType,
    Enrolment,
    EnrolmentRequest,
    RequestDocument,
    RequestEvent,
    Service,
    Teleservice,
    TeleserviceDocument,
)
from .services import OFFICE_LABEL, child_file_rows

Kind = Teleservice.Kind
Requirement = TeleserviceDocument.Requirement
State = EnrolmentRequest.State
DocState = RequestDocument.State

# kind → (label pattern, slug pattern, service slug, [(document type slug, requirement, condition)])
TELESERVICES = {
    Kind.PERISCOLAIRE: (
        "Périscolaire : Première étape - Réaliser l'inscription {first}/{second}",
        "periscolaire-inscription-{first}-{second}",
        "periscolaire",
        [
            ("attestation-caf", Requirement.REQUIRED, ""),
            ("justificatif-domicile", Requirement.REQUIRED, ""),
            ("vaccinations", Requirement.REQUIRED, ""),
            ("jugement-garde", Requirement.CONDITIONAL, "shared_custody"),
            ("pai", Requirement.CONDITIONAL, "has_pai"),
            ("assurance", Requirement.OPTIONAL, ""),
        ],
    ),
    Kind.ALAI: (
        "Loisirs : Inscrire mon enfant à l'accueil d'Alaï 3-12 ans - Mercredis",
        "alai-mercredis-{first}-{second}",
        "alai",
        [
            ("vaccinations", Requirement.REQUIRED, ""),
            ("assurance", Requirement.REQUIRED, ""),
            ("jugement-garde", Requirement.CONDITIONAL, "shared_custody"),
            ("pai", Requirement.CONDITIONAL, "has_pai"),
        ],
    ),
    Kind.PRELEVEMENT: (
        "Périscolaire : Prélèvement automatique Léo Lagrange",
        "prelevement-automatique-{first}-{second}",
        None,
        [("rib", Requirement.REQUIRED, ""), ("mandat-sepa", Requirement.REQUIRED, "")],
    ),
}

# Document types the reference data (enrolment's migration) does not ship; the office may add
# or edit them in the admin.
EXTRA_DOCUMENT_TYPES = [
    {
        "slug": "mandat-sepa",
        "name": "Mandat de prélèvement SEPA signé",
        "description": "Le mandat de prélèvement SEPA (formulaire disponible au guichet et sur le site de la "
        "Ville), daté et signé par le titulaire du compte.",
    },
]


def _demo_pdf() -> bytes:
    """A one-page A4 PDF that viewers open (the review page shows it in a frame)."""
    text = b"BT /F1 18 Tf 72 760 Td (Justificatif de d\\351monstration) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
    ]
    pdf, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return pdf


DEMO_PDF = _demo_pdf()


def _school_years(today: datetime.date):
    current = SchoolYear.objects.current(today)
    previous = (
        SchoolYear.objects.filter(start_date__lt=current.start_date).order_by("-start_date").first()
    )
    return current, previous


def ensure_teleservices(today: datetime.date) -> dict:
    """The téléservices of the current and previous school years, created if missing.

    {("current" | "previous", kind): Teleservice}. Each is open from 1 June to the end of its
    school year (billing maps the direct-debit one to its régie). Existing téléservices are left as
    the office edited them."""
    current, previous = _school_years(today)
    for row in EXTRA_DOCUMENT_TYPES:
        DocumentType.objects.get_or_create(slug=row["slug"], defaults=row)
    result = {}
    for when, school_year in (("current", current), ("previous", previous)):
        if school_year is None:
            continue
        first, second = school_year.start_date.year, school_year.start_date.year + 1
        opens_on = datetime.date(first, 6, 1)
        for kind, (label, slug, service_slug, rules) in TELESERVICES.items():
            closes_on = school_year.end_date
            teleservice, created = Teleservice.objects.get_or_create(
                slug=slug.format(first=first, second=second),
                defaults={
                    "kind": kind,
                    "label": label.format(first=first, second=second),
                    "school_year": school_year,
                    "service": Service.objects.get(slug=service_slug) if service_slug else None,
                    "opens_on": opens_on,
                    "closes_on": closes_on,
                },
            )
            if created:
                for position, (type_slug, requirement, condition) in enumerate(rules):
                    TeleserviceDocument.objects.create(
                        teleservice=teleservice,
                        document_type=DocumentType.objects.get(slug=type_slug),
                        requirement=requirement,
                        condition=condition,
                        position=position,
                    )
            result[(when, kind)] = teleservice
    return result


def _at(today: datetime.date, days_ago: int, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=days_ago), datetime.time(hour))
    )


def _event(enrolment_request, at, message, *, user=None, office=False):
    """One line of the request's timeline, by the family or the office."""
    label = OFFICE_LABEL if office else (user.get_full_name() or user.email)
    RequestEvent.objects.create(
        request=enrolment_request,
        at=at,
        actor=None if office else user,
        actor_label=label,
        message=message,
    )


def _create_enrolment_request(family, guardian_user, teleservices, today, spec):
    """One demo request, with its documents, timeline and, when closed, the child's enrolment."""
    when, kind, child_name, state, days_ago = (
        spec["when"],
        spec["kind"],
        spec["child"],
        spec["state"],
        spec["days"],
    )
    teleservice = teleservices[(when, kind)]
    child = family.children.get(first_name=child_name) if child_name else None
    if child is not None and spec.get("child_updates"):
        for name, value in spec["child_updates"].items():
            setattr(child, name, value)
        child.save()
    created_at = _at(today, days_ago)
    answers = dict(
        spec.get("answers", {"shared_custody": False, "rules_accepted": state != State.DRAFT})
    )
    if child is not None:
        answers["child_file"] = child_file_rows(child)
    enrolment_request = EnrolmentRequest.objects.create(
        family=family,
        child=child,
        teleservice=teleservice,
        kind=kind,
        school_year=teleservice.school_year,
        state=state,
        answers=answers,
        created_by=guardian_user,
        created_at=created_at,
        updated_at=created_at + datetime.timedelta(hours=1),
        submitted_at=None if state == State.DRAFT else created_at + datetime.timedelta(hours=1),
        refusal_reason=spec.get("refusal", ""),
    )
    enrolment_request.number = f"{created_at.year}-{enrolment_request.pk:05d}"
    enrolment_request.save(update_fields=["number"])
    _event(enrolment_request, created_at, "Brouillon créé.", user=guardian_user)
    review_at = created_at + datetime.timedelta(days=2)
    for type_slug, doc_state, reason in spec.get("documents", []):
        document_type = DocumentType.objects.get(slug=type_slug)
        document = RequestDocument(
            request=enrolment_request,
            document_type=document_type,
            state=doc_state,
            reason=reason,
            original_name=f"{document_type.slug}.pdf",
            content_type="application/pdf",
            size=len(DEMO_PDF),
            uploaded_at=created_at,
            uploaded_by=guardian_user,
            reviewed_at=None if doc_state == DocState.PENDING else review_at,
        )
        if doc_state in (DocState.REFUSED, DocState.TO_UPDATE):
            document.replace_nonce = secrets.token_hex(16)
        document.file.save("document.pdf", ContentFile(DEMO_PDF), save=False)
        document.save()
        _event(
            enrolment_request,
            created_at,
            f"Justificatif « {document_type.name} » ajouté ({document.original_name}).",
            user=guardian_user,
        )
        if doc_state == DocState.VALIDATED:
            _event(
                enrolment_request,
                review_at,
                f"Justificatif « {document_type.name} » validé.",
                office=True,
            )
        elif doc_state == DocState.REFUSED:
            _event(
                enrolment_request,
                review_at,
                f"Justificatif « {document_type.name} » refusé : {reason}",
                office=True,
            )
            notify_family(
                family=family,
                subject=f"Justificatif refusé : {teleservice.label} numéro {enrolment_request.number}",
                body=f"Le justificatif « {document_type.name} » de votre demande n° {enrolment_request.number} est refusé."
                f"\n\nMotif : {reason}\n\nNe refaites pas de demande : envoyez le nouveau document depuis la "
                "page de votre demande, dans « Mes demandes ».",
                related=enrolment_request,
            )
    if state != State.DRAFT:
        _event(
            enrolment_request,
            created_at + datetime.timedelta(hours=1),
            "Demande validée et envoyée au pôle administratif.",
            user=guardian_user,
        )
    enrolment_request.needs_review = (
        state == State.SUBMITTED
        and enrolment_request.documents.filter(state=DocState.PENDING).exists()
    )
    if state in (State.CLOSED, State.REFUSED):
        enrolment_request.decided_at = created_at + datetime.timedelta(days=3)
    enrolment_request.save(update_fields=["needs_review", "decided_at"])
    if state == State.CLOSED and teleservice.service and child:
        enrolment, _ = Enrolment.objects.get_or_create(
            child=child,
            service=teleservice.service,
            school_year=teleservice.school_year,
            defaults={
                "effective_on": enrolment_request.decided_at.date(),
                "request": enrolment_request,
            },
        )
        _event(
            enrolment_request,
            enrolment_request.decided_at,
            f"Demande acceptée : {child.first_name} est inscrit(e) à « {teleservice.service.label} » pour "
            f"{teleservice.school_year}, à partir du {enrolment.effective_on:%d/%m/%Y}.",
            office=True,
        )
    elif state == State.REFUSED:
        _event(
            enrolment_request,
            enrolment_request.decided_at,
            f"Demande refusée : {enrolment_request.refusal_reason}",
            office=True,
        )
    return enrolment_request


def seed_requests(family, today: datetime.date, *, plan) -> None:
    """Create the family's demo requests once (skipped when it has requests already)."""
    teleservices = ensure_teleservices(today)
    if not EnrolmentRequest.objects.for_family(family).exists():
        guardian_user = family.guardians.order_by("pk").first().user
        for spec in plan:
            if (spec["when"], spec["kind"]) in teleservices:
                _create_enrolment_request(family, guardian_user, teleservices, today, spec)


def ensure_enrolments(
    family, today: datetime.date, *, children, services=("periscolaire", "alai")
) -> None:
    """The named children are enrolled (effective) in both services for the current school year,
    whatever happened to the demo requests since."""
    current, _ = _school_years(today)
    for child in family.children.filter(first_name__in=children):
        for slug in services:
            Enrolment.objects.get_or_create(
                child=child,
                service=Service.objects.get(slug=slug),
                school_year=current,
                defaults={
                    "effective_on": max(current.start_date, today - datetime.timedelta(days=60))
                },
            )


V, P, R, U = DocState.VALIDATED, DocState.PENDING, DocState.REFUSED, DocState.TO_UPDATE

LAGRANGE_REQUESTS = [
    {
        "when": "previous",
        "kind": Kind.PERISCOLAIRE,
        "child": "Léa",
        "state": State.CLOSED,
        "days": 170,
        "child_updates": {"has_pai": True, "canteen": True, "image_rights": True},
        "documents": [
            ("attestation-caf", V, ""),
            ("justificatif-domicile", V, ""),
            ("vaccinations", V, ""),
            ("pai", V, ""),
        ],
    },
    {
        "when": "previous",
        "kind": Kind.ALAI,
        "child": "Lalo",
        "state": State.REFUSED,
        "days": 160,
        "refusal": "Dossier incomplet : l'attestation d'assurance extrascolaire n'a pas été fournie malgré nos relances.",
        "documents": [("vaccinations", V, "")],
    },
    {
        "when": "previous",
        "kind": Kind.ALAI,
        "child": "Léa",
        "state": State.DRAFT,
        "days": 130,
        "documents": [("vaccinations", P, "")],
    },
    {
        "when": "current",
        "kind": Kind.PERISCOLAIRE,
        "child": "Léa",
        "state": State.CLOSED,
        "days": 120,
        "documents": [
            ("attestation-caf", V, ""),
            ("justificatif-domicile", V, ""),
            ("vaccinations", V, ""),
            ("pai", V, ""),
        ],
    },
    {
        "when": "current",
        "kind": Kind.PERISCOLAIRE,
        "child": "Lalo",
        "state": State.CLOSED,
        "days": 120,
        "child_updates": {"canteen": True, "image_rights": True},
        "documents": [
            ("attestation-caf", V, ""),
            ("justificatif-domicile", V, ""),
            ("vaccinations", V, ""),
        ],
    },
    {
        "when": "current",
        "kind": Kind.ALAI,
        "child": "Léa",
        "state": State.CLOSED,
        "days": 100,
        "documents": [("vaccinations", V, ""), ("assurance", V, "")],
    },
    {
        "when": "current",
        "kind": Kind.ALAI,
        "child": "Lalo",
        "state": State.CLOSED,
        "days": 100,
        "documents": [("vaccinations", V, ""), ("assurance", V, "")],
    },
    {
        "when": "current",
        "kind": Kind.PRELEVEMENT,
        "child": None,
        "state": State.SUBMITTED,
        "days": 178,
        "answers": {
            "account_holder": "Marie LAGRANGE",
            "iban": "FR7630006000011234567890189",
            "bic": "AGRIFRPP",
            "mandate_accepted": True,
        },
        "documents": [
            (
                "rib",
                R,
                "Le RIB transmis n'est pas au nom d'un responsable légal de l'enfant : merci "
                "d'envoyer le RIB de votre compte.",
            )
        ],
    },
]

BERNARD_REQUESTS = [
    {
        "when": "previous",
        "kind": Kind.PERISCOLAIRE,
        "child": "Nina",
        "state": State.CLOSED,
        "days": 175,
        "child_updates": {"canteen": True},
        "documents": [
            ("attestation-caf", V, ""),
            ("justificatif-domicile", V, ""),
            ("vaccinations", V, ""),
        ],
    },
    {
        "when": "previous",
        "kind": Kind.ALAI,
        "child": "Nina",
        "state": State.REFUSED,
        "days": 165,
        "refusal": "Plus aucune place le mercredi pour l'année en cours : votre enfant est sur liste d'attente.",
        "documents": [("vaccinations", V, ""), ("assurance", V, "")],
    },
    {
        "when": "current",
        "kind": Kind.PERISCOLAIRE,
        "child": "Nina",
        "state": State.SUBMITTED,
        "days": 20,
        "documents": [
            ("attestation-caf", P, ""),
            ("vaccinations", V, ""),
            (
                "justificatif-domicile",
                R,
                "Le justificatif de domicile est illisible : merci d'envoyer "
                "une facture de moins de 3 mois, entière et nette.",
            ),
        ],
    },
    {
        "when": "current",
        "kind": Kind.ALAI,
        "child": "Nina",
        "state": State.DRAFT,
        "days": 4,
        "documents": [("vaccinations", P, "")],
    },
    # Accepted before any invoice of the year: billing gives it its mandate (billing.demo).
    {
        "when": "current",
        "kind": Kind.PRELEVEMENT,
        "child": None,
        "state": State.CLOSED,
        "days": 80,
        "answers": {
            "account_holder": "Karim BERNARD",
            "iban": "FR7630006000019876543210076",
            "bic": "AGRIFRPP",
            "mandate_accepted": True,
        },
        "documents": [("rib", V, ""), ("mandat-sepa", V, "")],
    },
]
