import datetime

import pytest
from django.core.exceptions import ValidationError

from enrolment import services
from enrolment.models import EnrolmentRequest, RequestDocument, Service
from tests.enrolment.helpers import document, draft_for, submitted_for
from tests.factories import ChildFactory, SchoolYearFactory

State = EnrolmentRequest.State
DocState = RequestDocument.State


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (State.DRAFT, State.CLOSED),
        (State.DRAFT, State.REFUSED),
        (State.SUBMITTED, State.DRAFT),
        (State.CLOSED, State.SUBMITTED),
        (State.CLOSED, State.REFUSED),
        (State.REFUSED, State.SUBMITTED),
        (State.REFUSED, State.CLOSED),
    ],
)
def test_illegal_request_transitions_raise(start, target):
    """A request moves only along brouillon → en traitement → clos or refusé."""
    request = EnrolmentRequest(state=start)
    with pytest.raises(ValidationError):
        request.move_to(target)
    assert request.state == start


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (State.DRAFT, State.SUBMITTED),
        (State.SUBMITTED, State.CLOSED),
        (State.SUBMITTED, State.REFUSED),
    ],
)
def test_legal_request_transitions_move(start, target):
    """The allowed moves change the state."""
    request = EnrolmentRequest(state=start)
    request.move_to(target)
    assert request.state == target


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (DocState.REFUSED, DocState.VALIDATED),
        (DocState.TO_UPDATE, DocState.VALIDATED),
        (DocState.REFUSED, DocState.TO_UPDATE),
    ],
)
def test_illegal_document_transitions_raise(start, target):
    """A refused or to-update document must be replaced (back to pending) before any new decision."""
    with pytest.raises(ValidationError):
        RequestDocument(state=start).move_to(target)


def test_accepting_a_closed_request_raises(family_a, periscolaire, assistant, today):
    """Accepting twice is refused: a closed request never moves again."""
    request = submitted_for(family_a, periscolaire)
    for item in request.documents.all():
        services.document_validate(document=item, user=assistant)
    services.enrolment_request_accept(enrolment_request=request, user=assistant, today=today)
    with pytest.raises(ValidationError):
        services.enrolment_request_accept(enrolment_request=request, user=assistant, today=today)
    with pytest.raises(ValidationError):
        services.enrolment_request_refuse(
            enrolment_request=request, user=assistant, reason="Trop tard"
        )


def test_a_draft_cannot_be_decided(family_a, periscolaire, assistant, today):
    """The office cannot accept, refuse or review the documents of a draft."""
    request = draft_for(family_a, periscolaire, documents=["attestation-caf"])
    with pytest.raises(ValidationError):
        services.enrolment_request_accept(enrolment_request=request, user=assistant, today=today)
    with pytest.raises(ValidationError):
        services.enrolment_request_refuse(enrolment_request=request, user=assistant, reason="Non")
    with pytest.raises(ValidationError):
        services.document_validate(document=document(request, "attestation-caf"), user=assistant)


def test_acceptance_is_refused_while_a_required_document_is_pending(
    family_a, periscolaire, assistant, today
):
    """« Accepter la demande » needs every required document validated: a pending one blocks it."""
    request = submitted_for(family_a, periscolaire)
    services.document_validate(document=document(request, "attestation-caf"), user=assistant)
    with pytest.raises(ValidationError, match="Justificatif de domicile"):
        services.enrolment_request_accept(enrolment_request=request, user=assistant, today=today)
    request.refresh_from_db()
    assert request.state == State.SUBMITTED
    assert not request.enrolments.exists()


def test_acceptance_is_refused_while_a_required_document_is_refused(
    family_a, periscolaire, assistant, today
):
    """A refused required document blocks the acceptance too."""
    request = submitted_for(family_a, periscolaire)
    services.document_validate(document=document(request, "attestation-caf"), user=assistant)
    services.document_refuse(
        document=document(request, "justificatif-domicile"), user=assistant, reason="Illisible"
    )
    with pytest.raises(ValidationError):
        services.enrolment_request_accept(enrolment_request=request, user=assistant, today=today)


def test_refusals_need_a_reason(family_a, periscolaire, assistant, today):
    """Refusing a document, asking for its update or refusing the request needs a reason."""
    request = submitted_for(family_a, periscolaire)
    item = document(request, "attestation-caf")
    for call in (services.document_refuse, services.document_request_update):
        with pytest.raises(ValidationError, match="motif"):
            call(document=item, user=assistant, reason="  ")
    with pytest.raises(ValidationError, match="motif"):
        services.enrolment_request_refuse(enrolment_request=request, user=assistant, reason="")
    item.refresh_from_db()
    assert item.state == DocState.PENDING


def test_conditional_document_is_required_only_when_the_answer_says_so(
    family_a, periscolaire, today
):
    """« Jugement de garde » is required only when custody is shared."""
    documents = ["attestation-caf", "justificatif-domicile"]
    shared = draft_for(
        family_a,
        periscolaire,
        documents=documents,
        answers={"shared_custody": True, "rules_accepted": True},
    )
    with pytest.raises(ValidationError) as error:
        services.enrolment_request_submit(enrolment_request=shared, user=None, today=today)
    assert "Jugement de garde" in str(error.value)
    shared.answers["shared_custody"] = False
    shared.save()
    assert (
        services.enrolment_request_submit(enrolment_request=shared, user=None, today=today).state
        == State.SUBMITTED
    )


@pytest.mark.parametrize(
    ("birth_date", "allowed"),
    [
        (datetime.date(2023, 9, 1), True),  # 3 on 1 September 2026
        (datetime.date(2023, 9, 2), False),  # 3 the day after: too young
        (datetime.date(2013, 9, 2), True),  # 12 on 1 September 2026
        (datetime.date(2013, 9, 1), False),  # 13 that day: too old
    ],
)
def test_alai_takes_children_aged_3_to_12_on_1_september(
    family_a, alai, birth_date, allowed, today
):
    """Alaï refuses a child outside 3–12 years on 1 September of the school year."""
    child = ChildFactory(family=family_a, birth_date=birth_date)
    refusal = services.age_refusal(teleservice=alai, child=child)
    assert (refusal == "") is allowed
    if not allowed:
        with pytest.raises(ValidationError, match="3 à 12 ans"):
            draft_for(family_a, alai, child=child)
        assert not EnrolmentRequest.objects.filter(child=child).exists()


def test_age_is_taken_on_1_september_of_the_requests_school_year(family_a):
    """The reference date is 1 September of the téléservice's year, not today."""
    alai_service = Service.objects.get(slug="alai")
    child = ChildFactory(family=family_a, birth_date=datetime.date(2024, 6, 1))
    next_year = SchoolYearFactory(
        label="2027-2028", start_date=datetime.date(2027, 9, 1), end_date=datetime.date(2028, 7, 7)
    )
    assert alai_service.age_refusal(child, SchoolYearFactory()) != ""
    assert alai_service.age_refusal(child, next_year) == ""
