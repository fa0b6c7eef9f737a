"""The régisseur's admin for card payments: sessions and Stripe events to read, payment issues
to follow up and mark handled with a note (who, when)."""

import datetime

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from billing.card.models import CheckoutSession, PaymentIssue, StripeEvent
from tests.billing import fixtures as billing_fixtures
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return UserFactory(email="chef@example.org", is_staff=True, is_superuser=True)


@pytest.fixture
def issues(family_a, family_b, today):
    """One issue to handle for each family, and one already handled."""
    first = PaymentIssue.objects.create(
        invoice=billing_fixtures.invoice(family_a),
        kind=PaymentIssue.Kind.IN_RECOVERY,
        amount_cents=3000,
        currency="eur",
        reference="pi_test_recouvrement",
        detail="La facture est en recouvrement.",
    )
    second = PaymentIssue.objects.create(
        invoice=billing_fixtures.invoice(family_b),
        kind=PaymentIssue.Kind.AMOUNT_MISMATCH,
        amount_cents=2999,
        currency="eur",
        reference="pi_test_ecart",
    )
    done = PaymentIssue.objects.create(
        invoice=billing_fixtures.invoice(family_b),
        kind=PaymentIssue.Kind.ALREADY_PAID,
        amount_cents=3000,
        currency="eur",
        resolved_at=datetime.datetime(2026, 11, 20, 9, 0, tzinfo=datetime.UTC),
        resolution="Remboursé.",
    )
    return first, second, done


def test_issues_list_filters_what_is_left_to_handle(client, admin_user, issues):
    """ "À traiter" lists the two open issues, "Traitées" the handled one; amounts in euros."""
    client.force_login(admin_user)
    url = reverse("admin:billing_paymentissue_changelist")

    pending = client.get(url, {"etat": "a-traiter"}).content.decode()
    handled = client.get(url, {"etat": "traitees"}).content.decode()

    assert "pi_test_recouvrement" in pending and "pi_test_ecart" in pending
    assert "29,99 €" in pending and "À traiter" in pending
    assert "pi_test_" not in handled and "Traitée le 20/11/2026" in handled
    assert client.get(url, {"kind": "amount_mismatch"}).content.decode().count("pi_test_") == 1


def test_the_action_marks_issues_handled_with_a_note(client, admin_user, issues, today):
    """The action asks for the note first (an empty one is refused in French), then records
    it with who and when on each selected issue."""
    first, second, _ = issues
    client.force_login(admin_user)
    url = reverse("admin:billing_paymentissue_changelist")
    selection = {"action": "mark_resolved", ACTION_CHECKBOX_NAME: [first.pk, second.pk]}

    asked = client.post(url, selection).content.decode()
    empty = client.post(url, {**selection, "resolution": "  "}).content.decode()
    done = client.post(url, {**selection, "resolution": "Transmis au Trésor Public."})

    assert "Suite donnée" in asked
    assert "Indiquez la suite donnée (remboursement, transmission…)." in empty
    assert done.status_code == 302
    for issue in (first, second):
        issue.refresh_from_db()
        assert issue.resolution == "Transmis au Trésor Public."
        assert issue.resolved_by == admin_user
        assert issue.resolved_at == datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)


def test_the_change_form_records_the_note_once(client, admin_user, issues, today):
    """Writing the note on an issue's page marks it handled; it is then read-only."""
    first, _, _ = issues
    client.force_login(admin_user)
    url = reverse("admin:billing_paymentissue_change", args=[first.pk])

    response = client.post(url, {"resolution": "Remboursé par Stripe le 26/11."})

    assert response.status_code == 302
    first.refresh_from_db()
    assert (first.resolution, first.resolved_by) == ("Remboursé par Stripe le 26/11.", admin_user)
    assert 'name="resolution"' not in client.get(url).content.decode()


def test_sessions_and_events_are_read_only_lists(client, admin_user, family_a, today):
    """Sessions and events can be read and filtered, never added, changed or deleted."""
    invoice = billing_fixtures.invoice(family_a)
    CheckoutSession.objects.create(
        invoice=invoice,
        session_id="cs_test_admin",
        amount_cents=3000,
        url="https://checkout.stripe.com/c/pay/cs_test_admin",
        expires_at=datetime.datetime(2026, 11, 27, 10, 0, tzinfo=datetime.UTC),
    )
    StripeEvent.objects.create(
        event_id="evt_test_admin", type="checkout.session.completed", outcome="payée"
    )
    client.force_login(admin_user)

    sessions = client.get(
        reverse("admin:billing_checkoutsession_changelist"), {"status__exact": "open"}
    ).content.decode()
    events = client.get(reverse("admin:billing_stripeevent_changelist")).content.decode()

    assert invoice.number in sessions and "30,00 €" in sessions
    assert "evt_test_admin" in events and "payée" in events
    assert client.get(reverse("admin:billing_checkoutsession_add")).status_code == 403
    assert client.get(reverse("admin:billing_stripeevent_add")).status_code == 403


def test_the_regisseur_handles_issues_and_reads_sessions(client, office, issues, today):
    """The "Régisseur" group reads sessions and events and marks issues handled; it cannot
    add or delete either."""
    first, _, _ = issues
    client.force_login(office)

    for name in ("checkoutsession", "stripeevent", "paymentissue"):
        assert client.get(reverse(f"admin:billing_{name}_changelist")).status_code == 200
    response = client.post(
        reverse("admin:billing_paymentissue_changelist"),
        {"action": "mark_resolved", ACTION_CHECKBOX_NAME: [first.pk], "resolution": "Remboursé."},
    )

    assert response.status_code == 302
    first.refresh_from_db()
    assert (first.resolution, first.resolved_by) == ("Remboursé.", office)
    assert client.get(reverse("admin:billing_paymentissue_add")).status_code == 403
    delete = reverse("admin:billing_paymentissue_delete", args=[first.pk])
    assert client.get(delete).status_code == 403
