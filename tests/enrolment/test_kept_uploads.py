"""Uploads keep what was good: when the request form comes back with an error, each accepted file
stays on the family's draft and is shown as already provided; the refused one is named on its
field with its reason, and the answers typed are shown again."""

import datetime
import html
import os
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from enrolment import services
from enrolment.models import EnrolmentRequest, RequestDocument
from tests.common.test_size_limit import MB
from tests.common.test_uploads import png_bytes
from tests.enrolment.helpers import doc_type, form_payload, upload
from tests.enrolment.test_request_form import create_url

EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
BAD_TYPE = "« facture.pdf » : ce type de fichier n'est pas accepté (PDF, JPEG ou PNG)."


@pytest.fixture
def parent(client, family_a):
    client.force_login(family_a.guardians.first().user)
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


def visible(page) -> str:
    """The page's text without its tags, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))


def field(slug) -> str:
    return services.document_field_name(doc_type(slug))


def field_error(page, slug) -> str:
    """The error block under the upload field of the document type `slug` ('' without one)."""
    found = re.search(rf'id="id_{field(slug)}_erreur">(.*?)</div>', page, re.S)
    return re.sub(r"<[^>]+>", "", found[1]).strip() if found else ""


def first_post(child, *, bad=None, action="submit", **overrides) -> dict:
    """The form with typed answers, two good files (CAF, insurance) and a bad home proof."""
    payload = form_payload(
        child,
        action=action,
        documents=["attestation-caf", "assurance"],
        **{"child-school_class": "CM2", "child-health_notes": "Asthme léger", **overrides},
    )
    payload[field("justificatif-domicile")] = bad or upload(
        "facture.pdf", EXECUTABLE, validated=False
    )
    return payload


def kept_names(request) -> list[str]:
    return sorted(request.documents.exclude(file="").values_list("original_name", flat=True))


def test_a_refused_file_keeps_the_two_good_ones_on_a_draft(parent, family_a, periscolaire, today):
    """One executable named .pdf among three files: its field names it with the reason, the two
    good files are stored on a draft (not sent) and shown « Déjà joint », the answers come back."""
    child = family_a.children.first()

    response = parent.post(create_url(periscolaire, child), first_post(child))

    assert response.status_code == 200
    page = text(response)
    assert field_error(page, "justificatif-domicile") == BAD_TYPE
    summary = f'<a href="#id_{field("justificatif-domicile")}" class="alert-link">'
    assert summary in page  # the summary at the top leads to the field
    request = EnrolmentRequest.objects.get()
    assert request.family == family_a and request.state == EnrolmentRequest.State.DRAFT
    assert kept_names(request) == ["assurance.pdf", "attestation-caf.pdf"]
    assert "Déjà joint : attestation-caf.pdf (48 octets) Remplacer" in visible(page)
    assert "Déjà joint : assurance.pdf (48 octets) Remplacer" in visible(page)
    assert "Déjà joint : facture.pdf" not in visible(page)
    assert f"gardés dans le brouillon n° {request.number}" in page
    assert 'value="CM2"' in page and "Asthme léger" in page  # the answers typed
    assert f'action="{reverse("enrolment:request_update", args=[request.pk])}"' in page
    for item in request.documents.all():
        assert item.get_absolute_url() in page
        assert item.file.storage.exists(item.file.name)


def test_a_too_big_file_keeps_the_two_good_ones(parent, family_a, periscolaire, today):
    """A 12 MB photo (stopped by the size handler) is named with its reason; the others stay."""
    child = family_a.children.first()
    big = SimpleUploadedFile("photo.png", png_bytes() + bytes(12 * MB), content_type="image/png")

    response = parent.post(create_url(periscolaire, child), first_post(child, bad=big))

    assert field_error(text(response), "justificatif-domicile") == (
        "« photo.png » : le fichier dépasse la taille maximale de 10 Mo."
    )
    request = EnrolmentRequest.objects.get()
    assert request.state == EnrolmentRequest.State.DRAFT
    assert kept_names(request) == ["assurance.pdf", "attestation-caf.pdf"]


def test_sending_only_the_missing_file_then_submits_with_all_three(
    parent, family_a, periscolaire, today
):
    """After the error, the form posts to the draft: the missing file alone completes it, and the
    request is sent with its three documents and the answers of the second form."""
    child = family_a.children.first()
    parent.post(create_url(periscolaire, child), first_post(child))
    request = EnrolmentRequest.objects.get()
    payload = form_payload(child, with_child_field=False, **{"child-school_class": "CM2"})
    payload[field("justificatif-domicile")] = upload("facture-eau.pdf", validated=False)

    response = parent.post(reverse("enrolment:request_update", args=[request.pk]), payload)

    assert response.status_code == 302 and response.url == request.get_absolute_url()
    request.refresh_from_db()
    assert request.state == EnrolmentRequest.State.SUBMITTED
    assert kept_names(request) == ["assurance.pdf", "attestation-caf.pdf", "facture-eau.pdf"]
    assert request.answers["rules_accepted"] is True
    child.refresh_from_db()
    assert child.school_class == "CM2"
    assert EnrolmentRequest.objects.count() == 1


def test_other_field_errors_keep_the_files_but_send_nothing(parent, family_a, periscolaire, today):
    """All files good but an answer wrong: the files stay on the draft, which is not sent, and
    neither its answers nor the child's file are half-saved."""
    child = family_a.children.first()
    payload = form_payload(
        child, documents=["attestation-caf", "justificatif-domicile"], **{"child-school": "999999"}
    )

    response = parent.post(create_url(periscolaire, child), payload)

    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in text(response)
    request = EnrolmentRequest.objects.get()
    assert request.state == EnrolmentRequest.State.DRAFT
    assert request.answers == {}
    assert kept_names(request) == ["attestation-caf.pdf", "justificatif-domicile.pdf"]
    child.refresh_from_db()
    assert not child.canteen


def test_a_new_file_on_a_kept_one_replaces_it(
    parent, family_a, periscolaire, today, django_capture_on_commit_callbacks
):
    """A file chosen again for a document already kept replaces it on the draft (one per type)."""
    child = family_a.children.first()
    parent.post(create_url(periscolaire, child), first_post(child))
    request = EnrolmentRequest.objects.get()
    old = request.documents.get(document_type__slug="attestation-caf")
    payload = first_post(child)
    payload[field("attestation-caf")] = upload("caf-2026.pdf", validated=False)
    del payload["child"]

    with django_capture_on_commit_callbacks(execute=True):
        response = parent.post(reverse("enrolment:request_update", args=[request.pk]), payload)

    assert "Déjà joint : caf-2026.pdf" in visible(text(response))
    assert kept_names(request) == ["assurance.pdf", "caf-2026.pdf"]
    assert not old.file.storage.exists(old.file.name)


def test_another_family_cannot_see_or_attach_to_the_draft(
    client, family_a, family_b, periscolaire, today
):
    """Another family gets a 404 on the draft, its form, its files, and when posting a file to it."""
    child = family_a.children.first()
    client.force_login(family_a.guardians.first().user)
    client.post(create_url(periscolaire, child), first_post(child))
    request = EnrolmentRequest.objects.get()
    documents = list(request.documents.all())

    client.force_login(family_b.guardians.first().user)
    update_url = reverse("enrolment:request_update", args=[request.pk])
    assert client.get(update_url).status_code == 404
    assert client.get(request.get_absolute_url()).status_code == 404
    for item in documents:
        assert client.get(item.get_absolute_url()).status_code == 404
    payload = form_payload(family_b.children.first(), with_child_field=False)
    payload[field("justificatif-domicile")] = upload("intrus.pdf", validated=False)
    assert client.post(update_url, payload).status_code == 404

    assert kept_names(request) == ["assurance.pdf", "attestation-caf.pdf"]
    assert not RequestDocument.objects.filter(original_name="intrus.pdf").exists()
    assert EnrolmentRequest.objects.count() == 1


def test_only_refused_files_create_no_draft(parent, family_a, periscolaire, today):
    """With no file accepted, nothing is kept: no draft appears in « Mes demandes »."""
    child = family_a.children.first()
    payload = form_payload(child)
    payload[field("justificatif-domicile")] = upload("facture.pdf", EXECUTABLE, validated=False)

    response = parent.post(create_url(periscolaire, child), payload)

    assert field_error(text(response), "justificatif-domicile") == BAD_TYPE
    assert not EnrolmentRequest.objects.exists()


def test_a_draft_made_to_keep_files_is_prefilled_and_purged_like_any(
    parent, family_a, periscolaire, today, settings, django_capture_on_commit_callbacks
):
    """The draft holding kept files opens with its files shown, and the retention job deletes it
    with its files once untouched for the retention period."""
    settings.ENROLMENT_DRAFT_RETENTION_MONTHS = 6
    child = family_a.children.first()
    parent.post(create_url(periscolaire, child), first_post(child))
    request = EnrolmentRequest.objects.get()
    page = text(parent.get(reverse("enrolment:request_update", args=[request.pk])))
    assert "Déjà joint : attestation-caf.pdf" in visible(page)
    paths = [item.file.path for item in request.documents.all()]

    later = datetime.datetime(2027, 5, 27, 3, 30, tzinfo=datetime.UTC)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        result = services.purge_enrolment_data(now=later)

    assert result["drafts"] == 1
    assert not EnrolmentRequest.objects.exists() and not RequestDocument.objects.exists()
    assert paths and not any(os.path.exists(path) for path in paths)
