"""The office's review page of a request: documents first with their preview and decision, then
the answers; the preview is served inline only for PDF and images, sandboxed, to staff only."""

import html

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.urls import reverse

from enrolment.models import RequestDocument
from exchanges.models import Message, Thread
from exchanges.services import thread_start
from tests.common.test_uploads import pdf_bytes, png_bytes
from tests.enrolment.helpers import document, submitted_for
from tests.factories import UserFactory


def admin_url(name, *args):
    return reverse(f"admin:enrolment_{name}", args=args)


def page_of(client, enrolment_request) -> str:
    response = client.get(admin_url("enrolmentrequest_change", enrolment_request.pk))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


@pytest.fixture
def with_image(family_a, periscolaire, today):
    """A request waiting for review: its CAF certificate a PDF, its proof of address a PNG."""
    enrolment_request = submitted_for(family_a, periscolaire)
    domicile = document(enrolment_request, "justificatif-domicile")
    domicile.file.save("photo.png", ContentFile(png_bytes()), save=False)
    domicile.content_type, domicile.original_name = "image/png", "facture-edf.png"
    domicile.save()
    return enrolment_request


def test_documents_come_first_with_their_preview_and_decision_then_the_answers(
    client, assistant, with_image
):
    """The documents, each with its preview and its three decisions, come before the answers;
    no empty button bar (« Fermer ») sits in the page."""
    client.force_login(assistant)
    page = page_of(client, with_image)
    caf = document(with_image, "attestation-caf")
    domicile = document(with_image, "justificatif-domicile")

    documents_at = page.index("Justificatifs (")
    answers_at = page.index("Réponses de la famille")
    assert documents_at < answers_at
    assert page.index("Fiche de l'enfant") > answers_at
    assert page.index("Décision sur la demande") < answers_at
    caf_preview = admin_url("requestdocument_preview", with_image.pk, caf.pk)
    domicile_preview = admin_url("requestdocument_preview", with_image.pk, domicile.pk)
    assert f'<iframe src="{caf_preview}#' in page
    assert f'<img src="{domicile_preview}"' in page
    for item in (caf, domicile):
        article = page[page.index(f'id="justificatif-{item.pk}"') :]
        article = article[: article.index("</article>")]
        assert 'value="valider"' in article and 'value="refuser"' in article
        assert 'value="mettre_a_jour"' in article
    assert "closelink" not in page and "submit-row" not in page
    assert ">Fermer<" not in page


def test_headings_are_written_in_french(client, assistant, with_image):
    """The page says « Examen de la demande », the list « Demandes », never Django's
    « Affichage de demande » or « Sélectionnez l'objet demande »."""
    client.force_login(assistant)
    page = page_of(client, with_image)
    assert "<h1>Examen de la demande</h1>" in page
    assert "Affichage de" not in page and "Modification de demande" not in page
    listing = html.unescape(client.get(admin_url("enrolmentrequest_changelist")).content.decode())
    assert "<h1>Demandes</h1>" in listing and "Sélectionnez" not in listing
    teleservices = html.unescape(client.get(admin_url("teleservice_changelist")).content.decode())
    assert "Ajouter un téléservice" in teleservices
    add = html.unescape(client.get(admin_url("teleservice_add")).content.decode())
    assert "<h1>Nouveau téléservice</h1>" in add and "Ajout de téléservice" not in add


def test_pdf_and_image_previews_are_inline_and_sandboxed(client, assistant, with_image):
    """A PDF or an image is sent inline, sandboxed, framable by the site only, never sniffed."""
    client.force_login(assistant)
    for slug, content_type, content in (
        ("attestation-caf", "application/pdf", pdf_bytes()),
        ("justificatif-domicile", "image/png", png_bytes()),
    ):
        item = document(with_image, slug)
        response = client.get(admin_url("requestdocument_preview", with_image.pk, item.pk))
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"].startswith("inline;")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "SAMEORIGIN"
        policy = response["Content-Security-Policy"]
        assert "sandbox" in policy and "frame-ancestors 'self'" in policy
        assert "no-store" in response["Cache-Control"]
        assert b"".join(response.streaming_content) == content


def test_other_files_are_sent_as_attachments_even_from_the_preview(client, assistant, with_image):
    """A stored file of any other type is never shown inline: the preview sends it as plain
    bytes to download, and the page offers no preview for it."""
    item = document(with_image, "attestation-caf")
    RequestDocument.objects.filter(pk=item.pk).update(content_type="text/html")
    client.force_login(assistant)
    response = client.get(admin_url("requestdocument_preview", with_image.pk, item.pk))
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors" not in response["Content-Security-Policy"]
    page = page_of(client, with_image)
    assert admin_url("requestdocument_preview", with_image.pk, item.pk) not in page
    assert "Pas d'aperçu pour ce type de fichier" in page


def test_the_site_still_refuses_to_be_framed_elsewhere(client, assistant, with_image):
    """Only the preview may be framed: the review page itself and the download keep DENY."""
    client.force_login(assistant)
    item = document(with_image, "attestation-caf")
    page = client.get(admin_url("enrolmentrequest_change", with_image.pk))
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    download = client.get(admin_url("requestdocument_download", with_image.pk, item.pk))
    assert download["X-Frame-Options"] == "DENY"
    assert download["Content-Disposition"].startswith("attachment;")


def test_a_parent_cannot_reach_the_preview(client, family_a, with_image):
    """The preview is on the staff site: a parent, even of the family, is sent to the staff
    login and gets no byte of the file."""
    item = document(with_image, "attestation-caf")
    client.force_login(family_a.guardians.first().user)
    response = client.get(admin_url("requestdocument_preview", with_image.pk, item.pk))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_staff_without_the_view_permission_get_403(client, with_image):
    """A staff member who may not view requests cannot preview their documents."""
    animateur = UserFactory(is_staff=True)
    animateur.user_permissions.add(Permission.objects.get(codename="view_thread"))
    client.force_login(animateur)
    item = document(with_image, "attestation-caf")
    response = client.get(admin_url("requestdocument_preview", with_image.pk, item.pk))
    assert response.status_code == 403


def test_a_document_of_another_request_is_not_found(client, assistant, family_b, with_image):
    """The document must belong to the request in the URL."""
    client.force_login(assistant)
    other = submitted_for(family_b, with_image.teleservice)
    item = document(other, "attestation-caf")
    response = client.get(admin_url("requestdocument_preview", with_image.pk, item.pk))
    assert response.status_code == 404


def test_the_page_lists_the_threads_about_the_request(client, assistant, family_a, with_image):
    """The threads about the request link to their admin page, and a link starts a new one
    about it, with the family and the request filled in."""
    thread = thread_start(
        family=family_a,
        subject="Votre justificatif",
        body="Bonjour.",
        side=Message.Side.OFFICE,
        related=with_image,
    )
    Thread.objects.create(family=family_a, subject="Autre sujet")
    client.force_login(assistant)
    page = page_of(client, with_image)
    assert f'href="{reverse("admin:exchanges_thread_change", args=[thread.pk])}"' in page
    assert "Votre justificatif" in page and "Autre sujet" not in page
    assert f"{reverse('admin:exchanges_thread_add')}?family={family_a.pk}" in page
