import datetime
import html

import time_machine
from django.urls import reverse

from enrolment import services
from enrolment.models import RequestDocument
from tests.enrolment.helpers import document, submitted_for, upload

DocState = RequestDocument.State


def refused(family, teleservice, assistant):
    request = submitted_for(family, teleservice)
    item = document(request, "attestation-caf")
    services.document_refuse(document=item, user=assistant, reason="Attestation de plus de 3 mois")
    item.refresh_from_db()
    return item


def link(item):
    return reverse("enrolment:document_replace_link", args=[services.replace_token(item)])


def test_replace_link_works_once(client, family_a, periscolaire, assistant, today):
    """The e-mailed link replaces the document once; a second use is refused and changes nothing."""
    item = refused(family_a, periscolaire, assistant)
    url = link(item)
    client.force_login(family_a.guardians.first().user)
    assert client.post(url, {"file": upload("nouvelle.pdf", validated=False)}).status_code == 302
    item.refresh_from_db()
    assert (item.state, item.original_name, item.replace_nonce) == (
        DocState.PENDING,
        "nouvelle.pdf",
        "",
    )

    response = client.post(url, {"file": upload("encore.pdf", validated=False)})
    assert response.status_code == 400
    assert "déjà servi" in html.unescape(response.content.decode())
    item.refresh_from_db()
    assert item.original_name == "nouvelle.pdf"


def test_old_link_does_not_work_after_a_second_refusal(
    client, family_a, periscolaire, assistant, today
):
    """A link of an earlier refusal stays dead even when the document is refused again."""
    item = refused(family_a, periscolaire, assistant)
    first_link = link(item)
    services.document_replace(document=item, uploaded=upload("b.pdf"), user=None)
    services.document_refuse(document=item, user=assistant, reason="Toujours illisible")
    client.force_login(family_a.guardians.first().user)
    assert client.post(first_link, {"file": upload("c.pdf", validated=False)}).status_code == 400


def test_expired_link_is_refused(client, family_a, periscolaire, assistant, settings, today):
    """After ENROLMENT_REPLACE_LINK_DAYS the link is refused (the request page still offers the form)."""
    settings.ENROLMENT_REPLACE_LINK_DAYS = 30
    item = refused(family_a, periscolaire, assistant)
    url = link(item)
    client.force_login(family_a.guardians.first().user)
    with time_machine.travel(datetime.datetime(2026, 12, 27, 10, tzinfo=datetime.UTC), tick=False):
        client.force_login(family_a.guardians.first().user)  # the earlier session has expired
        response = client.post(url, {"file": upload("tard.pdf", validated=False)})
        assert response.status_code == 400
        assert "expiré" in html.unescape(response.content.decode())
        page = html.unescape(client.get(item.request.get_absolute_url()).content.decode())
        assert "Remplacer « Attestation CAF" in page
    item.refresh_from_db()
    assert item.state == DocState.REFUSED


def test_link_of_another_family_is_a_404(
    client, family_a, family_b, periscolaire, assistant, today
):
    """Another family opening or posting to the link gets 404 and the document stays as it is."""
    item = refused(family_a, periscolaire, assistant)
    url = link(item)
    client.force_login(family_b.guardians.first().user)
    assert client.get(url).status_code == 404
    assert client.post(url, {"file": upload("x.pdf", validated=False)}).status_code == 404
    item.refresh_from_db()
    assert item.state == DocState.REFUSED and item.replace_nonce


def test_link_needs_login(client, family_a, periscolaire, assistant, today):
    """An anonymous visitor is sent to the login page first."""
    url = link(refused(family_a, periscolaire, assistant))
    response = client.get(url)
    assert response.status_code == 302 and reverse("account_login") in response.url


def test_forged_token_is_a_404(client, family_a, today):
    """A token that was not signed by the portal is unknown."""
    client.force_login(family_a.guardians.first().user)
    assert (
        client.get(reverse("enrolment:document_replace_link", args=["abc:def:ghi"])).status_code
        == 404
    )


def test_replace_form_on_the_request_page(client, family_a, periscolaire, assistant, today):
    """The request page offers the replace form for a refused document; the new file goes back to pending."""
    item = refused(family_a, periscolaire, assistant)
    client.force_login(family_a.guardians.first().user)
    url = reverse("enrolment:document_replace", args=[item.request_id, item.pk])
    response = client.post(url, {f"remplacer-{item.pk}-file": upload("neuf.pdf", validated=False)})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == DocState.PENDING and item.request.needs_review
