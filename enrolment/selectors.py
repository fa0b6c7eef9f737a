"""Read-side helpers of the parent pages: what a family may file, and what a request shows."""

import datetime
from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from families.models import Child

from . import kinds, services
from .models import EnrolmentRequest, RequestDocument, Teleservice

# A document the family is asked to send again.
TO_REPLACE = [RequestDocument.State.REFUSED, RequestDocument.State.TO_UPDATE]


@dataclass
class OfferRow:
    """One line of the "Éducation - Enfance" page: a téléservice for one child (or the family)."""

    teleservice: Teleservice
    child: Child | None
    existing: EnrolmentRequest | None
    refusal: str = ""


def teleservice_offers(*, family, today: datetime.date) -> list[dict]:
    """The téléservices open on `today`, each with a row per child (or one for the family)."""
    teleservices = list(
        Teleservice.objects.open_on(today)
        .select_related("school_year", "service")
        .order_by("label")
    )
    children = list(Child.objects.for_family(family))
    live = _live(
        EnrolmentRequest.objects.for_family(family)
        .blocking()
        .filter(school_year__in={teleservice.school_year_id for teleservice in teleservices})
    )
    return [
        {"teleservice": teleservice, "rows": _rows(teleservice, children, live)}
        for teleservice in teleservices
    ]


def offer_rows(*, family, teleservice: Teleservice) -> list[OfferRow]:
    """The rows of one téléservice: for each child (or the family), its live request or why not."""
    live = _live(
        EnrolmentRequest.objects.for_family(family)
        .blocking()
        .filter(kind=teleservice.kind, school_year=teleservice.school_year)
    )
    return _rows(teleservice, list(Child.objects.for_family(family)), live)


def _key(child_id, kind: str, school_year_id, teleservice_id) -> tuple:
    """What a live request blocks, as services.blocking_request decides: the child, kind and
    year, or the téléservice itself for a kind filed once per téléservice."""
    if kinds.get_kind(kind).one_per_teleservice:
        return (child_id, kind, "teleservice", teleservice_id)
    return (child_id, kind, school_year_id)


def _live(enrolment_requests) -> dict:
    """The requests among `enrolment_requests` that block a new one, by what they block."""
    live = {}
    for enrolment_request in enrolment_requests.select_related(
        "teleservice", "child", "school_year"
    ):
        kind = kinds.get_kind(enrolment_request.kind)
        if (
            not kind.accepted_requests_block
            and enrolment_request.state == EnrolmentRequest.State.CLOSED
        ):
            continue
        key = _key(
            enrolment_request.child_id,
            enrolment_request.kind,
            enrolment_request.school_year_id,
            enrolment_request.teleservice_id,
        )
        live[key] = enrolment_request
    return live


def _rows(teleservice, children, live) -> list[OfferRow]:
    rows = []
    for child in children if kinds.get_kind(teleservice.kind).per_child else [None]:
        existing = live.get(
            _key(
                child.pk if child else None,
                teleservice.kind,
                teleservice.school_year_id,
                teleservice.pk,
            )
        )
        refusal = "" if existing else services.age_refusal(teleservice=teleservice, child=child)
        rows.append(OfferRow(teleservice, child, existing, refusal))
    return rows


def previous_answers(*, family, teleservice: Teleservice, child) -> dict:
    """Last year's answers to the same kind of request, to prefill a new one (never the boxes
    that must be ticked again, such as accepting the rules)."""
    previous = (
        EnrolmentRequest.objects.for_family(family)
        .filter(kind=teleservice.kind, child=child)
        .exclude(school_year=teleservice.school_year)
        .order_by("-created_at", "-pk")
        .first()
    )
    if previous is None:
        return {}
    skipped = {"child_file", *kinds.get_kind(teleservice.kind).questions_form.required_on_submit}
    return {key: value for key, value in previous.answers.items() if key not in skipped}


def enrolment_request_detail_context(enrolment_request: EnrolmentRequest) -> dict:
    """What the family's request page shows: answers, child's file, documents, missing ones, timeline."""
    documents = list(enrolment_request.documents.select_related("document_type").order_by("pk"))
    present = {document.document_type_id for document in documents if document.file}
    missing = [
        rule.document_type
        for rule in services.required_rules(enrolment_request)
        if rule.document_type_id not in present
    ]
    return {
        "enrolment_request": enrolment_request,
        "answer_rows": kinds.answer_rows(enrolment_request),
        "child_file": enrolment_request.answers.get("child_file", []),
        "documents": documents,
        "missing_documents": missing,
        "events": list(enrolment_request.events.order_by("at", "pk")),
    }


def documents_to_replace(family):
    """The family's documents to send again (refused or to update) on requests « en
    traitement », with their request, téléservice and child: one query."""
    return (
        RequestDocument.objects.for_family(family)
        .filter(state__in=TO_REPLACE, request__state=EnrolmentRequest.State.SUBMITTED)
        .select_related("document_type", "request__teleservice", "request__child")
        .order_by("request__created_at", "request_id", "pk")
    )


def with_document_to_replace(queryset):
    """`queryset` of requests annotated with `has_document_to_replace`: « en traitement » with
    a document refused or to update."""
    waiting = RequestDocument.objects.filter(request=OuterRef("pk"), state__in=TO_REPLACE)
    return queryset.annotate(has_document_to_replace=Exists(waiting))


def mark_waiting_on_family(enrolment_requests) -> None:
    """Sets on each request what the family has to do: `to_replace` (a document to send
    again), `hold` (why it waits for the family, from its kind's hooks) and
    `waiting_on_family` (a draft to complete and send, or a hold). Requests must carry
    `has_document_to_replace` (see `with_document_to_replace`)."""
    holds = kinds.held_reasons(enrolment_requests)
    for enrolment_request in enrolment_requests:
        submitted = enrolment_request.state == EnrolmentRequest.State.SUBMITTED
        enrolment_request.to_replace = submitted and enrolment_request.has_document_to_replace
        enrolment_request.hold = holds.get(enrolment_request.pk)
        enrolment_request.waiting_on_family = (
            enrolment_request.state == EnrolmentRequest.State.DRAFT
            or enrolment_request.hold is not None
        )
