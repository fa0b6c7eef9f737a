"""The office's dashboard (the admin's index): counts of what waits, linked to the admin lists
that show the same rows, only for those allowed to see them, in a bounded number of queries."""

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from billing.card.models import PaymentIssue
from billing.models import Invoice, Regie
from enrolment.models import DocumentType, EnrolmentRequest, RequestDocument, Teleservice
from exchanges.models import Thread
from families.demo import ensure_school_years
from families.models import SchoolYear
from portail import dashboard
from reservations.models import Booking, Closure
from reservations.reference import ensure_reference_data
from tests.conftest import TODAY
from tests.enrolment.helpers import make_teleservice
from tests.factories import ChildFactory, FamilyFactory, SchoolFactory, UserFactory

pytestmark = pytest.mark.django_db

ADMIN = reverse("admin:index")
TOMORROW = TODAY + datetime.timedelta(days=1)  # Friday 2026-11-27: a périscolaire day

State = EnrolmentRequest.State
DocState = RequestDocument.State


def staff(group=None, **fields):
    """A staff member (with an authenticator app) in `group`."""
    user = UserFactory(is_staff=True, **fields)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


class OfficeData:
    """`copies` times: requests in each state, threads, invoices, payment issues, bookings on
    today's and tomorrow's registers; and four closures. `expected` holds the right counts."""

    def __init__(self, copies=1):
        ensure_school_years(TODAY)
        year = SchoolYear.objects.current(TODAY)
        self.slots = ensure_reference_data()
        self.prainet = SchoolFactory(name="École du Prainet")
        self.bruyeres = SchoolFactory(name="École des Bruyères")
        periscolaire = make_teleservice(Teleservice.Kind.PERISCOLAIRE, school_year=year)
        direct_debit = make_teleservice(Teleservice.Kind.PRELEVEMENT, school_year=year)
        regie = Regie.objects.get(slug="periscolaire")
        self.number = 0

        def request(family, teleservice, state, needs_review=False, documents=()):
            child = ChildFactory(family=family, school=self.prainet)
            made = EnrolmentRequest.objects.create(
                family=family,
                child=child if teleservice.kind != Teleservice.Kind.PRELEVEMENT else None,
                teleservice=teleservice,
                kind=teleservice.kind,
                school_year=year,
                state=state,
                needs_review=needs_review,
            )
            for doc_state in documents:
                RequestDocument.objects.create(
                    request=made,
                    document_type=DocumentType.objects.exclude(documents__request=made).first(),
                    state=doc_state,
                )
            return made

        def invoice(family, status):
            self.number += 1
            return Invoice.objects.create(
                regie=regie,
                family=family,
                number=f"TABLEAU{self.number:06d}",
                period_start=datetime.date(2026, 9, 1),
                period_end=datetime.date(2026, 9, 30),
                issue_date=datetime.date(2026, 10, 10),
                due_date=datetime.date(2026, 11, 9),
                total_cents=4200,
                status=status,
                payer_name="Camille",
                payer_address="1 place de la Mairie",
                family_label=f"Foyer {family.name}",
            )

        def book(family, slot, school, day, **fields):
            child = ChildFactory(family=family, school=school)
            return Booking.objects.create(
                child=child, slot=self.slots[slot], date=day, school=school, **fields
            )

        for _ in range(copies):
            family = FamilyFactory()
            for _ in range(3):
                request(family, periscolaire, State.SUBMITTED, True, [DocState.PENDING])
            request(family, periscolaire, State.SUBMITTED, False, [DocState.REFUSED])
            request(family, periscolaire, State.SUBMITTED, False, [DocState.TO_UPDATE])
            request(family, periscolaire, State.DRAFT, False, [DocState.REFUSED])
            request(family, periscolaire, State.CLOSED, False, [DocState.VALIDATED])
            request(family, direct_debit, State.SUBMITTED)
            request(FamilyFactory(), direct_debit, State.SUBMITTED)
            request(FamilyFactory(), direct_debit, State.CLOSED)
            for n in range(6):
                Thread.objects.create(family=family, subject=f"Question {n}", office_unread=n < 4)
            for status in [Invoice.Status.RECOVERY] * 3 + [Invoice.Status.UNPAID] * 2:
                made = invoice(FamilyFactory(), status)
            for resolved in (None, None, timezone.now()):
                PaymentIssue.objects.create(
                    invoice=made,
                    kind=PaymentIssue.Kind.ALREADY_PAID,
                    amount_cents=4200,
                    resolved_at=resolved,
                )
            # Today: morning at Prainet and at Bruyères not taken, evening at Prainet taken (one
            # child marked), the second evening cancelled; tomorrow: evening at Bruyères.
            for _ in range(3):
                book(family, "matin", self.prainet, TODAY)
            book(family, "matin", self.bruyeres, TODAY)
            book(family, "soir-1", self.prainet, TODAY, presence=Booking.Presence.PRESENT)
            book(family, "soir-1", self.prainet, TODAY)
            book(family, "soir-2", self.prainet, TODAY, status=Booking.Status.CANCELLED)
            book(family, "soir-1", self.bruyeres, TOMORROW)
            book(family, "matin", self.prainet, TODAY + datetime.timedelta(days=4))

        closures = [
            (datetime.date(2026, 12, 8), datetime.date(2026, 12, 8), self.prainet),
            (datetime.date(2026, 12, 18), datetime.date(2026, 12, 18), None),
            (datetime.date(2026, 11, 25), datetime.date(2026, 11, 27), self.bruyeres),
            (datetime.date(2027, 1, 20), datetime.date(2027, 1, 20), None),  # beyond 4 weeks
            (datetime.date(2026, 11, 10), datetime.date(2026, 11, 10), None),  # past
        ]
        for start, end, school in closures:
            Closure.objects.create(start_date=start, end_date=end, school=school, reason="Grève")
        self.expected = {
            "demandes dont les justificatifs sont à vérifier": 3 * copies,
            "demandes en attente d'un justificatif de la famille": 2 * copies,
            "demandes de prélèvement automatique à traiter": 2 * copies,
            "échanges non lus par le service": 4 * copies,
            "anomalies de paiement à traiter": 2 * copies,
            "factures mises en recouvrement à transmettre": 3 * copies,
            "appels non faits aujourd'hui": 2,
            "appels non faits demain": 1,
            "fermetures dans les quatre semaines à venir": 3,
        }


def figures(response) -> dict:
    """{label: figure} of the dashboard's context."""
    return {
        figure.label: figure
        for section in response.context["sections"]
        for figure in section.counts
    }


@pytest.fixture
def data(today):
    return OfficeData()


def test_assistant_sees_every_count_right_and_linked(client, data):
    """The assistant sees each count, and each link opens the admin list of those very rows."""
    client.force_login(staff("Assistant administratif"))

    response = client.get(ADMIN)

    assert response.status_code == 200
    found = figures(response)
    assert {label: figure.count for label, figure in found.items()} == data.expected
    page = response.content.decode()
    for label, figure in found.items():
        assert figure.url.replace("&", "&amp;") in page
        listed = client.get(figure.url)
        assert listed.status_code == 200, label
        if label.startswith("appels"):
            continue  # the list shows the bookings of those registers, not the registers
        if "cl" not in listed.context:  # the recovery page: the invoices still to hand over
            assert listed.context["data"].count == figure.count, label
            continue
        assert listed.context["cl"].result_count == figure.count, label
    assert "Toutes les rubriques" in page and reverse("admin:app_list", args=["billing"]) in page
    assert reverse("admin:occupancy") in page


def test_registers_not_taken_link_to_each_register(client, data):
    """Today's and tomorrow's registers with bookings and nobody marked are listed, each linked
    to its page of the register; a register already begun or cancelled is not."""
    client.force_login(staff("Assistant administratif"))

    found = figures(client.get(ADMIN))

    today = found["appels non faits aujourd'hui"].details
    assert [text for text, _ in today] == [
        "Matin 07h20-08h20 — École des Bruyères",
        "Matin 07h20-08h20 — École du Prainet",
    ]
    url = today[1][1]
    assert url == reverse("pointage:attendance") + (
        f"?ecole={data.prainet.pk}&creneau={data.slots['matin'].pk}&date=2026-11-26"
    )
    assert client.get(url).status_code == 200
    tomorrow = found["appels non faits demain"].details
    assert [text for text, _ in tomorrow] == [f"{data.slots['soir-1'].label} — École des Bruyères"]


def test_regisseur_sees_money_requests_and_registers(client, data):
    """The régisseur sees what their permissions let them open: requests, messages, payments,
    registers (read-only) and closures."""
    client.force_login(staff("Régisseur"))

    found = figures(client.get(ADMIN))

    assert {label: figure.count for label, figure in found.items()} == data.expected
    registers = found["appels non faits aujourd'hui"]
    # No "take attendance" permission: the registers are named, without a link to take them.
    assert all(url == "" for _, url in registers.details)
    assert registers.url.startswith(reverse("admin:reservations_booking_changelist"))


def test_animateur_sees_registers_and_closures_only(client, data):
    """The animateur sees the registers to take (linked to the register) and the closures, not
    the requests, messages or money."""
    client.force_login(staff("Animateur"))

    response = client.get(ADMIN)

    found = figures(response)
    assert set(found) == {
        "appels non faits aujourd'hui",
        "appels non faits demain",
        "fermetures dans les quatre semaines à venir",
    }
    assert found["appels non faits aujourd'hui"].count == 2
    assert all(
        url.startswith(reverse("pointage:attendance"))
        for _, url in found["appels non faits aujourd'hui"].details
    )
    page = response.content.decode()
    assert "Paiements" not in page and "recouvrement" not in page


def test_staff_without_permissions_see_no_count(client, data):
    """A staff member in no group sees no count (and no size of a list they cannot open)."""
    client.force_login(staff())

    response = client.get(ADMIN)

    assert response.status_code == 200
    assert response.context["sections"] == []
    assert reverse("admin:occupancy") not in response.content.decode()


def test_one_permission_shows_one_count(client, data):
    """Counts follow the view permission of their own list, one by one."""
    user = staff()
    user.user_permissions.add(Permission.objects.get(codename="view_paymentissue"))
    client.force_login(user)

    found = figures(client.get(ADMIN))

    assert {label: figure.count for label, figure in found.items()} == {
        "anomalies de paiement à traiter": 2
    }


@pytest.mark.parametrize("group", ["Assistant administratif", "Régisseur", "Animateur", None])
def test_dashboard_queries_stay_bounded(client, today, django_assert_max_num_queries, group):
    """With several of everything, the dashboard stays under 15 queries for every kind of staff."""
    OfficeData(copies=6)
    user = staff(group, is_superuser=group is None)
    client.force_login(user)

    with django_assert_max_num_queries(14):
        response = client.get(ADMIN)

    assert response.status_code == 200


def test_recovery_count_leaves_out_what_is_handed_over(data, today):
    """Invoices in recovery count until a hand-over list (bordereau) takes them."""
    from billing.recovery.services import handover_create

    assert dashboard.recovery_to_hand_over().count() == 3
    assert set(dashboard.recovery_to_hand_over().values_list("status", flat=True)) == {
        Invoice.Status.RECOVERY
    }
    first = dashboard.recovery_to_hand_over().select_related("regie").first()
    handover_create(regie=first.regie, by=None, today=TODAY, invoice_ids=[first.pk])

    assert dashboard.recovery_to_hand_over().count() == 2


def test_each_label_agrees_with_its_count():
    """« 1 demande dont… », « 0 facture… », « 2 factures… »: the plural from 2 on, in French."""
    for label in dashboard.SINGULAR:
        assert dashboard.Figure(label, 2, "").text == label
    assert (
        dashboard.Figure("demandes dont les justificatifs sont à vérifier", 1, "").text
        == "demande dont les justificatifs sont à vérifier"
    )
    assert dashboard.Figure("factures mises en recouvrement à transmettre", 0, "").text == (
        "facture mise en recouvrement à transmettre"
    )
    labels = {item.label for item in dashboard.counted()}
    assert labels <= set(dashboard.SINGULAR)  # every count has its singular
