"""« Mes données »: a guardian downloads everything the portal holds about the family, as JSON
and as PDF, each in one request; every download is logged for the office."""

import datetime
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing.models import Payment
from billing.services import payment_record
from common.files import PNG
from exchanges.models import Message
from exchanges.services import thread_start
from families.models import GuardianEvent
from reservations.models import Booking, Slot
from tests.billing import fixtures as billing_fixtures
from tests.billing.conftest import pdf_text
from tests.billing.test_recovery import make_invoice
from tests.common.test_uploads import png_bytes
from tests.conftest import client_for
from tests.enrolment import fixtures as enrolment_fixtures
from tests.factories import ChildContactFactory, ChildFactory, GuardianFactory, UserFactory
from tests.reservations import fixtures as reservation_fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(today, settings, tmp_path):
    """A family with a health note and a PAI, a contact, a request with documents, bookings, an
    absence, an invoice partly paid, a mandate and a thread with an attachment."""
    settings.MEDIA_ROOT = tmp_path / "private"
    guardian = GuardianFactory(family__name="ROUSSEAU", user__email="claire@example.org")
    family = guardian.family
    child = ChildFactory(
        family=family,
        first_name="Zoé",
        health_notes="Asthme : ventoline dans le sac.",
        has_pai=True,
    )
    ChildContactFactory(child=child, full_name="Jeanne ROUSSEAU")
    reservation_fixtures.reservation_objects(family, png_bytes())
    enrolment_fixtures.enrolment_objects(family)
    invoice = billing_fixtures.invoice(family)
    payment_record(
        invoice=invoice,
        amount_cents=1250,
        paid_on=datetime.date(2026, 11, 20),
        means=Payment.Means.CHEQUE,
        reference="CHQ 0042",
    )
    billing_fixtures.mandate(family)
    _thread(family, "Question sur la cantine")
    return family


def _thread(family, subject):
    upload = SimpleUploadedFile("ordonnance.png", png_bytes())
    upload.kind, upload.display_name = PNG, "ordonnance.png"
    thread_start(
        family=family,
        subject=subject,
        body="Bonjour, voici l'ordonnance.",
        side=Message.Side.FAMILY,
        author=family.guardians.first().user,
        attachments=[upload],
    )


def test_the_json_holds_every_section(client, family):
    """The JSON names the household, guardians, children with health notes and PAI, contacts,
    requests with answers and documents, bookings, absences, invoices with lines, payments,
    mandates (IBAN masked) and threads with attachment names; it is a download."""
    response = client_for(client, family).get(reverse("my_data_json"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="mes-donnees-')
    data = json.loads(response.content)
    assert data["foyer"]["nom"] == "ROUSSEAU"
    assert data["responsables"][0]["email"] == "claire@example.org"
    zoe = next(c for c in data["enfants"] if c["prenom"] == "Zoé")
    assert (zoe["informations_de_sante"], zoe["pai"]) == ("Asthme : ventoline dans le sac.", True)
    assert zoe["personnes_autorisees_ou_a_prevenir"][0]["nom"] == "Jeanne ROUSSEAU"
    assert {r["etat"] for r in data["demandes"]} == {"En traitement", "Brouillon"}
    documents = [d for r in data["demandes"] for d in r["documents"]]
    assert any(d["etat"] == "Refusé" and d["motif"] == "Illisible" for d in documents)
    assert all("fichier" not in d and "nom_du_fichier" in d for d in documents)
    assert len(data["reservations"]) == 2 and len(data["absences"]) == 1
    (invoice,) = data["factures"]
    assert (invoice["montant_centimes"], invoice["lignes"][0]["montant_centimes"]) == (3000, 3000)
    assert data["paiements"] == [
        {
            "date": "2026-11-20",
            "facture": invoice["numero"],
            "moyen": "Chèque",
            "reference": "CHQ 0042",
            "montant_centimes": 1250,
        }
    ]
    assert data["mandats"][0]["iban"] == "FR76 •••• •••• 0189"
    assert "FR7630006000011234567890189" not in response.content.decode()
    thread = next(t for t in data["echanges"] if t["objet"] == "Question sur la cantine")
    assert thread["messages"][0]["pieces_jointes"][0]["nom_du_fichier"] == "ordonnance.png"


def test_the_pdf_is_readable(client, family, tmp_path):
    """The PDF has a heading per section and the same figures, in French."""
    response = client_for(client, family).get(reverse("my_data_pdf"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    for heading in (
        "Mes données — Foyer ROUSSEAU",
        "Responsables légaux",
        "Enfants",
        "Demandes",
        "Réservations",
        "Absences",
        "Factures",
        "Paiements",
        "Avoirs",
        "Mandats de prélèvement",
        "Échanges",
    ):
        assert heading in text, heading
    assert "Asthme : ventoline dans le sac." in text
    assert "FR76 •••• •••• 0189" in text and "12,50 €" in text
    assert "ordonnance.png" in text


@pytest.mark.parametrize(
    ("route", "file_format"), [("my_data_json", "JSON"), ("my_data_pdf", "PDF")]
)
def test_each_download_is_logged(client, family, route, file_format):
    """Each download writes who, when and which format in the family's history, which the
    office sees in the admin."""
    user = family.guardians.first().user
    client_for(client, family).get(reverse(route))

    event = GuardianEvent.objects.get(family=family, kind=GuardianEvent.Kind.DATA_DOWNLOADED)
    assert (event.user, event.actor, event.email) == (user, user, user.email)
    assert event.note == f"Format {file_format}"

    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get(reverse("admin:families_guardianevent_changelist")).content.decode()
    assert "Téléchargement des données du foyer" in page


def test_staff_cannot_use_the_parent_pages(client, family):
    """A staff account gets 404 on the three pages, even when it is a guardian too; nothing is
    logged."""
    staff = family.guardians.first().user
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    client.force_login(staff)
    for route in ("my_data", "my_data_json", "my_data_pdf"):
        assert client.get(reverse(route)).status_code == 404
    assert not GuardianEvent.objects.filter(kind=GuardianEvent.Kind.DATA_DOWNLOADED).exists()


def test_a_visitor_is_sent_to_log_in(client):
    """Without a session the downloads redirect to the login page."""
    for route in ("my_data", "my_data_json", "my_data_pdf"):
        response = client.get(reverse(route))
        assert response.status_code == 302 and "/comptes/login/" in response["Location"]


def test_the_family_page_links_to_mes_donnees(client, family):
    """Mon foyer explains the right of access and links to « Mes données », which offers both
    formats."""
    client_for(client, family)
    home = client.get(reverse("families:family_detail")).content.decode()
    assert reverse("my_data") in home
    page = client.get(reverse("my_data")).content.decode()
    assert (
        "Vous pouvez télécharger toutes les données que le portail conserve sur votre foyer" in page
    )
    assert reverse("my_data_json") in page and reverse("my_data_pdf") in page


def _grow(family, today):
    """Two more children, each with a contact, bookings on twenty days, two more invoices with
    a payment each, and two more threads."""
    slots = list(Slot.objects.order_by("position")[:3])
    for name in ("Yanis", "Inès"):
        child = ChildFactory(family=family, first_name=name)
        ChildContactFactory(child=child)
        for offset in range(20):
            day = today + datetime.timedelta(days=7 + offset)
            Booking.objects.create(
                child=child, slot=slots[offset % 3], date=day, school=child.school
            )
    for month in (8, 9):
        invoice = make_invoice(
            family,
            number=f"PERI202600{month:04d}",
            due_date=datetime.date(2026, 12, 10),
            period_start=datetime.date(2026, month, 1),
        )
        payment_record(invoice=invoice, amount_cents=500, paid_on=today, means=Payment.Means.CASH)
    _thread(family, "Deuxième question")
    _thread(family, "Troisième question")


@pytest.mark.parametrize("route", ["my_data_json", "my_data_pdf"])
def test_queries_are_bounded(client, family, today, django_assert_max_num_queries, route):
    """The number of queries does not grow with the children, bookings, invoices and threads."""
    client_for(client, family)
    url = reverse(route)
    client.get(url)
    with django_assert_max_num_queries(40) as small:
        client.get(url)

    _grow(family, today)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    if route == "my_data_json":
        data = json.loads(response.content)
        assert len(data["enfants"]) == 3 and len(data["reservations"]) == 42
        assert len(data["factures"]) == 3 and len(data["echanges"]) == 3
