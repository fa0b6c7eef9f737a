# ruff: noqa: F811  (the billing fixtures are imported to be used as fixtures)
"""« À faire » on the home page: each kind of thing a family has to do, only its own, the empty
state, and a bounded number of queries."""

import pytest
from django.urls import reverse

from billing.models import Invoice, Regie
from enrolment.models import RequestDocument
from exchanges.services import notify_family
from portail.todo import family_todos
from tests.billing.conftest import make_family, regies, school_years, slots  # noqa: F401
from tests.billing.directdebit_helpers import (
    dd_submitted,
    dd_teleservice,
    october_invoice,
    with_creditor,
)
from tests.conftest import client_for
from tests.enrolment.fixtures import enrolment_objects, refused_document

pytestmark = pytest.mark.django_db

ALL_CLEAR = "Tout est à jour : rien ne vous attend."


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def card_payment(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_todo"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_todo"


def home(client, family) -> str:
    response = client_for(client, family).get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def kinds_of(family) -> list[str]:
    return [todo.kind for todo in family_todos(family)]


def test_a_family_with_nothing_to_do_reads_that_all_is_in_order(client, family_a):
    """No document, request, invoice or message waiting: the section says all is up to date."""
    assert family_todos(family_a) == []
    html = home(client, family_a)
    assert "À faire" in html
    assert ALL_CLEAR in html


def test_a_refused_document_links_straight_to_its_replacement_page(client, family_a):
    """The refused document comes first, with its reason and a link to its own replacement
    page; the draft asks to be completed and sent."""
    enrolment_objects(family_a)
    document = refused_document(family_a)

    todos = family_todos(family_a)

    assert [todo.kind for todo in todos] == ["document", "draft"]
    assert todos[0].url == reverse(
        "enrolment:document_replace", args=[document.request_id, document.pk]
    )
    assert "Motif du refus : Illisible" in todos[0].text
    html = home(client, family_a)
    assert todos[0].url in html
    assert "Document à remplacer : « Attestation CAF" in html
    assert html.index("À faire") < html.index("Document à remplacer") < html.index('class="tile"')
    assert ALL_CLEAR not in html


def test_a_document_to_update_is_listed_too(family_a):
    """« À mettre à jour » asks for a new file as « Refusé » does."""
    enrolment_objects(family_a)
    RequestDocument.objects.filter(pk=refused_document(family_a).pk).update(
        state=RequestDocument.State.TO_UPDATE, reason="Attestation de plus de 3 mois"
    )
    (todo,) = [todo for todo in family_todos(family_a) if todo.kind == "document"]
    assert "À mettre à jour : Attestation de plus de 3 mois" in todo.text


def test_another_familys_refused_document_never_shows(client, family_a, family_b):
    """Family B's refused document and draft appear neither in A's list nor on A's home page."""
    enrolment_objects(family_b)
    document = refused_document(family_b)

    assert family_todos(family_a) == []
    html = home(client, family_a)
    assert ALL_CLEAR in html
    assert document.request.number not in html
    assert (
        reverse("enrolment:document_replace", args=[document.request_id, document.pk]) not in html
    )


def test_an_invoice_to_pay_has_the_card_payment_button(client, slots, card_payment, today):
    """An impayée invoice: amount, due date, and the green button posting to its payment."""
    family = make_family()
    invoice = october_invoice(family, regies_of(slots), slots)

    (todo,) = family_todos(family)

    assert todo.kind == "invoice"
    assert todo.title == f"Facture n° {invoice.number} à régler : 6,00 €"
    assert "à régler avant le 10/12/2026" in todo.text
    html = home(client, family)
    assert f'action="{reverse("billing:invoice_pay", args=[invoice.pk])}"' in html
    assert "Payer 6,00 € par carte bancaire" in html


def test_an_invoice_in_recovery_says_the_tresor_public_collects_it(client, slots, card_payment):
    """Mise en recouvrement: no payment button, the Trésor Public collects it now."""
    family = make_family()
    invoice = october_invoice(family, regies_of(slots), slots)
    Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.RECOVERY)

    (todo,) = family_todos(family)

    assert todo.kind == "recovery"
    assert "le paiement se fait désormais auprès du Trésor Public" in todo.text
    html = home(client, family)
    assert reverse("billing:invoice_pay", args=[invoice.pk]) not in html
    assert invoice.get_absolute_url() in html


def test_paid_cancelled_and_programmed_invoices_ask_nothing(slots):
    """Only impayée and recovery invoices are to do."""
    family = make_family()
    invoice = october_invoice(family, regies_of(slots), slots)
    for status in (Invoice.Status.PAID, Invoice.Status.CANCELLED, Invoice.Status.DIRECT_DEBIT):
        Invoice.objects.filter(pk=invoice.pk).update(status=status)
        assert family_todos(family) == [], status


def test_unread_messages_are_listed_then_summed_up(family_a):
    """Up to three unread threads one by one, then one line to « Échanges »; read ones never."""
    for index in range(2):
        notify_family(family=family_a, subject=f"Information {index}", body="Bonjour")
    assert kinds_of(family_a) == ["message", "message"]
    for index in range(2, 5):
        notify_family(family=family_a, subject=f"Information {index}", body="Bonjour")
    todos = family_todos(family_a)
    assert [todo.kind for todo in todos] == ["message"] * 3 + ["messages"]
    assert todos[-1].title == "5 messages non lus dans « Échanges »"
    family_a.threads.update(family_unread=False)
    assert family_todos(family_a) == []


def test_a_direct_debit_request_held_by_unpaid_invoices_says_why(client, slots, today):
    """A direct-debit request en traitement while an invoice of its régie is unpaid: held,
    with the invoice named and linked."""
    regie = with_creditor(regies_of(slots))
    family = make_family()
    request = dd_submitted(family, dd_teleservice(regie))
    invoice = october_invoice(family, regie, slots)

    todos = family_todos(family)

    assert [todo.kind for todo in todos] == ["held", "invoice"]
    held = todos[0]
    assert held.text == (
        "En attente : 1 facture impayée à régler avant la mise en place du prélèvement "
        f"({invoice.number})."
    )
    assert held.links == ((f"Facture n° {invoice.number}", invoice.get_absolute_url()),)
    assert held.url == request.get_absolute_url()


def test_the_home_page_reads_in_a_bounded_number_of_queries(
    client, slots, card_payment, django_assert_max_num_queries, today
):
    """The home page costs the same 14 queries (session, family, navigation, À faire) with
    one item of each kind or many."""
    regie = with_creditor(regies_of(slots))
    family = make_family()
    dd_submitted(family, dd_teleservice(regie))
    enrolment_objects(family)
    october_invoice(family, regie, slots)
    notify_family(family=family, subject="Information", body="Bonjour")
    client = client_for(client, family)
    with django_assert_max_num_queries(14):
        client.get(reverse("home"))

    for index in range(6):
        notify_family(family=family, subject=f"Information {index}", body="Bonjour")
    assert len(family_todos(family)) == 8
    with django_assert_max_num_queries(14):
        response = client.get(reverse("home"))
    assert response.status_code == 200


def regies_of(slots, slug="periscolaire"):
    return Regie.objects.get(slug=slug)
