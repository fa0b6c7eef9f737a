"""A justificatif's file: its name follows what it really is, and a too-big one is refused early."""

import html
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from common.files import MAX_UPLOAD_BYTES
from enrolment import services
from enrolment.models import EnrolmentRequest, RequestDocument
from tests.common.test_size_limit import MB, READ_AHEAD, MultipartBody
from tests.common.test_uploads import pdf_bytes, png_bytes
from tests.enrolment.helpers import doc_type, draft_for, form_payload
from tests.enrolment.test_replace_link import link, refused
from tests.enrolment.test_request_form import create_url

TOO_BIG = "Le fichier dépasse la taille maximale de 10 Mo."


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_a_100_mb_replacement_is_refused_before_it_is_read(
    family_a, periscolaire, assistant, today
):
    """A 100 MB file sent through the e-mailed link is read up to the 10 MB limit only; the page
    shows the usual French refusal on the field and the document stays as it was."""
    item = refused(family_a, periscolaire, assistant)
    client = Client(enforce_csrf_checks=True)
    client.force_login(family_a.guardians.first().user)
    page = client.get(link(item))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    body = MultipartBody(("csrfmiddlewaretoken", token), ("file", "scan.png", 100 * MB))

    response = client.generic("POST", link(item), **body.environ())

    assert response.status_code == 200
    assert TOO_BIG in text(response)
    assert body.bytes_read < MAX_UPLOAD_BYTES + READ_AHEAD
    item.refresh_from_db()
    assert (item.state, item.original_name) == (
        RequestDocument.State.REFUSED,
        "attestation-caf.pdf",
    )


def test_a_12_mb_document_is_refused_and_the_rest_of_the_form_kept(
    client, family_a, periscolaire, today
):
    """On the request form, a 12 MB photo is refused on its own field; the answers sent after it
    still arrive (shown again) and nothing is saved."""
    client.force_login(family_a.guardians.first().user)
    child = family_a.children.first()
    field = services.document_field_name(doc_type("attestation-caf"))
    big = SimpleUploadedFile("photo.png", png_bytes() + bytes(12 * MB), content_type="image/png")
    payload = {field: big, **form_payload(child, action="draft")}
    payload["child-health_notes"] = "Allergie aux arachides"

    response = client.post(create_url(periscolaire, child), payload)

    assert response.status_code == 200
    page = text(response)
    assert "« photo.png » : le fichier dépasse la taille maximale de 10 Mo." in page
    assert "Allergie aux arachides" in page
    assert not EnrolmentRequest.objects.exists()


def test_uploaded_names_take_the_extension_of_the_detected_type(
    client, family_a, periscolaire, today
):
    """A PNG called photo.html is kept as photo.png, a PDF called facture.pdf.exe as facture.pdf."""
    client.force_login(family_a.guardians.first().user)
    child = family_a.children.first()
    payload = form_payload(child, action="draft")
    payload[services.document_field_name(doc_type("attestation-caf"))] = SimpleUploadedFile(
        "photo.html", png_bytes(), content_type="text/html"
    )
    payload[services.document_field_name(doc_type("justificatif-domicile"))] = SimpleUploadedFile(
        "facture.pdf.exe", pdf_bytes(), content_type="application/x-msdownload"
    )

    assert client.post(create_url(periscolaire, child), payload).status_code == 302

    stored = {item.original_name: item.content_type for item in RequestDocument.objects.all()}
    assert stored == {"photo.png": "image/png", "facture.pdf": "application/pdf"}


def test_a_document_stored_under_a_misleading_name_downloads_under_its_real_type(
    client, family_a, periscolaire, today
):
    """A file kept before names were normalised goes out with the extension of its stored type,
    as an attachment, with an ASCII name and the exact accented one (RFC 5987)."""
    item = draft_for(family_a, periscolaire, documents=["attestation-caf"]).documents.get()
    client.force_login(family_a.guardians.first().user)
    for stored_name, content_type, ascii_name, exact_name in [
        ("photo.html", "image/png", "photo.png", "photo.png"),
        ("facture.pdf.exe", "application/pdf", "facture.pdf", "facture.pdf"),
        (
            "relevé d'été.pdf.html",
            "application/pdf",
            "releve d_ete.pdf",
            "relev%C3%A9%20d%27%C3%A9t%C3%A9.pdf",
        ),
    ]:
        RequestDocument.objects.filter(pk=item.pk).update(
            original_name=stored_name, content_type=content_type
        )

        response = client.get(item.get_absolute_url())

        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"] == (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{exact_name}"
        )
