"""Every admin action asks for a permission of its own: a staff member who may only read a list
cannot change its records through an action of that list."""

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse

from billing.card.models import PaymentIssue
from billing.directdebit.models import Mandate
from reservations.models import Holiday
from tests.billing import fixtures as billing_fixtures
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _actions(model_admin):
    """(name, function) of each action the admin can offer, Django's "delete_selected" aside
    (it declares "delete" itself)."""
    names = [*dict(model_admin.admin_site.actions), *(model_admin.actions or [])]
    for action in names:
        func, name, _description = model_admin.get_action(action)
        if name != "delete_selected":
            yield name, func


def _staff(group: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def test_every_admin_action_declares_its_permission():
    """Each action of each registered admin declares `permissions=[…]`, so that Django
    offers and runs it only for the staff members who hold them."""
    offending = [
        f"{type(model_admin).__name__}.{name}"
        for model_admin in admin.site._registry.values()
        for name, func in _actions(model_admin)
        if not getattr(func, "allowed_permissions", None)
    ]

    assert not offending, f"Actions sans permission déclarée : {', '.join(offending)}"


@pytest.fixture
def issue(family_a):
    return PaymentIssue.objects.create(
        invoice=billing_fixtures.invoice(family_a),
        kind=PaymentIssue.Kind.AMOUNT_MISMATCH,
        amount_cents=2999,
        currency="eur",
        reference="pi_test_droits",
    )


def _mark_resolved(client, user, issue):
    client.force_login(user)
    return client.post(
        reverse("admin:billing_paymentissue_changelist"),
        {
            "action": "mark_resolved",
            ACTION_CHECKBOX_NAME: [issue.pk],
            "resolution": "Remboursé par Stripe.",
        },
    )


def test_an_assistant_who_only_reads_payment_issues_cannot_mark_one_handled(client, issue, today):
    """ "Assistant administratif" only reads payment issues: posting the action leaves the
    issue to handle (Django shows the list again), while a "Régisseur" marks it handled."""
    assistant = _staff("Assistant administratif")
    assert not assistant.has_perm("billing.change_paymentissue")

    refused = _mark_resolved(client, assistant, issue)

    assert refused.status_code == 200
    issue.refresh_from_db()
    assert issue.resolved_at is None and issue.resolution == ""

    regisseur = _staff("Régisseur")
    done = _mark_resolved(client, regisseur, issue)

    assert done.status_code == 302
    issue.refresh_from_db()
    assert issue.resolved_at is not None
    assert (issue.resolution, issue.resolved_by) == ("Remboursé par Stripe.", regisseur)


def _offered(model, user) -> set[str]:
    request = RequestFactory().get("/")
    request.user = user
    return set(admin.site._registry[model].get_actions(request))


def test_revoking_mandates_is_offered_to_who_may_change_them():
    """The mandate list is read-only, yet "Révoquer" is offered to the régisseur (who may
    change mandates) and not to an animateur."""
    assert "revoke" in _offered(Mandate, _staff("Régisseur"))
    assert "revoke" not in _offered(Mandate, _staff("Animateur"))


def test_loading_the_calendar_is_offered_to_who_may_add_holidays():
    """Loading the holidays adds periods: offered to the assistant (who adds them), not to the
    régisseur (who only reads them)."""
    assert "load_calendar" in _offered(Holiday, _staff("Assistant administratif"))
    assert "load_calendar" not in _offered(Holiday, _staff("Régisseur"))
