"""Mes demandes says which requests wait for the family, and a document to replace has its
own short page, its form first."""

import pytest
from django.urls import reverse

from enrolment.models import RequestDocument
from tests.conftest import client_for
from tests.enrolment.fixtures import (
    draft_request,
    enrolment_objects,
    new_file,
    refused_document,
    submitted_request,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def request_list(client, family) -> str:
    response = client_for(client, family).get(reverse("enrolment:request_list"))
    assert response.status_code == 200
    return response.content.decode()


def row_of(html: str, number: str) -> str:
    """The table row of request `number` in Mes demandes."""
    start = html.index(f'<td data-label="Numéro">{number}</td>')
    return html[start : html.index("</tr>", start)]


def test_a_request_with_a_refused_document_is_marked_and_linked(client, family_a):
    """The request en traitement with a refused document reads « Document à remplacer »,
    linking to its page; the draft reads « En attente de votre part »."""
    enrolment_objects(family_a)
    submitted, draft = submitted_request(family_a), draft_request(family_a)

    html = request_list(client, family_a)

    row = row_of(html, submitted.number)
    assert "Document à remplacer" in row
    assert f'href="{submitted.get_absolute_url()}#a-remplacer"' in row
    assert "En attente de votre part" not in row
    row = row_of(html, draft.number)
    assert "En attente de votre part" in row and "Document à remplacer" not in row


def test_a_replaced_document_clears_the_marker(client, family_a):
    """Once the new file is sent (pending review), nothing is asked of the family any more."""
    enrolment_objects(family_a)
    RequestDocument.objects.filter(pk=refused_document(family_a).pk).update(
        state=RequestDocument.State.PENDING
    )
    assert "Document à remplacer" not in row_of(
        request_list(client, family_a), submitted_request(family_a).number
    )


def test_the_request_page_starts_with_the_document_to_replace(client, family_a):
    """The request page opens on « Document à remplacer », linking the document's own page."""
    enrolment_objects(family_a)
    document = refused_document(family_a)
    html = (
        client_for(client, family_a).get(submitted_request(family_a).get_absolute_url()).content
    ).decode()
    url = reverse("enrolment:document_replace", args=[document.request_id, document.pk])
    assert html.index('id="a-remplacer"') < html.index(url) < html.index('id="resume"')


def test_the_replacement_page_shows_the_form_first_and_takes_the_file(client, family_a):
    """GET: reason and form, nothing else before them; POST: the file replaces the document,
    back to the request."""
    enrolment_objects(family_a)
    document = refused_document(family_a)
    url = reverse("enrolment:document_replace", args=[document.request_id, document.pk])
    client = client_for(client, family_a)

    html = client.get(url).content.decode()

    main = html[html.index("<main") :]
    assert "Motif : Illisible" in main
    assert main.index("<h1") < main.index('enctype="multipart/form-data"')
    assert "Ce lien ne sert qu'une fois" not in main
    response = client.post(url, {f"remplacer-{document.pk}-file": new_file()})
    assert response.status_code == 302
    assert response.url == document.request.get_absolute_url()
    document.refresh_from_db()
    assert document.state == RequestDocument.State.PENDING


def test_a_document_with_nothing_to_replace_sends_back_to_its_request(client, family_a):
    """A validated document has no replacement page: back to the request, with a note."""
    enrolment_objects(family_a)
    document = (
        submitted_request(family_a).documents.exclude(state=RequestDocument.State.REFUSED).first()
    )
    url = reverse("enrolment:document_replace", args=[document.request_id, document.pk])
    response = client_for(client, family_a).get(url)
    assert response.status_code == 302
    assert response.url == document.request.get_absolute_url()


def test_another_familys_replacement_page_is_a_404(client, family_a, family_b):
    """Family A cannot open family B's replacement page."""
    enrolment_objects(family_b)
    document = refused_document(family_b)
    url = reverse("enrolment:document_replace", args=[document.request_id, document.pk])
    assert client_for(client, family_a).get(url).status_code == 404
