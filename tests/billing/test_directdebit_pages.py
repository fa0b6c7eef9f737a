"""The parent page of direct debit of a régie, in each state, and its revocation page."""

import datetime

import pytest
from django.urls import reverse

from billing.directdebit.models import DirectDebitTeleservice, Mandate
from billing.models import Invoice, Regie
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


def test_a_regie_whose_teleservice_is_closed_says_so(client, periscolaire, today):
    """A direct-debit téléservice exists but is not open: the page says to ask the office."""
    teleservice = dd_teleservice(periscolaire)
    teleservice.closes_on = today - datetime.timedelta(days=1)
    teleservice.save()
    html = page(client, make_family())
    assert "n'est pas proposé en ligne pour cette régie en ce moment" in html


def test_a_regie_without_direct_debit_says_so_and_lists_no_invoice(client, slots, today):
    """The Alaï régie offers no direct debit: its page says so and names no invoice to settle
    first (there is nothing to unlock)."""
    family = make_family()
    alai = Regie.objects.get(slug="alai")
    invoice = october_invoice(family, Regie.objects.get(slug="periscolaire"), slots)
    Invoice.objects.filter(pk=invoice.pk).update(regie=alai)

    html = page(client, family, "alai")

    assert "Le prélèvement automatique n'est pas proposé pour la Régie de recette accueil" in html
    assert invoice.number not in html
    assert "ne peut s'activer" not in html


def test_paiements_links_direct_debit_only_where_the_regie_offers_it(client, periscolaire, today):
    """/paiements/ links « Prélèvement automatique » for the périscolaire régie (it has a
    direct-debit téléservice), not for Alaï; Alaï's other pages do not either."""
    dd_teleservice(periscolaire)
    client = client_for(client, make_family())
    html = client.get(reverse("billing:regie_list")).content.decode()
    assert reverse("billing:direct_debit", args=["periscolaire"]) in html
    assert reverse("billing:direct_debit", args=["alai"]) not in html
    html = client.get(reverse("billing:invoice_list", args=["alai"])).content.decode()
    assert reverse("billing:direct_debit", args=["alai"]) not in html
    html = client.get(reverse("billing:invoice_list", args=["periscolaire"])).content.decode()
    assert reverse("billing:direct_debit", args=["periscolaire"]) in html


def test_paiements_follows_a_direct_debit_teleservice_mapped_then_removed(
    client, regies, periscolaire, today
):
    """Paiements shown once, the office maps a direct-debit téléservice to Alaï: the next visit
    links Alaï's « Prélèvement automatique »; the mapping removed, the link goes too."""
    client = client_for(client, make_family())
    alai = reverse("billing:direct_debit", args=["alai"])
    assert alai not in client.get(reverse("billing:regie_list")).content.decode()

    dd_teleservice(regies["alai"])
    assert alai in client.get(reverse("billing:regie_list")).content.decode()

    DirectDebitTeleservice.objects.filter(regie=regies["alai"]).delete()
    assert alai not in client.get(reverse("billing:regie_list")).content.decode()


def test_the_unpaid_invoices_badge_links_to_the_invoices(client, slots, periscolaire, today):
    """« 1 facture à régler » is a link to the régie's invoices, named for screen readers."""
    family = make_family()
    october_invoice(family, periscolaire, slots)
    html = client_for(client, family).get(reverse("billing:regie_list")).content.decode()
    url = reverse("billing:invoice_list", args=["periscolaire"])
    start = html.index("1 facture à régler")
    badge = html[html.rindex("<a ", 0, start) : html.index("</a>", start)]
    assert f'href="{url}"' in badge
    assert "voir mes factures de la Régie de recette périscolaire municipale" in badge


def test_a_held_request_says_which_invoices_it_waits_for(client, slots, periscolaire, today):
    """A direct-debit request en traitement while an invoice is unpaid: its page, Mes demandes
    and the direct-debit page say it waits for that invoice, linked."""
    family = make_family()
    request = dd_submitted(family, dd_teleservice(periscolaire))
    invoice = october_invoice(family, periscolaire, slots)
    client = client_for(client, family)
    reason = (
        "En attente : 1 facture impayée à régler avant la mise en place du prélèvement "
        f"({invoice.number})."
    )

    detail = client.get(request.get_absolute_url()).content.decode()
    assert reason in detail
    assert f'<a href="{invoice.get_absolute_url()}">Facture n° {invoice.number}</a>' in detail
    listing = client.get(reverse("enrolment:request_list")).content.decode()
    assert reason in listing and "En attente de votre part" in listing
    assert reason in page(client, family)


def test_a_request_with_nothing_to_settle_is_not_held(client, periscolaire, today):
    """No unpaid invoice: the request is simply being processed by the office."""
    family = make_family()
    request = dd_submitted(family, dd_teleservice(periscolaire))
    detail = client_for(client, family).get(request.get_absolute_url()).content.decode()
    assert "En attente :" not in detail
    assert "le pôle administratif la traite" in page(client, family)


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
