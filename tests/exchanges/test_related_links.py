"""A thread about an object links to that object's page on the parents' side, never to the
admin."""

import pytest
from django.conf import settings
from django.urls import reverse

from billing.models import Invoice
from exchanges.models import Thread
from exchanges.services import notify_family
from tests.conftest import client_for
from tests.enrolment.fixtures import enrolment_objects, submitted_request

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def thread_page(client, family, thread) -> str:
    response = client_for(client, family).get(thread.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def test_a_thread_about_a_request_links_to_the_request(client, family_a):
    """« Voir la demande n° … » leads to the request's page in Mes demandes."""
    enrolment_objects(family_a)
    request = submitted_request(family_a)
    thread = notify_family(
        family=family_a, subject="Justificatif refusé", body="Motif : illisible", related=request
    ).thread

    html = thread_page(client, family_a, thread)

    assert f'href="{reverse("enrolment:request_detail", args=[request.pk])}"' in html
    assert f"Voir la demande n° {request.number}" in html


def test_a_thread_about_an_invoice_links_to_the_invoice(client, family_a):
    """« Voir la facture n° … » leads to the invoice's page in Paiements."""
    invoice = Invoice(pk=4321, number="PERI2026000012")
    assert invoice.get_parent_url() == reverse("billing:invoice_detail", args=[4321])
    assert invoice.parent_link_label == "Voir la facture n° PERI2026000012"


def test_an_object_without_a_parent_page_gets_no_link_and_never_an_admin_one(client, family_a):
    """A thread about an object that has only an admin page (a family, here, whose own
    get_absolute_url is not linked either) shows no link, and nothing of the admin."""
    thread = notify_family(
        family=family_a, subject="Information", body="Bonjour", related=family_a
    ).thread
    assert Thread.objects.get(pk=thread.pk).related == family_a

    html = thread_page(client, family_a, thread)

    assert "Voir la" not in html
    assert "/" + settings.ADMIN_URL not in html


def test_a_thread_about_nothing_shows_no_link(client, family_a):
    """A plain question to the office links nowhere."""
    thread = notify_family(family=family_a, subject="Question", body="Bonjour").thread
    assert "related-link" not in thread_page(client, family_a, thread)
