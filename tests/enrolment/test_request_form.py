import html
import re

import pytest
from django.urls import reverse

from enrolment import services
from enrolment.models import EnrolmentRequest, RequestDocument, Teleservice
from tests.common.test_uploads import pdf_bytes
from tests.enrolment.helpers import doc_type, form_payload, make_teleservice, upload
from tests.factories import ChildFactory

REQUIRED = ["attestation-caf", "justificatif-domicile"]


@pytest.fixture
def parent(client, family_a):
    client.force_login(family_a.guardians.first().user)
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


def create_url(teleservice, child=None):
    url = reverse("enrolment:request_create", args=[teleservice.slug])
    return f"{url}?enfant={child.pk}" if child else url


def test_education_enfance_lists_open_teleservices_per_child(parent, family_a, periscolaire, today):
    """The "Éducation - Enfance" page offers each open téléservice for each child; a closed one is absent."""
    make_teleservice(
        Teleservice.Kind.PRELEVEMENT,
        slug="prelevement-ferme",
        closes_on=today.replace(day=1),
        opens_on=today.replace(month=9, day=1),
    )
    page = text(parent.get(reverse("enrolment:teleservice_list")))
    assert periscolaire.label in page
    assert create_url(periscolaire, family_a.children.first()) in page
    assert "prelevement-ferme" not in page


def test_parent_saves_a_draft_then_submits_it(parent, family_a, periscolaire, today):
    """« Enregistrer le brouillon » keeps an editable draft; « Valider ma demande » sends it."""
    child = family_a.children.first()
    response = parent.post(
        create_url(periscolaire, child),
        form_payload(child, action="draft", documents=["attestation-caf"]),
    )
    request = EnrolmentRequest.objects.get()
    assert response.status_code == 302 and response.url == request.get_absolute_url()
    assert request.state == EnrolmentRequest.State.DRAFT and request.number
    child.refresh_from_db()
    assert child.canteen and child.image_rights

    update_url = reverse("enrolment:request_update", args=[request.pk])
    payload = form_payload(child, documents=["justificatif-domicile"], with_child_field=False)
    response = parent.post(update_url, payload)
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == EnrolmentRequest.State.SUBMITTED
    assert request.needs_review
    assert set(request.documents.values_list("state", flat=True)) == {RequestDocument.State.PENDING}
    assert [event.message for event in request.events.all()][-1].startswith("Demande validée")
    assert parent.get(update_url).status_code == 302  # no longer editable


def test_submitting_without_required_documents_keeps_the_file_sent_on_a_draft(
    parent, family_a, periscolaire, today
):
    """« Valider ma demande » without a required document shows the error; the file chosen is kept
    on a draft, which is not sent, and the child's file is not half-saved."""
    child = family_a.children.first()
    response = parent.post(
        create_url(periscolaire, child), form_payload(child, documents=["attestation-caf"])
    )
    page = text(response)
    assert response.status_code == 200
    assert "« Justificatif de domicile » est obligatoire" in page
    request = EnrolmentRequest.objects.get()
    assert request.state == EnrolmentRequest.State.DRAFT
    assert [item.original_name for item in request.documents.all()] == ["attestation-caf.pdf"]
    assert re.search(r"Déjà joint : <a [^>]+>attestation-caf.pdf</a>", page)
    child.refresh_from_db()
    assert not child.canteen  # the child's file waits for a complete form


def test_submitting_needs_the_rules_accepted(parent, family_a, periscolaire, today):
    """The rules box may stay empty in a draft but not to submit: the request stays a draft."""
    child = family_a.children.first()
    payload = form_payload(child, documents=REQUIRED, **{"q-rules_accepted": None})
    response = parent.post(create_url(periscolaire, child), payload)
    assert "Répondez à cette question" in text(response)
    assert EnrolmentRequest.objects.get().state == EnrolmentRequest.State.DRAFT


def test_child_file_is_saved_on_the_child_and_prefilled(parent, family_a, periscolaire, today):
    """Answers about the child are saved on the child, so the next form starts from them."""
    child = family_a.children.first()
    payload = form_payload(
        child, action="draft", **{"child-school_class": "CM1", "child-health_notes": "Asthme"}
    )
    parent.post(create_url(periscolaire, child), payload)
    child.refresh_from_db()
    assert (child.school_class, child.health_notes) == ("CM1", "Asthme")
    alai = make_teleservice(Teleservice.Kind.ALAI)
    page = text(parent.get(create_url(alai, child)))
    assert 'value="CM1"' in page and "Asthme" in page


def test_alai_form_refuses_a_child_over_12(parent, family_a, alai, today):
    """The Alaï form explains the age limit and files nothing for a 13-year-old."""
    child = ChildFactory(
        family=family_a, first_name="Zoé", birth_date=today.replace(year=2013, month=1)
    )
    response = parent.post(create_url(alai, child), form_payload(child, documents=["vaccinations"]))
    assert "de 3 à 12 ans" in text(response)
    assert not EnrolmentRequest.objects.exists()


def test_closed_teleservice_takes_no_request(parent, family_a, today):
    """A téléservice outside its dates says so and files nothing."""
    closed = make_teleservice(
        Teleservice.Kind.ALAI,
        opens_on=today.replace(month=6, day=1),
        closes_on=today.replace(month=10, day=1),
    )
    child = family_a.children.first()
    response = parent.post(create_url(closed, child), form_payload(child, action="draft"))
    assert "n'est pas ouvert" in text(response)
    assert not EnrolmentRequest.objects.exists()


def test_uploaded_names_are_neutralised(parent, family_a, periscolaire, today):
    """A file named ../../etc/passwd or with a newline is stored under a random name and shown sanitised."""
    child = family_a.children.first()
    payload = form_payload(child, action="draft")
    payload[services.document_field_name(doc_type("attestation-caf"))] = upload(
        "../../etc/passwd", validated=False
    )
    payload[services.document_field_name(doc_type("justificatif-domicile"))] = upload(
        "facture\nSet-Cookie: x.pdf", validated=False
    )
    assert parent.post(create_url(periscolaire, child), payload).status_code == 302
    names = {item.original_name: item.file.name for item in RequestDocument.objects.all()}
    assert set(names) == {"passwd.pdf", "factureSet-Cookie_ x.pdf"}
    for stored in names.values():
        assert stored.startswith("demandes/") and ".." not in stored and "passwd" not in stored
    item = RequestDocument.objects.get(original_name="factureSet-Cookie_ x.pdf")
    response = parent.get(item.get_absolute_url())
    assert response.status_code == 200
    assert "\n" not in response["Content-Disposition"]


def test_executable_renamed_pdf_is_refused(parent, family_a, periscolaire, today):
    """An executable called .pdf is refused with a French message and nothing is saved."""
    child = family_a.children.first()
    payload = form_payload(child, action="draft")
    payload[services.document_field_name(doc_type("attestation-caf"))] = upload(
        "attestation.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, validated=False
    )
    response = parent.post(create_url(periscolaire, child), payload)
    assert response.status_code == 200
    assert "type de fichier n'est pas accepté" in text(response)
    assert not EnrolmentRequest.objects.exists()


def test_mes_demandes_lists_number_teleservice_child_date_and_state(
    parent, family_a, family_b, periscolaire, today
):
    """ "Mes demandes" shows the family's requests with their French state, never another family's."""
    from tests.enrolment.helpers import draft_for, submitted_for

    own = submitted_for(family_a, periscolaire)
    other = draft_for(family_b, periscolaire)
    page = text(parent.get(reverse("enrolment:request_list")))
    assert own.number in page and periscolaire.label in page and "En traitement" in page
    assert family_a.children.first().full_name in page and "26/11/2026" in page
    assert "text-bg-primary" in page
    assert other.number not in page


def test_request_page_shows_answers_documents_and_timeline(parent, family_a, periscolaire, today):
    """The request page shows the answers, each document at a /documents/ URL, and the dated timeline."""
    from tests.enrolment.helpers import submitted_for

    request = submitted_for(family_a, periscolaire)
    page = text(parent.get(request.get_absolute_url()))
    for item in request.documents.all():
        assert f"/demandes/{request.pk}/documents/{item.pk}/" in page
    assert "Déjeune à la cantine" in page
    assert "26/11/2026" in page and "Demande validée et envoyée" in page


def test_documents_are_downloaded_as_attachments(parent, family_a, periscolaire, today):
    """A document is served as a private attachment that browsers must not sniff or cache."""
    from tests.enrolment.helpers import draft_for

    request = draft_for(family_a, periscolaire, documents=["attestation-caf"])
    response = parent.get(request.documents.get().get_absolute_url())
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_bytes()
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_another_familys_document_url_is_a_404(client, family_a, family_b, periscolaire, today):
    """A document URL of another family is a 404, even with the right request id; the owner gets it."""
    from tests.enrolment.helpers import draft_for

    item = draft_for(family_a, periscolaire, documents=["attestation-caf"]).documents.get()
    client.force_login(family_b.guardians.first().user)
    assert client.get(item.get_absolute_url()).status_code == 404
    assert client.get(item.request.get_absolute_url()).status_code == 404
    client.force_login(family_a.guardians.first().user)
    assert client.get(item.get_absolute_url()).status_code == 200
