import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from enrolment import services
from enrolment.models import EnrolmentRequest, Teleservice
from tests.enrolment.helpers import draft_for, make_teleservice, submitted_for
from tests.factories import SchoolYearFactory


@pytest.mark.parametrize("state", ["brouillon", "en_traitement", "clos"])
def test_second_request_is_refused_while_one_is_live(
    family_a, periscolaire, assistant, state, today
):
    """A second request for the same child, kind and year is refused while one is brouillon,
    en traitement or clos."""
    first = (
        draft_for(family_a, periscolaire)
        if state == "brouillon"
        else submitted_for(family_a, periscolaire)
    )
    if state == "clos":
        for item in first.documents.all():
            services.document_validate(document=item, user=assistant)
        services.enrolment_request_accept(enrolment_request=first, user=assistant, today=today)
    with pytest.raises(ValidationError, match=first.number):
        draft_for(family_a, periscolaire)
    assert EnrolmentRequest.objects.count() == 1


def test_second_request_is_allowed_after_a_refusal(family_a, periscolaire, assistant, today):
    """Once the request is refusé, the family may file a new one for the same child and year."""
    first = submitted_for(family_a, periscolaire)
    services.enrolment_request_refuse(
        enrolment_request=first, user=assistant, reason="Dossier incomplet"
    )
    second = draft_for(family_a, periscolaire)
    assert second.pk != first.pk
    assert EnrolmentRequest.objects.count() == 2


def test_periscolaire_and_alai_are_separate(family_a, periscolaire, alai, today):
    """One kind never blocks the other: périscolaire and Alaï are distinct requests."""
    draft_for(family_a, periscolaire)
    assert draft_for(family_a, alai).kind == Teleservice.Kind.ALAI


def test_another_school_year_is_a_new_request(family_a, periscolaire, today):
    """An enrolment is not carried over: next year's téléservice takes a new request."""
    draft_for(family_a, periscolaire)
    next_year = SchoolYearFactory(
        label="2027-2028", start_date=datetime.date(2027, 9, 1), end_date=datetime.date(2028, 7, 7)
    )
    later = make_teleservice(
        Teleservice.Kind.PERISCOLAIRE, school_year=next_year, opens_on=datetime.date(2026, 11, 1)
    )
    assert draft_for(family_a, later).school_year == next_year


def test_the_form_links_to_the_existing_request(client, family_a, periscolaire, today):
    """The parent trying again sees the refusal and a link to the request that exists."""
    existing = submitted_for(family_a, periscolaire)
    client.force_login(family_a.guardians.first().user)
    child = family_a.children.first()
    response = client.get(
        reverse("enrolment:request_create", args=[periscolaire.slug]) + f"?enfant={child.pk}"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "existe déjà" in html
    assert reverse("enrolment:request_detail", args=[existing.pk]) in html
