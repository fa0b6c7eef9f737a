"""Workflows of requests: filing, submitting, reviewing documents, deciding, replacing, purging.

Parent views and the admin call these same functions. Each is keyword-only and atomic, and raises
ValidationError (in French) that the caller shows as a form error or a message. They take
cleaned values, never forms, and enqueue no task: the Celery tasks (enrolment.tasks) call these
functions, and a caller that wants an e-mail sent after a workflow enqueues it on commit.
"""

import calendar
import contextlib
import datetime
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from common.emails import absolute_url, send_templated_email
from common.files import get_private_storage
from exchanges.services import notify_family
from families.models import ChildContact

from . import kinds
from .models import (
    DocumentType,
    Enrolment,
    EnrolmentRequest,
    RequestDocument,
    RequestEvent,
    Teleservice,
    TeleserviceDocument,
)

logger = logging.getLogger(__name__)

OFFICE_LABEL = "Pôle administratif"
SYSTEM_LABEL = "Portail famille"
REPLACE_SALT = "enrolment.document-replace"
CAF_CERTIFICATE_SLUG = "attestation-caf"

State = EnrolmentRequest.State
DocState = RequestDocument.State


# --- helpers -------------------------------------------------------------------------------


def _actor_label(user) -> str:
    if user is None:
        return SYSTEM_LABEL
    if user.is_staff:
        return OFFICE_LABEL
    return user.get_full_name() or user.email


def _log(enrolment_request: EnrolmentRequest, user, message: str, *, at=None) -> RequestEvent:
    return RequestEvent.objects.create(
        request=enrolment_request,
        actor=user,
        actor_label=_actor_label(user),
        message=message,
        at=at or timezone.now(),
    )


def _delete_files_on_commit(names):
    names = [name for name in names if name]
    if names:
        storage = get_private_storage()
        transaction.on_commit(lambda: [storage.delete(name) for name in names])


@contextlib.contextmanager
def _new_files_removed_on_error():
    """Files stored inside the block are deleted again if the block fails (the rows roll back)."""
    stored = []
    try:
        yield stored
    except BaseException:
        storage = get_private_storage()
        for name in stored:
            storage.delete(name)
        raise


def _store_file(document: RequestDocument, uploaded, user, stored: list) -> None:
    """Put `uploaded` (validated by common.files) in `document`, replacing any previous file."""
    old_name = document.file.name if document.file else ""
    uploaded.name = f"document.{uploaded.kind.extension}"  # stored under a random name anyway
    document.file = uploaded
    document.original_name = uploaded.display_name
    document.content_type = uploaded.kind.content_type
    document.size = uploaded.size
    document.uploaded_at = timezone.now()
    document.uploaded_by = user
    document.save()
    stored.append(document.file.name)
    _delete_files_on_commit([old_name])


def _lock(enrolment_request: EnrolmentRequest) -> EnrolmentRequest:
    # No select_related: PostgreSQL cannot lock the nullable side of an outer join (the child).
    return EnrolmentRequest.objects.select_for_update().get(pk=enrolment_request.pk)


def _refresh_needs_review(enrolment_request: EnrolmentRequest) -> None:
    enrolment_request.needs_review = (
        enrolment_request.state == State.SUBMITTED
        and enrolment_request.documents.filter(state=DocState.PENDING).exists()
    )
    enrolment_request.updated_at = timezone.now()
    enrolment_request.save(update_fields=["needs_review", "updated_at"])


def _months_before(moment: datetime.datetime, months: int) -> datetime.datetime:
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def document_field_name(document_type: DocumentType) -> str:
    """The name of a document's upload field in the request form (and in error dicts)."""
    return f"document_{document_type.pk}"


def condition_values(enrolment_request: EnrolmentRequest) -> dict:
    """What conditional document rules may depend on: the request's answers and the child's file."""
    values = dict(enrolment_request.answers or {})
    if enrolment_request.child_id:
        values.setdefault("has_pai", enrolment_request.child.has_pai)
        values.setdefault("canteen", enrolment_request.child.canteen)
    return values


def required_rules(enrolment_request: EnrolmentRequest) -> list[TeleserviceDocument]:
    """The téléservice's document rules that this request's answers make required."""
    values = condition_values(enrolment_request)
    return [
        rule
        for rule in enrolment_request.teleservice.document_rules.select_related("document_type")
        if rule.is_required(values)
    ]


def child_file_rows(child) -> list[list[str]]:
    """A snapshot of what the request form asked about the child, as (question, answer) pairs."""
    yes_no = {True: "Oui", False: "Non"}
    contacts = [
        f"{contact.full_name} ({contact.relationship}, {contact.phone})"
        + (" — peut venir chercher l'enfant" if contact.can_pick_up else "")
        + (" — à prévenir en cas d'urgence" if contact.is_emergency_contact else "")
        for contact in child.contacts.all()
    ]
    return [
        ["Enfant", f"{child.full_name}, né(e) le {child.birth_date:%d/%m/%Y}"],
        ["École", str(child.school or "Non scolarisé(e)")],
        ["Classe", child.school_class or "—"],
        ["Déjeune à la cantine", yes_no[child.canteen]],
        ["Projet d'accueil individualisé (PAI)", yes_no[child.has_pai]],
        ["Informations de santé", "Renseignées" if child.health_notes.strip() else "Aucune"],
        ["Droit à l'image", "Accordé" if child.image_rights else "Refusé"],
        ["Personnes autorisées ou à prévenir", " ; ".join(contacts) or "Aucune"],
    ]


# --- eligibility ---------------------------------------------------------------------------


def blocking_request(*, teleservice: Teleservice, family, child) -> EnrolmentRequest | None:
    """The request that forbids a new one for this child, kind and year (all states but refusé;
    see `Kind.one_per_teleservice` and `Kind.accepted_requests_block` for kinds that relax it)."""
    kind = kinds.get_kind(teleservice.kind)
    requests = (
        EnrolmentRequest.objects.for_family(family)
        .blocking()
        .filter(child=child, kind=teleservice.kind, school_year=teleservice.school_year)
    )
    if kind.one_per_teleservice:
        requests = requests.filter(teleservice=teleservice)
    if not kind.accepted_requests_block:
        requests = requests.exclude(state=EnrolmentRequest.State.CLOSED)
    return requests.order_by("pk").first()


def duplicate_message(existing: EnrolmentRequest) -> str:
    """Why a family may not file a second request beside `existing`, pointing to it."""
    who = f" pour {existing.child.first_name}" if existing.child_id else ""
    return (
        f"Une demande « {existing.teleservice.label} »{who} existe déjà pour {existing.school_year} "
        f"(n° {existing.number}, {existing.get_state_display().lower()}) : "
        "complétez-la ou suivez-la plutôt que d'en créer une nouvelle."
    )


def age_refusal(*, teleservice: Teleservice, child) -> str:
    """Why `child` is too young or too old for the téléservice's service; empty when eligible."""
    if teleservice.service is None or child is None:
        return ""
    return teleservice.service.age_refusal(child, teleservice.school_year)


def check_can_file(*, teleservice: Teleservice, family, child, today: datetime.date) -> None:
    """Raise ValidationError when `family` may not file a new request through `teleservice`."""
    if not teleservice.is_open(today):
        raise ValidationError(
            f"Le téléservice « {teleservice.label} » n'est pas ouvert : il est ouvert du "
            f"{teleservice.opens_on:%d/%m/%Y} au {teleservice.closes_on:%d/%m/%Y}."
        )
    if kinds.get_kind(teleservice.kind).per_child and child is None:
        raise ValidationError("Choisissez l'enfant concerné par la demande.")
    if child is not None and child.family_id != family.pk:
        raise ValidationError("Cet enfant ne fait pas partie de votre foyer.")
    existing = blocking_request(teleservice=teleservice, family=family, child=child)
    if existing is not None:
        raise ValidationError(duplicate_message(existing), code="duplicate")
    refusal = age_refusal(teleservice=teleservice, child=child)
    if refusal:
        raise ValidationError(refusal, code="age")


# --- filing and submitting (parents) -------------------------------------------------------


@dataclass(frozen=True)
class ContactChange:
    """One changed row of the child's authorised and emergency contacts, as cleaned values: an
    existing contact (`contact_id`) or a new one (None), its fields' new `values`, or `delete` it."""

    contact_id: int | None
    values: dict
    delete: bool = False


def _new_draft(
    *, teleservice: Teleservice, family, child, user, today: datetime.date
) -> EnrolmentRequest:
    """An unsaved draft, once the family may file it."""
    check_can_file(teleservice=teleservice, family=family, child=child, today=today)
    return EnrolmentRequest(
        family=family,
        child=child,
        teleservice=teleservice,
        kind=teleservice.kind,
        school_year=teleservice.school_year,
        created_by=user,
    )


def _lock_draft(enrolment_request: EnrolmentRequest) -> EnrolmentRequest:
    """The draft, locked for the update; a request already sent may not change."""
    enrolment_request = _lock(enrolment_request)
    if not enrolment_request.is_editable:
        raise ValidationError(
            "Cette demande a déjà été envoyée : elle ne peut plus être modifiée. Un justificatif "
            "refusé se remplace depuis la page de la demande."
        )
    return enrolment_request


def _child_file_save(child, *, values: dict, contacts: Iterable[ContactChange]) -> None:
    """Apply the request form's answers to the child's file, so that next year's form is prefilled."""
    if values:
        for name, value in values.items():
            setattr(child, name, value)
        child.save(update_fields=list(values))
    for change in contacts:
        contact = (
            child.contacts.get(pk=change.contact_id)
            if change.contact_id
            else ChildContact(child=child)
        )
        if change.delete:
            if contact.pk:
                contact.delete()
            continue
        for name, value in change.values.items():
            setattr(contact, name, value)
        contact.save()


def _file_attach(
    enrolment_request: EnrolmentRequest,
    document_type: DocumentType,
    uploaded,
    *,
    user,
    stored: list,
    forget_review: bool = False,
) -> tuple[RequestDocument, bool]:
    """Store `uploaded` as the request's document of `document_type` (added, or replacing the
    previous file), back to « en attente »; with `forget_review`, the previous review's date
    and author are cleared too. Returns the document and whether a file was replaced."""
    document = RequestDocument.objects.filter(
        request=enrolment_request, document_type=document_type
    ).first()
    replaced = document is not None and bool(document.file)
    document = document or RequestDocument(request=enrolment_request, document_type=document_type)
    document.state, document.reason, document.replace_nonce = DocState.PENDING, "", ""
    if forget_review:
        document.reviewed_at = document.reviewed_by = None
    _store_file(document, uploaded, user, stored)
    return document, replaced


def _uploads_store(
    enrolment_request: EnrolmentRequest, uploads: dict, *, user, stored: list
) -> None:
    """Attach each uploaded file to its document of the request (added, or replacing the previous one)."""
    allowed = {rule.document_type_id for rule in enrolment_request.teleservice.document_rules.all()}
    for document_type, uploaded in uploads.items():
        if document_type.pk not in allowed:
            raise ValidationError("Ce justificatif n'est pas demandé par ce téléservice.")
        document, replaced = _file_attach(
            enrolment_request, document_type, uploaded, user=user, stored=stored
        )
        verb = "remplacé" if replaced else "ajouté"
        _log(
            enrolment_request,
            user,
            f"Justificatif « {document_type.name} » {verb} ({document.original_name}).",
        )


def _draft_write(enrolment_request: EnrolmentRequest, *, user, today, created: bool) -> None:
    """Save the draft; a new one gets its number and the first line of its timeline."""
    enrolment_request.updated_at = timezone.now()
    enrolment_request._history_user = user
    try:
        with transaction.atomic():
            enrolment_request.save()
    except IntegrityError as exc:  # a concurrent request for the same child won the race
        raise ValidationError("Une demande existe déjà pour cet enfant cette année.") from exc
    if created:
        enrolment_request.number = f"{today.year}-{enrolment_request.pk:05d}"
        enrolment_request.save(update_fields=["number"])
        _log(enrolment_request, user, "Brouillon créé.")


@transaction.atomic
def enrolment_request_keep_uploads(
    *,
    teleservice: Teleservice,
    family,
    user,
    today: datetime.date,
    uploads: dict,
    enrolment_request: EnrolmentRequest | None = None,
    child=None,
) -> EnrolmentRequest:
    """Attach the accepted files of a request form to the family's draft, whatever else the form
    still lacks, so that the family never has to choose them again; returns the draft.

    Without `enrolment_request`, a draft is created first (same checks as any new request) with
    no answers yet. Nothing else of the draft changes: its answers, the child's file and its
    state wait for `enrolment_request_save`. Like any draft, it is purged with its files when
    left untouched for ENROLMENT_DRAFT_RETENTION_MONTHS. `uploads` maps a DocumentType to a file
    validated by common.files."""
    with _new_files_removed_on_error() as stored:
        created = enrolment_request is None
        if created:
            enrolment_request = _new_draft(
                teleservice=teleservice, family=family, child=child, user=user, today=today
            )
        else:
            enrolment_request = _lock_draft(enrolment_request)
            if enrolment_request.family_id != family.pk:
                raise ValidationError("Cette demande n'est pas celle de votre foyer.")
        _draft_write(enrolment_request, user=user, today=today, created=created)
        _uploads_store(enrolment_request, uploads, user=user, stored=stored)
    return enrolment_request


@transaction.atomic
def enrolment_request_save(
    *,
    teleservice: Teleservice,
    family,
    user,
    today: datetime.date,
    answers: dict,
    enrolment_request: EnrolmentRequest | None = None,
    child=None,
    child_values: dict | None = None,
    contacts: Iterable[ContactChange] = (),
    uploads: dict | None = None,
    submit: bool = False,
) -> EnrolmentRequest:
    """Create or update a draft (its answers, the child's file and its documents); with `submit`,
    also send it to the office. On any error nothing is saved, files included.

    `child_values` are the child's file fields to change ({field name: value}) and `contacts` the
    changed rows of its contacts; `uploads` maps a DocumentType to a file validated by
    common.files."""
    with _new_files_removed_on_error() as stored:
        created = enrolment_request is None
        if created:
            enrolment_request = _new_draft(
                teleservice=teleservice, family=family, child=child, user=user, today=today
            )
        else:
            enrolment_request = _lock_draft(enrolment_request)
        if enrolment_request.child_id:
            _child_file_save(enrolment_request.child, values=child_values or {}, contacts=contacts)
            enrolment_request.child.refresh_from_db()
            answers = {**answers, "child_file": child_file_rows(enrolment_request.child)}
        enrolment_request.answers = answers
        _draft_write(enrolment_request, user=user, today=today, created=created)
        _uploads_store(enrolment_request, uploads or {}, user=user, stored=stored)
        if submit:
            enrolment_request = enrolment_request_submit(
                enrolment_request=enrolment_request, user=user, today=today
            )
        elif not created:
            _log(enrolment_request, user, "Brouillon enregistré.")
    return enrolment_request


@transaction.atomic
def enrolment_request_submit(
    *, enrolment_request: EnrolmentRequest, user, today: datetime.date
) -> EnrolmentRequest:
    """Brouillon → en traitement, once the required answers and documents are there."""
    enrolment_request = _lock(enrolment_request)
    if not enrolment_request.can_move_to(State.SUBMITTED):
        enrolment_request.move_to(State.SUBMITTED)  # raises with the reason
    teleservice = enrolment_request.teleservice
    if not teleservice.is_open(today):
        raise ValidationError(
            f"Le téléservice « {teleservice.label} » est fermé depuis le {teleservice.closes_on:%d/%m/%Y} : "
            "la demande ne peut plus être envoyée. Écrivez au pôle administratif depuis « Échanges »."
        )
    errors = {}
    questions = kinds.get_kind(enrolment_request.kind).questions_form
    for name in questions.required_on_submit:
        if not enrolment_request.answers.get(name):
            errors[name] = "Répondez à cette question pour valider la demande."
    present = set(
        enrolment_request.documents.exclude(file="").values_list("document_type_id", flat=True)
    )
    for rule in required_rules(enrolment_request):
        if rule.document_type_id not in present:
            errors[document_field_name(rule.document_type)] = (
                f"« {rule.document_type.name} » est obligatoire pour valider la demande."
            )
    if errors:
        raise ValidationError(errors)
    refusal = age_refusal(teleservice=teleservice, child=enrolment_request.child)
    if refusal:
        raise ValidationError(refusal)
    kinds.run_hooks(enrolment_request.kind, "validate_submission", enrolment_request)
    enrolment_request.move_to(State.SUBMITTED)
    enrolment_request.submitted_at = timezone.now()
    enrolment_request._history_user = user
    enrolment_request.save(update_fields=["state", "submitted_at"])
    _refresh_needs_review(enrolment_request)
    _log(enrolment_request, user, "Demande validée et envoyée au pôle administratif.")
    return enrolment_request


# --- document review (office) --------------------------------------------------------------


def _lock_document(document: RequestDocument) -> RequestDocument:
    return RequestDocument.objects.select_for_update().get(pk=document.pk)


def _check_under_review(enrolment_request: EnrolmentRequest) -> None:
    if enrolment_request.state != State.SUBMITTED:
        raise ValidationError(
            f"La demande est « {enrolment_request.get_state_display().lower()} » : ses justificatifs ne se vérifient "
            "que pendant son traitement."
        )


@transaction.atomic
def document_validate(*, document: RequestDocument, user) -> RequestDocument:
    """The office accepts one document."""
    document = _lock_document(document)
    _check_under_review(document.request)
    if not document.file:
        raise ValidationError("Ce justificatif n'a pas de fichier : il ne peut pas être validé.")
    document.move_to(DocState.VALIDATED)
    document.reason, document.replace_nonce = "", ""
    document.reviewed_at, document.reviewed_by = timezone.now(), user
    document.save()
    _refresh_needs_review(document.request)
    _log(document.request, user, f"Justificatif « {document.document_type.name} » validé.")
    return document


@transaction.atomic
def document_refuse(*, document: RequestDocument, user, reason: str) -> RequestDocument:
    """The office refuses a document with a reason, told to the family in « Échanges ». The caller
    then e-mails the link to replace it (`tasks.send_replace_link`, on commit)."""
    return _send_back(document=document, user=user, reason=reason, state=DocState.REFUSED)


@transaction.atomic
def document_request_update(*, document: RequestDocument, user, reason: str) -> RequestDocument:
    """The office asks for a newer version of a document (e.g. a CAF certificate over 3 months
    old). The caller then e-mails the link to replace it (`tasks.send_replace_link`, on commit)."""
    return _send_back(document=document, user=user, reason=reason, state=DocState.TO_UPDATE)


def _send_back(*, document, user, reason, state) -> RequestDocument:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Indiquez le motif : il est envoyé à la famille.")
    document = _lock_document(document)
    enrolment_request = document.request
    _check_under_review(enrolment_request)
    document.move_to(state)
    document.reason = reason
    document.reviewed_at, document.reviewed_by = timezone.now(), user
    document.replace_nonce = secrets.token_hex(16)
    document.save()
    _refresh_needs_review(enrolment_request)
    name = document.document_type.name
    if state == DocState.REFUSED:
        _log(enrolment_request, user, f"Justificatif « {name} » refusé : {reason}")
        subject = f"Justificatif refusé : {enrolment_request.teleservice.label} numéro {enrolment_request.number}"
        opening = (
            f"Le justificatif « {name} » de votre demande n° {enrolment_request.number} est refusé."
        )
    else:
        _log(
            enrolment_request,
            user,
            f"Mise à jour demandée pour le justificatif « {name} » : {reason}",
        )
        subject = f"Justificatif à mettre à jour : {enrolment_request.teleservice.label} numéro {enrolment_request.number}"
        opening = f"Le justificatif « {name} » de votre demande n° {enrolment_request.number} est à mettre à jour."
    notify_family(
        family=enrolment_request.family,
        subject=subject,
        body=(
            f"{opening}\n\nMotif : {reason}\n\n"
            "Ne refaites pas de demande : envoyez le nouveau document depuis le lien reçu par e-mail ou "
            f"depuis la page de votre demande : {absolute_url(enrolment_request.get_absolute_url())}"
        ),
        related=enrolment_request,
    )
    return document


@transaction.atomic
def document_attach_by_office(
    *, enrolment_request: EnrolmentRequest, document_type: DocumentType, uploaded, user
) -> RequestDocument:
    """Staff attach (or replace) a document on the family's behalf, e.g. one sent by e-mail."""
    enrolment_request = _lock(enrolment_request)
    if enrolment_request.state not in (State.DRAFT, State.SUBMITTED):
        raise ValidationError(
            "Cette demande est close : on ne peut plus y joindre de justificatif."
        )
    if not enrolment_request.teleservice.document_rules.filter(
        document_type=document_type
    ).exists():
        raise ValidationError("Ce justificatif n'est pas demandé par ce téléservice.")
    with _new_files_removed_on_error() as stored:
        document, replaced = _file_attach(
            enrolment_request,
            document_type,
            uploaded,
            user=user,
            stored=stored,
            forget_review=True,
        )
        verb = "remplacé" if replaced else "joint"
        _log(
            enrolment_request,
            user,
            f"Justificatif « {document_type.name} » {verb} par le pôle administratif "
            f"pour le compte de la famille ({document.original_name}).",
        )
        _refresh_needs_review(enrolment_request)
    return document


# --- replacement (parents) -----------------------------------------------------------------


def replace_token(document: RequestDocument) -> str:
    """The signed token of the e-mailed link that replaces exactly `document`, once."""
    return signing.dumps({"d": document.pk, "n": document.replace_nonce}, salt=REPLACE_SALT)


def replace_url(document: RequestDocument) -> str:
    """The absolute URL of the e-mailed link that replaces exactly `document`, once."""
    return absolute_url(reverse("enrolment:document_replace_link", args=[replace_token(document)]))


def replace_link_send(*, document_id: int) -> int:
    """E-mail the guardians the single-use link to replace a refused or to-update document; the
    number of e-mails sent (none when the document was replaced or decided meanwhile)."""
    document = (
        RequestDocument.objects.select_related(
            "request__teleservice", "request__family", "request__child", "document_type"
        )
        .filter(pk=document_id)
        .first()
    )
    if document is None or not document.replace_nonce or not document.needs_replacement:
        return 0  # the link would not work
    enrolment_request = document.request
    context = {
        "document": document,
        "enrolment_request": enrolment_request,
        "replace_url": replace_url(document),
        "request_url": absolute_url(enrolment_request.get_absolute_url()),
        "link_days": settings.ENROLMENT_REPLACE_LINK_DAYS,
    }
    recipients = list(enrolment_request.family.guardians.values_list("user__email", flat=True))
    return send_templated_email("document_replace", context, recipients)


def document_for_token(*, token: str, family) -> tuple[RequestDocument, str]:
    """The family's document a replace link points to, and the link's nonce.

    Raises RequestDocument.DoesNotExist when the link is not one of this family's (the view
    answers 404), ValidationError when it has expired or already served."""
    max_age = datetime.timedelta(days=settings.ENROLMENT_REPLACE_LINK_DAYS)
    try:
        payload = signing.loads(token, salt=REPLACE_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        # Still only the family's own document: another family's expired link stays a 404.
        payload = signing.loads(token, salt=REPLACE_SALT)
        RequestDocument.objects.for_family(family).get(pk=payload["d"])
        raise ValidationError(
            "Ce lien a expiré. Vous pouvez toujours envoyer le document depuis la page de votre demande."
        ) from exc
    except signing.BadSignature as exc:
        raise RequestDocument.DoesNotExist from exc
    document = (
        RequestDocument.objects.for_family(family)
        .select_related("request__teleservice", "document_type")
        .get(pk=payload["d"])
    )
    nonce = payload.get("n") or ""
    if not nonce or nonce != document.replace_nonce or not document.needs_replacement:
        raise ValidationError(
            "Ce lien a déjà servi : un lien de remplacement ne s'utilise qu'une fois. Retrouvez l'état de "
            "vos justificatifs sur la page de votre demande."
        )
    return document, nonce


@transaction.atomic
def document_replace(
    *, document: RequestDocument, uploaded, user, nonce: str | None = None
) -> RequestDocument:
    """A family sends a new file for a refused or to-update document: it goes back to pending and
    the request is flagged for review. With `nonce` (the e-mailed link), the link must be unused."""
    document = _lock_document(document)
    enrolment_request = document.request
    if nonce is not None and (not document.replace_nonce or nonce != document.replace_nonce):
        raise ValidationError(
            "Ce lien a déjà servi : un lien de remplacement ne s'utilise qu'une fois."
        )
    if enrolment_request.state != State.SUBMITTED or not document.needs_replacement:
        raise ValidationError("Ce justificatif n'attend pas de nouveau fichier.")
    with _new_files_removed_on_error() as stored:
        previous = document.get_state_display().lower()
        document.move_to(DocState.PENDING)
        document.reason, document.replace_nonce = "", ""
        document.reviewed_at = document.reviewed_by = None
        _store_file(document, uploaded, user, stored)
        _refresh_needs_review(enrolment_request)
        _log(
            enrolment_request,
            user,
            f"Nouveau fichier envoyé pour le justificatif « {document.document_type.name} » "
            f"({previous}) : {document.original_name}.",
        )
    return document


# --- decisions (office) --------------------------------------------------------------------


def acceptance_problems(enrolment_request: EnrolmentRequest) -> list[str]:
    """Why the request cannot be accepted yet (empty when it can)."""
    problems = []
    documents = {
        document.document_type_id: document for document in enrolment_request.documents.all()
    }
    for rule in required_rules(enrolment_request):
        document = documents.get(rule.document_type_id)
        if document is None or not document.file:
            problems.append(f"« {rule.document_type.name} » manque.")
        elif document.state != DocState.VALIDATED:
            problems.append(
                f"« {rule.document_type.name} » est {document.get_state_display().lower()}."
            )
    for document in documents.values():
        if (
            document.state == DocState.PENDING
            and document.file
            and not any(
                rule.document_type_id == document.document_type_id
                for rule in required_rules(enrolment_request)
            )
        ):
            problems.append(f"« {document.document_type.name} » attend sa vérification.")
    return problems


@transaction.atomic
def enrolment_request_accept(
    *, enrolment_request: EnrolmentRequest, user, today: datetime.date
) -> Enrolment | None:
    """En traitement → clos: the child's enrolment becomes effective from `today`."""
    enrolment_request = _lock(enrolment_request)
    if not enrolment_request.can_move_to(State.CLOSED):
        enrolment_request.move_to(State.CLOSED)  # raises with the reason
    problems = acceptance_problems(enrolment_request)
    if problems:
        raise ValidationError(
            "La demande ne peut être acceptée que lorsque tous les justificatifs obligatoires sont validés : "
            + " ".join(problems)
        )
    kinds.run_hooks(enrolment_request.kind, "validate_submission", enrolment_request)
    enrolment = None
    service = enrolment_request.teleservice.service
    if service is not None and enrolment_request.child_id:
        enrolment, _ = Enrolment.objects.get_or_create(
            child=enrolment_request.child,
            service=service,
            school_year=enrolment_request.school_year,
            defaults={"effective_on": today, "request": enrolment_request},
        )
    kinds.run_hooks(enrolment_request.kind, "on_accept", enrolment_request, user=user, today=today)
    enrolment_request.move_to(State.CLOSED)
    enrolment_request.decided_at, enrolment_request.decided_by = timezone.now(), user
    enrolment_request._history_user = user
    enrolment_request.needs_review = False
    enrolment_request.save(update_fields=["state", "decided_at", "decided_by", "needs_review"])
    enrolment_request.documents.exclude(replace_nonce="").update(replace_nonce="")
    if enrolment is not None:
        _log(
            enrolment_request,
            user,
            f"Demande acceptée : {enrolment_request.child.first_name} est inscrit(e) à « {service.label} » "
            f"pour {enrolment_request.school_year}, à partir du {enrolment.effective_on:%d/%m/%Y}.",
        )
        body = (
            f"Votre demande n° {enrolment_request.number} est acceptée : {enrolment_request.child.first_name} est inscrit(e) à "
            f"« {service.label} » pour l'année {enrolment_request.school_year}, à partir du "
            f"{enrolment.effective_on:%d/%m/%Y}."
        )
    else:
        _log(enrolment_request, user, "Demande acceptée.")
        body = f"Votre demande n° {enrolment_request.number} est acceptée."
    notify_family(
        family=enrolment_request.family,
        subject=f"Acceptation de votre demande : {enrolment_request.teleservice.label} numéro {enrolment_request.number}",
        body=body,
        related=enrolment_request,
    )
    return enrolment


@transaction.atomic
def enrolment_request_refuse(
    *, enrolment_request: EnrolmentRequest, user, reason: str
) -> EnrolmentRequest:
    """En traitement → refusé, with a reason sent to the family."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Indiquez le motif du refus : il est envoyé à la famille.")
    enrolment_request = _lock(enrolment_request)
    enrolment_request.move_to(State.REFUSED)
    enrolment_request.refusal_reason = reason
    enrolment_request._history_user = user
    enrolment_request.decided_at, enrolment_request.decided_by = timezone.now(), user
    enrolment_request.needs_review = False
    # Bank details are kept only as long as they may be used: a refused request keeps them masked.
    enrolment_request.answers = kinds.get_kind(enrolment_request.kind).scrub_answers(
        enrolment_request.answers
    )
    enrolment_request.save(
        update_fields=[
            "state",
            "refusal_reason",
            "decided_at",
            "decided_by",
            "needs_review",
            "answers",
        ]
    )
    enrolment_request.documents.exclude(replace_nonce="").update(replace_nonce="")
    _log(enrolment_request, user, f"Demande refusée : {reason}")
    notify_family(
        family=enrolment_request.family,
        subject=f"Refus de votre demande : {enrolment_request.teleservice.label} numéro {enrolment_request.number}",
        body=f"Votre demande n° {enrolment_request.number} est refusée.\n\nMotif : {reason}",
        related=enrolment_request,
    )
    return enrolment_request


def qf_update_prompt(enrolment_request: EnrolmentRequest) -> str:
    """For an accepted périscolaire request with a validated CAF certificate: what the assistant
    should do next (update the family's QF); empty otherwise."""
    if (
        enrolment_request.kind != Teleservice.Kind.PERISCOLAIRE
        or enrolment_request.state != State.CLOSED
    ):
        return ""
    has_caf = enrolment_request.documents.filter(
        document_type__slug=CAF_CERTIFICATE_SLUG, state=DocState.VALIDATED
    ).exists()
    if not has_caf:
        return ""
    return (
        "L'attestation CAF de cette demande est validée : mettez à jour le quotient familial du foyer "
        f"{enrolment_request.family.name} et sa date de validité."
    )


# --- retention (night job) -----------------------------------------------------------------


def purge_enrolment_data(*, now: datetime.datetime) -> dict[str, int]:
    """Delete drafts untouched for ENROLMENT_DRAFT_RETENTION_MONTHS, and the documents (files too)
    of requests closed or refused more than ENROLMENT_DOCUMENT_RETENTION_MONTHS ago."""
    drafts = _purge_drafts(cutoff=_months_before(now, settings.ENROLMENT_DRAFT_RETENTION_MONTHS))
    documents = _purge_documents(
        cutoff=_months_before(now, settings.ENROLMENT_DOCUMENT_RETENTION_MONTHS), now=now
    )
    logger.info(
        "Purge des demandes: %d brouillon(s), %d justificatif(s) supprimés", drafts, documents
    )
    return {"drafts": drafts, "documents": documents}


def _purge_drafts(*, cutoff: datetime.datetime) -> int:
    """Delete the drafts untouched since `cutoff`, one transaction each; how many went."""
    drafts = 0
    draft_ids = list(
        EnrolmentRequest.objects.filter(state=State.DRAFT, updated_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    for pk in draft_ids:
        with transaction.atomic():
            enrolment_request = (
                EnrolmentRequest.objects.select_for_update()
                .filter(pk=pk, state=State.DRAFT, updated_at__lt=cutoff)
                .first()
            )
            if enrolment_request is None:  # submitted or edited meanwhile
                continue
            names = list(
                enrolment_request.documents.exclude(file="").values_list("file", flat=True)
            )
            logger.info(
                "Purge: brouillon %s (foyer %s) supprimé, %d fichier(s)",
                enrolment_request.number,
                enrolment_request.family_id,
                len(names),
            )
            enrolment_request.delete()
            _delete_files_on_commit(names)
            drafts += 1
    return drafts


def _purge_documents(*, cutoff: datetime.datetime, now: datetime.datetime) -> int:
    """Delete the documents of requests decided before `cutoff`, one transaction per request,
    noted in its timeline at `now`; how many went."""
    documents = 0
    enrolment_request_ids = list(
        EnrolmentRequest.objects.filter(
            state__in=[State.CLOSED, State.REFUSED],
            decided_at__lt=cutoff,
            documents__isnull=False,
        )
        .distinct()
        .values_list("pk", flat=True)
    )
    for pk in enrolment_request_ids:
        with transaction.atomic():
            enrolment_request = EnrolmentRequest.objects.select_for_update().get(pk=pk)
            rows = list(enrolment_request.documents.all())
            if not rows:
                continue
            _delete_files_on_commit([row.file.name for row in rows if row.file])
            RequestDocument.objects.filter(pk__in=[row.pk for row in rows]).delete()
            _log(
                enrolment_request,
                None,
                f"{len(rows)} justificatif(s) supprimé(s) : la durée de conservation est écoulée.",
                at=now,
            )
            logger.info(
                "Purge: %d justificatif(s) de la demande %s supprimé(s)",
                len(rows),
                enrolment_request.number,
            )
            documents += len(rows)
    return documents
