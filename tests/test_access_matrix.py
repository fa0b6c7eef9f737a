"""Cross-family access matrix: no family reaches another family's objects, by URL or by form field.

Every parent-facing route with a parameter in its path is listed below, either with how to build
its URL for an object of a family, or on the list of parameters that belong to no family (with the
reason). A new route or a new id field that this file does not know makes the tests fail.
"""

import datetime
import importlib
import inspect
import secrets
from html import unescape

import pytest
from django import forms
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import BaseModelFormSet
from django.urls import reverse
from django.utils import timezone

from common.files import PNG
from enrolment import services as enrolment_services
from enrolment.models import EnrolmentRequest, Teleservice
from exchanges.models import Attachment, Message
from exchanges.services import thread_start
from families import households
from families.invitations import hash_token
from families.models import ChildHouseholdInvitation
from reservations.models import Absence, Booking, Slot
from tests.billing import fixtures as billing_fixtures
from tests.billing.conftest import pdf_text
from tests.common.test_uploads import png_bytes
from tests.enrolment import fixtures as enrolment_fixtures
from tests.enrolment.helpers import form_payload
from tests.factories import ChildContactFactory, GuardianInvitationFactory
from tests.reservations import fixtures as reservation_fixtures
from tests.urlwalk import Route, parent_routes

PROJECT_APPS = [
    "accounts",
    "families",
    "exchanges",
    "enrolment",
    "reservations",
    "billing",
    "portail",
]


def _child_payload(child, *, first_name):
    contact = child.contacts.first()
    return {
        "last_name": child.last_name,
        "first_name": first_name,
        "birth_date": child.birth_date.isoformat(),
        "sex": "F",
        "school": child.school_id or "",
        "school_class": "CM1",
        "health_notes": "",
        "contacts-TOTAL_FORMS": "2",
        "contacts-INITIAL_FORMS": "1",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
        "contacts-0-id": contact.pk,
        "contacts-0-child": child.pk,
        "contacts-0-full_name": contact.full_name,
        "contacts-0-relationship": contact.relationship,
        "contacts-0-phone": contact.phone,
        "contacts-0-can_pick_up": "on",
        "contacts-1-child": child.pk,
        "contacts-1-can_pick_up": "on",  # the blank row's box is ticked by default, as a browser sends it
    }


def _thread(family):
    return family.threads.order_by("pk").first()


def _attachment(family):
    return Attachment.objects.for_family(family).order_by("pk").first()


def _household_invitation(family):
    """A pending invitation of a second household for the family's first child."""
    child = family.children.order_by("pk").first()
    invitation = (
        ChildHouseholdInvitation.objects.filter(child=child).pending(timezone.now()).first()
    )
    return invitation or ChildHouseholdInvitation.objects.create(
        child=child,
        email="ex.conjoint@example.org",
        token_hash=hash_token(secrets.token_urlsafe(32)),
        invited_by=family.guardians.first().user,
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )


# route name → (kwargs for an object of `family`, a valid POST payload for it or None for GET-only)
OBJECT_ROUTES = {
    "families:child_update": (
        lambda family: {"pk": family.children.first().pk},
        lambda family: _child_payload(family.children.first(), first_name="Modifié"),
    ),
    "exchanges:thread_detail": (
        lambda family: {"pk": _thread(family).pk},
        lambda family: {"body": "Message glissé dans l'échange d'une autre famille."},
    ),
    "exchanges:attachment_download": (lambda family: {"pk": _attachment(family).pk}, None),
    # GET: the form; POST: invites the other parent to be the child's second household.
    "families:household_invite": (
        lambda family: {"pk": family.children.first().pk},
        lambda family: {"email": "autre.parent@example.org"},
    ),
    # GET: the confirmation page; POST: revokes the second household's invitation.
    "families:household_invitation_revoke": (
        lambda family: {"pk": _household_invitation(family).pk},
        lambda family: {},
    ),
    # GET: the confirmation page; POST: revokes the invitation.
    "families:invitation_revoke": (
        lambda family: {"pk": GuardianInvitationFactory(family=family).pk},
        lambda family: {},
    ),
    "enrolment:request_detail": (
        lambda family: {"pk": enrolment_fixtures.submitted_request(family).pk},
        None,
    ),
    # GET: the draft's form; POST: saves the draft.
    "enrolment:request_update": (
        lambda family: {"pk": enrolment_fixtures.draft_request(family).pk},
        enrolment_fixtures.draft_payload,
    ),
    "enrolment:document_download": (
        lambda family: {
            "pk": enrolment_fixtures.refused_document(family).request_id,
            "doc_pk": enrolment_fixtures.refused_document(family).pk,
        },
        None,
    ),
    # GET: the refused document's own page, its form first; POST: its new file.
    "enrolment:document_replace": (
        lambda family: {
            "pk": enrolment_fixtures.refused_document(family).request_id,
            "doc_pk": enrolment_fixtures.refused_document(family).pk,
        },
        lambda family: {
            f"remplacer-{enrolment_fixtures.refused_document(family).pk}-file": enrolment_fixtures.new_file()
        },
    ),
    # The e-mailed single-use link: login required, and only the family it was sent to.
    "enrolment:document_replace_link": (
        lambda family: {
            "token": enrolment_services.replace_token(enrolment_fixtures.refused_document(family))
        },
        lambda family: {"file": enrolment_fixtures.new_file()},
    ),
    "reservations:month": (
        lambda family: {"child_id": family.children.first().pk, "year": 2026, "month": 12},
        None,
    ),
    "reservations:day": (
        lambda family: {
            "child_id": family.children.first().pk,
            "day": reservation_fixtures.modifiable_booking(family).date,
        },
        lambda family: _day_cancel_payload(reservation_fixtures.modifiable_booking(family)),
    ),
    "reservations:booking_detail": (
        lambda family: {"pk": reservation_fixtures.modifiable_booking(family).pk},
        None,
    ),
    # GET: the confirmation page; POST: cancels the booking.
    "reservations:booking_delete": (
        lambda family: {"pk": reservation_fixtures.modifiable_booking(family).pk},
        lambda family: {},
    ),
    "reservations:absence_create": (
        lambda family: {"child_id": family.children.first().pk},
        lambda family: _absence_payload(reservation_fixtures.late_booking(family)),
    ),
    "reservations:absence_detail": (
        lambda family: {"pk": reservation_fixtures.absence(family).pk},
        None,
    ),
    "reservations:absence_certificate": (
        lambda family: {"pk": reservation_fixtures.absence(family).pk},
        None,
    ),
    # GET: the confirmation page; POST: takes the child out of the waiting line.
    "reservations:waitlist_leave": (
        lambda family: {"pk": reservation_fixtures.waiting_entry(family).pk},
        lambda family: {},
    ),
    "reservations:calendar_subscribe": (
        lambda family: {"child_id": family.children.first().pk},
        None,
    ),
    # GET: the confirmation page; POST: a new address for the child's calendar feed.
    "reservations:calendar_regenerate": (
        lambda family: {"child_id": family.children.first().pk},
        lambda family: {},
    ),
    "billing:invoice_detail": (lambda family: {"pk": billing_fixtures.invoice(family).pk}, None),
    "billing:invoice_pdf": (lambda family: {"pk": billing_fixtures.invoice(family).pk}, None),
    "billing:credit_note_pdf": (
        lambda family: {"pk": billing_fixtures.cancelled_invoice(family).pk},
        None,
    ),
    # GET: back to the invoice; POST: opens a Checkout Session at the fake Stripe (303 to it).
    "billing:invoice_pay": (
        lambda family: {"pk": billing_fixtures.invoice(family).pk},
        lambda family: {},
    ),
    "billing:payment_return": (lambda family: {"pk": billing_fixtures.invoice(family).pk}, None),
    # GET: the confirmation page; POST: revokes the mandate.
    "billing:mandate_revoke": (
        lambda family: {"pk": billing_fixtures.mandate(family).pk},
        lambda family: {},
    ),
}

# Fixtures a route of the matrix needs: the card payment talks to the fake Stripe server.
ROUTE_FIXTURES = {"billing:invoice_pay": ["fake_stripe"]}


def _day_cancel_payload(booking):
    """The day panel as rendered with the booking ticked, submitted with it unticked and the
    removal confirmed (the second step)."""
    slot = str(booking.slot_id)
    return {"affiches": [slot], "reserves": [slot], "modifiables": [slot], "confirmer": "1"}


def _absence_payload(booking):
    day = booking.date.isoformat()
    return {"du": day, "au": day, "motif": "Maladie"}


# Path parameters that belong to no family, and why they need no cross-family check.
NON_FAMILY_ROUTES = {
    "account_confirm_email": "clé de confirmation d'e-mail d'allauth : liée à une adresse, pas à un foyer",
    "account_reset_password_from_key": "clé de réinitialisation d'allauth : liée à un compte, pas à un foyer",
    "enrolment:request_create": (
        "identifiant de téléservice : le même pour toutes les familles ; l'enfant choisi dans le "
        "formulaire est vérifié (ID_FIELD_TESTS, test_request_child_of_another_family_is_refused)"
    ),
    "families:household_accept": (
        "jeton d'invitation d'un second foyer : il appartient à l'autre parent invité ; "
        "tests/families/test_second_household.py vérifie adresse, foyer, usage unique, "
        "expiration et annulation"
    ),
    "families:invitation_accept": (
        "jeton d'invitation : il appartient à la personne invitée, qui n'a pas encore de foyer ; "
        "tests/families/test_invitations.py vérifie adresse, usage unique, expiration et annulation"
    ),
    **{
        f"billing:{name}": (
            "identifiant de régie (et année) : communs à toutes les familles ; la page ne montre que "
            "le foyer connecté (request.family) — tests/billing/test_pages.py::"
            "test_regie_pages_show_only_the_familys_own_data vérifie qu'un autre foyer n'y voit "
            "aucune facture, aucun paiement ni aucun enfant du foyer A"
        )
        for name in (
            "invoice_list",
            "regie_bookings",
            "statement",
            "statement_pdf",
            "tax_certificate_list",
            "tax_certificate",
        )
    },
    "billing:direct_debit": (
        "identifiant de régie : commun à toutes les familles ; la page ne montre que le mandat et "
        "les factures du foyer connecté — tests/billing/test_directdebit_pages.py::"
        "test_another_familys_mandate_is_a_404 vérifie qu'un autre foyer n'y voit pas le mandat"
    ),
    "reservations:calendar_feed": (
        "jeton secret de l'agenda en ligne : ni connexion ni foyer, le jeton seul ouvre le flux ; "
        "tests/reservations/test_calendar_feed.py vérifie qu'un jeton ancien (régénéré), deviné "
        "ou mal formé donne 404 et que le flux d'un autre foyer ne dit rien de l'enfant"
    ),
    "billing:stripe_webhook": (
        "webhook de Stripe : ni connexion ni foyer, seule la signature compte ; "
        "tests/billing/test_webhook.py vérifie qu'un événement mal signé, trop ancien ou modifié "
        "est refusé (400) sans rien changer"
    ),
}

# Form fields that take the id of a family-owned object → the test that tries another family's id.
ID_FIELD_TESTS = {
    ("families.forms.ChildContactFormSet", "id"): "test_contact_id_of_another_family_is_refused",
    ("enrolment.forms.ChildChoiceForm", "child"): "test_request_child_of_another_family_is_refused",
    (
        "reservations.forms.BulkForm",
        "enfants",
    ): "test_bulk_entry_child_of_another_family_is_refused",
    (
        "reservations.forms.AttendanceMarkForm",
        "reservation",
    ): "test_attendance_forms_refuse_parents",
    ("reservations.forms.WalkInForm", "enfant"): "test_attendance_forms_refuse_parents",
}


@pytest.fixture(autouse=True)
def _family_objects(request, settings, tmp_path):
    """Each family of the matrix owns a thread with an attachment, bookings and an absence, and
    requests (one submitted with a refused document, one draft)."""
    if not {"family_a", "family_b"} & set(request.fixturenames):
        return
    settings.MEDIA_ROOT = tmp_path / "private"
    for name in ("family_a", "family_b"):
        family = request.getfixturevalue(name)
        upload = SimpleUploadedFile("justificatif.png", png_bytes())
        upload.kind, upload.display_name = PNG, "justificatif.png"
        thread_start(
            family=family,
            subject="Dossier",
            body="Bonjour",
            side=Message.Side.FAMILY,
            author=family.guardians.first().user,
            attachments=[upload],
        )
        reservation_fixtures.reservation_objects(family, png_bytes())
        enrolment_fixtures.enrolment_objects(family)


def _snapshot():
    """Every row of the project's tables, to prove that a refused request changed nothing."""
    rows = {}
    for label in PROJECT_APPS:
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        for model in config.get_models():
            rows[model._meta.label] = list(model.objects.order_by("pk").values())
    return rows


def uncovered_routes(routes):
    return [
        route.name or route.pattern
        for route in routes
        if route.params and route.name not in OBJECT_ROUTES and route.name not in NON_FAMILY_ROUTES
    ]


def test_a_new_parametrised_route_is_noticed():
    """A route with an id in its path that the matrix does not list is reported."""
    new_route = Route("families:child_delete", "foyer/enfants/<int:pk>/supprimer/", ("pk",))
    assert uncovered_routes([*parent_routes(), new_route]) == ["families:child_delete"]


def test_every_parametrised_route_is_covered():
    """A parent route with a path parameter must be in the matrix or on the explained list."""
    uncovered = uncovered_routes(parent_routes())
    assert uncovered == [], f"Routes absentes de la matrice d'accès : {uncovered}"
    stale = set(OBJECT_ROUTES) - {route.name for route in parent_routes()}
    assert not stale, f"Routes de la matrice qui n'existent plus : {stale}"


@pytest.mark.parametrize("route_name", sorted(OBJECT_ROUTES))
def test_owner_reaches_object_and_other_family_gets_404(
    request, client, family_a, family_b, route_name
):
    """The owner opens the object; another family gets 404 on GET and POST and nothing changes."""
    for fixture in ROUTE_FIXTURES.get(route_name, ()):
        request.getfixturevalue(fixture)
    build_kwargs, build_payload = OBJECT_ROUTES[route_name]
    url = reverse(route_name, kwargs=build_kwargs(family_a))
    owner = family_a.guardians.first().user
    intruder = family_b.guardians.first().user

    client.force_login(owner)
    assert client.get(url).status_code in (200, 302)

    client.force_login(intruder)
    assert client.get(url).status_code == 404
    if build_payload:
        payload = build_payload(family_a)
        before = _snapshot()
        assert client.post(url, payload).status_code == 404
        assert _snapshot() == before

        # Positive control: the same payload is accepted from the owner (a redirect; 303 when
        # it sends the browser on to another site, as the card payment does).
        client.force_login(owner)
        assert client.post(url, payload).status_code in (302, 303)
        assert _snapshot() != before


def _family_owned(model):
    return hasattr(model._default_manager, "for_family")


def _project_form_classes():
    for label in PROJECT_APPS:
        try:
            module = importlib.import_module(f"{label}.forms")
        except ModuleNotFoundError:
            continue
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and obj.__module__ == module.__name__
                and issubclass(obj, (forms.BaseForm, BaseModelFormSet))
            ):
                yield f"{module.__name__}.{name}", obj


def _id_fields(form_class):
    """(field name, model) of the fields of a form (or a model formset's form) taking an id."""
    if issubclass(form_class, BaseModelFormSet):
        if form_class.model is None:  # a base class, not a formset of a model
            return
        yield "id", form_class.model
        form_class = form_class.form
    for name, field in form_class.base_fields.items():
        if isinstance(field, forms.ModelChoiceField):
            yield name, field.queryset.model


def test_every_id_field_is_covered():
    """A form field taking the id of a family-owned object must have its cross-family test."""
    uncovered = []
    for path, form_class in _project_form_classes():
        for field_name, model in _id_fields(form_class):
            if _family_owned(model) and (path, field_name) not in ID_FIELD_TESTS:
                uncovered.append(f"{path}.{field_name} ({model._meta.label})")
    assert uncovered == [], f"Champs d'identifiant sans test inter-familles : {uncovered}"
    missing_tests = [name for name in ID_FIELD_TESTS.values() if not callable(globals().get(name))]
    assert missing_tests == [], f"Tests inter-familles annoncés mais absents : {missing_tests}"


def test_contact_id_of_another_family_is_refused(client, family_a, family_b):
    """Editing one's child with another family's contact id gives a form error and saves nothing."""
    child = family_a.children.first()
    foreign_contact = family_b.children.first().contacts.first()
    payload = _child_payload(child, first_name="Modifié")
    payload["contacts-0-id"] = foreign_contact.pk
    payload["contacts-0-full_name"] = "Détourné"
    client.force_login(family_a.guardians.first().user)
    before = _snapshot()

    response = client.post(reverse("families:child_update", args=[child.pk]), payload)

    assert response.status_code == 200
    assert "ne figure pas sur la fiche de cet enfant" in response.content.decode()
    assert _snapshot() == before


def test_contact_of_another_family_is_not_shown(client, family_a, family_b):
    """A family's contacts never appear on another family's pages."""
    ChildContactFactory(child=family_b.children.first(), full_name="Secret BRAVO")
    client.force_login(family_a.guardians.first().user)
    for url in (
        reverse("families:family_detail"),
        reverse("families:child_update", args=[family_a.children.first().pk]),
    ):
        assert "BRAVO" not in client.get(url).content.decode()


def test_bulk_entry_child_of_another_family_is_refused(client, family_a, family_b):
    """Saisie groupée with another family's child id gives a form error and books nothing."""
    own, foreign = family_a.children.first(), family_b.children.first()
    client.force_login(family_a.guardians.first().user)
    before = _snapshot()
    start = reservation_fixtures.modifiable_booking(family_a).date
    payload = {
        "enfants": [own.pk, foreign.pk],
        "action": "create",
        "du": start.isoformat(),
        "au": (start + datetime.timedelta(days=14)).isoformat(),
        "creneaux": [Slot.objects.get(code="matin").pk],
        "etape": "confirmer",
    }

    response = client.post(reverse("reservations:bulk_entry"), payload)

    assert response.status_code == 200
    assert "ne fait pas partie de votre foyer" in response.content.decode()
    assert _snapshot() == before


def test_attendance_forms_refuse_parents(client, family_a, family_b):
    """A parent posting the register's forms (a booking id, a child id) gets 404; nothing changes."""
    booking = reservation_fixtures.modifiable_booking(family_b)
    client.force_login(family_a.guardians.first().user)
    before = _snapshot()

    mark = client.post(
        reverse("pointage:attendance_mark"), {"reservation": booking.pk, "presence": "present"}
    )
    walk_in = client.post(
        reverse("pointage:attendance_walk_in"),
        {
            "ecole": booking.school_id,
            "creneau": booking.slot_id,
            "date": booking.date.isoformat(),
            "enfant": family_b.children.first().pk,
        },
    )

    assert (mark.status_code, walk_in.status_code) == (404, 404)
    assert client.get(reverse("pointage:attendance")).status_code == 404
    assert _snapshot() == before


def test_request_child_of_another_family_is_refused(client, family_a, family_b):
    """Filing a request with another family's child id gives a form error and saves nothing."""
    teleservice = Teleservice.objects.get(slug__startswith="matrice-periscolaire")
    foreign = family_b.children.first()
    EnrolmentRequest.objects.filter(
        child=family_a.children.first(), teleservice=teleservice
    ).delete()
    client.force_login(family_a.guardians.first().user)
    url = reverse("enrolment:request_create", args=[teleservice.slug])
    before = _snapshot()

    shown = client.get(f"{url}?enfant={foreign.pk}")
    payload = form_payload(foreign, action="draft")
    response = client.post(url, payload)

    assert shown.status_code == response.status_code == 200
    for page in (shown, response):
        html = page.content.decode()
        assert "ne fait pas partie de votre foyer" in html
        assert foreign.first_name not in html and "BRAVO" not in html
    assert _snapshot() == before
    assert enrolment_services.blocking_request(
        teleservice=teleservice, family=family_b, child=foreign
    )


# Pages without an id in their path that show or export the whole family's data: each must
# show the signed-in family's data and nothing of another family's.
FAMILY_DATA_ROUTES = ["my_data", "my_data_json", "my_data_pdf"]


def test_my_data_export_holds_nothing_of_another_family(client, family_a, family_b, tmp_path):
    """Family A's « Mes données » (page, JSON and PDF) holds A's names, e-mails and numbers and
    none of family B's: names, e-mail, invoice, mandate and request numbers."""

    def markers(family):
        guardian = family.guardians.first().user
        child = family.children.first()
        return [
            family.name,
            guardian.email,
            guardian.last_name,
            child.first_name,
            child.contacts.first().full_name,
            billing_fixtures.invoice(family).number,
            billing_fixtures.mandate(family).rum,
            *EnrolmentRequest.objects.for_family(family).values_list("number", flat=True),
        ]

    own, foreign = markers(family_a), markers(family_b)
    client.force_login(family_a.guardians.first().user)
    content = {name: client.get(reverse(name)).content for name in FAMILY_DATA_ROUTES}
    texts = {
        "my_data": content["my_data"].decode(),
        "my_data_json": content["my_data_json"].decode(),
        "my_data_pdf": pdf_text(content["my_data_pdf"], tmp_path),
    }

    for marker in foreign:
        for name, text in texts.items():
            assert marker not in text, (marker, name)
    for marker in own:
        assert marker in texts["my_data_json"] and marker in texts["my_data_pdf"], marker


# Résidence alternée: family B is the second household of family A's first child (Alice).
# The child's agenda pages open to both households; everything else of each stays its own.
SHARED_CHILD_ROUTES = {"reservations:month", "reservations:day", "reservations:absence_create"}
# Each household has its own calendar feed of the shared child (one per child and household).
SHARED_CHILD_ROUTES |= {name for name in OBJECT_ROUTES if name.startswith("reservations:calendar_")}


@pytest.fixture
def shared_child(family_a, family_b):
    """Alice (family A) has B as her second household; B booked her on a day of its own and
    declared an absence of its own, with a certificate."""
    alice = family_a.children.order_by("pk").first()
    households.household_link(child=alice, family=family_b, by=None, now=timezone.now())
    day = reservation_fixtures.modifiable_day(timezone.localdate())
    booking = Booking.objects.create(
        child=alice,
        family=family_b,
        slot=Slot.objects.get(code="matin"),
        date=day,
        school=alice.school,
    )
    absence = Absence(child=alice, family=family_b, start_date=day, end_date=day, reason="Rhume")
    absence.certificate = SimpleUploadedFile("certificat-b.png", png_bytes())
    absence.certificate_name, absence.certificate_type = "certificat-b.png", "image/png"
    absence.save()
    return {"child": alice, "booking": booking, "absence": absence}


def _markers(family):
    """What of `family` another household must never read: its guardian's e-mail, its
    bookings', absences' and invoices' addresses and numbers."""
    return [
        family.guardians.first().user.email,
        *(
            reverse("reservations:booking_detail", args=[pk])
            for pk in Booking.objects.for_family(family).values_list("pk", flat=True)
        ),
        *(
            reverse("reservations:absence_detail", args=[pk])
            for pk in Absence.objects.for_family(family).values_list("pk", flat=True)
        ),
        billing_fixtures.invoice(family).number,
    ]


@pytest.mark.parametrize("direction", ["B→A", "A→B"])
@pytest.mark.parametrize("route_name", sorted(set(OBJECT_ROUTES) - SHARED_CHILD_ROUTES))
def test_two_households_of_a_shared_child_reach_nothing_of_each_other(
    request, client, family_a, family_b, shared_child, route_name, direction
):
    """With a child shared by the two households, every object of one household stays a 404 for
    the other, GET and POST, and nothing changes."""
    for fixture in ROUTE_FIXTURES.get(route_name, ()):
        request.getfixturevalue(fixture)
    owner, intruder = (family_a, family_b) if direction == "B→A" else (family_b, family_a)
    build_kwargs, build_payload = OBJECT_ROUTES[route_name]
    url = reverse(route_name, kwargs=build_kwargs(owner))
    client.force_login(intruder.guardians.first().user)

    assert client.get(url).status_code == 404
    if build_payload:
        payload = build_payload(owner)
        before = _snapshot()
        assert client.post(url, payload).status_code == 404
        assert _snapshot() == before


@pytest.mark.parametrize("name", ["booking_detail", "booking_delete"])
def test_the_first_household_gets_404_on_the_second_households_bookings(
    client, family_a, shared_child, name
):
    """A's child booked by B: B's booking (page, removal) is a 404 for A, and stays booked."""
    client.force_login(family_a.guardians.first().user)
    url = reverse(f"reservations:{name}", args=[shared_child["booking"].pk])
    before = _snapshot()

    assert client.get(url).status_code == 404
    if name == "booking_delete":
        assert client.post(url).status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize("name", ["absence_detail", "absence_certificate"])
def test_the_first_household_gets_404_on_the_second_households_absence(
    client, family_a, shared_child, name
):
    """B's absence of the shared child and its medical certificate are a 404 for A."""
    client.force_login(family_a.guardians.first().user)
    url = reverse(f"reservations:{name}", args=[shared_child["absence"].pk])

    assert client.get(url).status_code == 404
    assert client.post(url).status_code in (404, 405)


@pytest.mark.parametrize(
    "route_name", ["reservations:month", "reservations:day", "reservations:absence_create"]
)
def test_the_shared_childs_pages_show_each_household_nothing_of_the_other(
    client, family_a, family_b, shared_child, route_name
):
    """The shared child's month, day and absence pages open to both households; neither reads
    the other's e-mail, bookings', absences' or invoices' numbers and addresses there, and the
    other household's POST of the owner's payload changes nothing of the owner's."""
    build_kwargs, build_payload = OBJECT_ROUTES[route_name]
    url = reverse(route_name, kwargs=build_kwargs(family_a))
    for viewer, other in ((family_b, family_a), (family_a, family_b)):
        client.force_login(viewer.guardians.first().user)
        html = unescape(client.get(url).content.decode())
        for marker in _markers(other):
            assert marker not in html, (route_name, marker)
    if route_name == "reservations:month":
        assert "Réservé par l'autre foyer" in html

    if build_payload:
        client.force_login(family_b.guardians.first().user)
        before = _domain_snapshot()
        assert client.post(url, build_payload(family_a)).status_code in (200, 302)
        assert _domain_snapshot() == before


def _domain_snapshot():
    """The project's rows but the session and the créneaux' lock rows, which a refused save
    may touch (a flash message, the lock taken before re-checking)."""
    rows = _snapshot()
    for label in ("accounts.Session", "reservations.SlotDay"):
        rows.pop(label, None)
    return rows


def test_my_data_of_each_household_holds_only_its_own_bookings_of_the_shared_child(
    client, family_a, family_b, shared_child
):
    """« Mes données » of A lists none of B's bookings or absences of the shared child."""
    client.force_login(family_a.guardians.first().user)
    data = client.get(reverse("my_data_json")).content.decode()

    assert "Rhume" not in data
    assert "certificat-b.png" not in data
