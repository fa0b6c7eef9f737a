"""The parent page of direct debit of a régie, in each state, and its revocation page."""

import pytest
from django.urls import reverse

from billing.directdebit.models import Mandate
from exchanges.models import Message
from tests.conftest import client_for

from .conftest import make_family
from .directdebit_helpers import (
    IBAN,
    dd_submitted,
    dd_teleservice,
    make_mandate,
    october_invoice,
    with_creditor,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def periscolaire(regies):
    return with_creditor(regies["periscolaire"])


def page(client, family, slug="periscolaire"):
    response = client_for(client, family).get(reverse("billing:direct_debit", args=[slug]))
    assert response.status_code == 200
    return response.content.decode()


def test_active_mandate_page_shows_the_mandate_and_the_programmed_debits(
    client, slots, periscolaire, today
):
    """RUM, creditor and ICS, masked IBAN, holder, signature date, each programmed invoice with
    its debit date, and the way to revoke; never the full IBAN."""
    family = make_family()
    mandate = make_mandate(family, periscolaire)
    invoice = october_invoice(family, periscolaire, slots)

    html = page(client, family)

    for text in (
        "Votre mandat de prélèvement est actif",
        mandate.rum,
        "FR72ZZZ123456",
        "FR76 •••• •••• 0189",
        "Camille MARTIN",
        "15/09/2026",
        invoice.number,
        "24/11/2026",
        "6,00 €",
        reverse("billing:mandate_revoke", args=[mandate.pk]),
    ):
        assert text in html, text
    assert IBAN not in html
    assert 'aria-current="page">Prélèvement automatique' in html


def test_without_mandate_the_page_says_what_to_settle_and_where_to_ask(
    client, slots, periscolaire, today
):
    """An unpaid invoice is named as what to settle first; the open téléservice is linked."""
    teleservice = dd_teleservice(periscolaire)
    family = make_family()
    invoice = october_invoice(family, periscolaire, slots)

    html = page(client, family)

    assert "ne peut s'activer que lorsque toutes les factures impayées ont été réglées" in html
    assert (
        f"facture n° {invoice.number}</a> : 6,00 € — impayée, à régler avant le 10/12/2026" in html
    )
    assert teleservice.get_absolute_url() in html


def test_a_request_in_progress_is_shown_instead_of_the_link(client, periscolaire, today):
    """A request sent and not yet decided: the page points to it."""
    teleservice = dd_teleservice(periscolaire)
    family = make_family()
    request = dd_submitted(family, teleservice)

    html = page(client, family)

    assert f'n° <a href="{request.get_absolute_url()}">{request.number}</a>' in html
    assert "en traitement" in html
    assert teleservice.get_absolute_url() not in html


def test_a_regie_without_teleservice_says_so(client, regies, today):
    """No open direct-debit téléservice for the régie: the page says to ask the office."""
    html = page(client, make_family(), "alai")
    assert "n'est pas proposé en ligne pour cette régie" in html


def test_paiements_links_each_regie_to_its_direct_debit_page(client, regies, today):
    """The régie blocks of /paiements/ link the direct-debit page."""
    html = client_for(client, make_family()).get(reverse("billing:regie_list")).content.decode()
    for slug in ("alai", "periscolaire"):
        assert reverse("billing:direct_debit", args=[slug]) in html


def test_another_familys_mandate_is_a_404(client, periscolaire, today):
    """Another family cannot see nor revoke a mandate; it stays active."""
    owner, intruder = make_family("MARTIN"), make_family("PETIT")
    mandate = make_mandate(owner, periscolaire)
    url = reverse("billing:mandate_revoke", args=[mandate.pk])
    client = client_for(client, intruder)

    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    mandate.refresh_from_db()
    assert mandate.is_active
    assert mandate.rum not in page(client, intruder)


def test_the_office_revokes_on_the_familys_written_request(client, periscolaire, office, today):
    """The admin action revokes; the family (not the office) gets the message."""
    family = make_family()
    mandate = make_mandate(family, periscolaire)
    client.force_login(office)

    response = client.post(
        reverse("admin:billing_mandate_changelist"),
        {"action": "revoke", "_selected_action": [mandate.pk]},
    )

    assert response.status_code == 302
    mandate.refresh_from_db()
    assert (mandate.status, mandate.revoked_by) == (Mandate.Status.REVOKED, office)
    message = Message.objects.get(thread__family=family)
    assert message.side == Message.Side.OFFICE
    assert "À votre demande, le pôle administratif a révoqué" in message.body


def test_after_a_revocation_a_new_request_makes_a_new_mandate(client, periscolaire, office, today):
    """A family that revoked its mandate (to change account, say) can ask again the same year:
    the page offers the form again, the request goes through and a new mandate is made, with
    its own RUM; the revoked one stays listed."""
    from django.contrib.auth.models import Group

    from billing.directdebit import services as directdebit
    from enrolment import services as enrolment_services
    from tests.factories import UserFactory

    from .directdebit_helpers import validate_documents

    teleservice = dd_teleservice(periscolaire)
    family = make_family()
    assistant = UserFactory(is_staff=True)
    assistant.groups.add(Group.objects.get(name="Assistant administratif"))
    request = dd_submitted(family, teleservice)
    validate_documents(request, assistant)
    enrolment_services.enrolment_request_accept(
        enrolment_request=request, user=assistant, today=today
    )
    directdebit.mandate_revoke(
        mandate=Mandate.objects.get(family=family), by=family.guardians.first().user, today=today
    )

    html = page(client, family)
    assert teleservice.get_absolute_url() in html
    assert "Mandats révoqués" in html

    second = dd_submitted(family, teleservice)
    validate_documents(second, assistant)
    enrolment_services.enrolment_request_accept(
        enrolment_request=second, user=assistant, today=today
    )

    old, new = Mandate.objects.filter(family=family).order_by("pk")
    assert (old.status, new.status) == (Mandate.Status.REVOKED, Mandate.Status.ACTIVE)
    assert new.rum == f"PERI-{family.pk}-2" and new.request == second
