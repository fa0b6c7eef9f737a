"""Where each kind of user lands after signing in at /comptes/login/: the office on the admin's
dashboard, animateurs on the register, parents on the home page; a safe `next` wins."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.factories import PASSWORD, GuardianFactory, UserFactory, totp_code

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
ADMIN = reverse("admin:index")
REGISTER = reverse("pointage:attendance")


def staff(group=None, **fields):
    user = UserFactory(is_staff=True, **fields)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def sign_in(client, user, **extra):
    """The password, then the authenticator's code for staff; returns the final redirect."""
    response = client.post(LOGIN, {"login": user.email, "password": PASSWORD, **extra})
    assert response.status_code == 302
    if response.url == reverse("mfa_authenticate"):
        response = client.post(response.url, {"code": totp_code(user.totp_secret)})
        assert response.status_code == 302
    return response.url


@pytest.mark.parametrize("group", ["Assistant administratif", "Régisseur", None])
def test_office_staff_land_on_the_dashboard(client, today, group):
    """The assistant, the régisseur and any other staff member land on the admin's dashboard."""
    user = staff(group, is_superuser=group is None)

    assert sign_in(client, user) == ADMIN
    assert client.get(ADMIN).status_code == 200


def test_animateur_lands_on_the_register(client, today):
    """The animateur lands on the register, which opens."""
    user = staff("Animateur")

    assert sign_in(client, user) == REGISTER
    assert client.get(REGISTER).status_code == 200


def test_parent_lands_on_the_home_page(client, today):
    """Parents land on the home page, as before."""
    guardian = GuardianFactory()

    assert sign_in(client, guardian.user) == reverse("home")


def test_a_safe_next_wins(client, today):
    """A page asked for before signing in (`next`) is where staff go, whatever their group."""
    wanted = reverse("admin:billing_invoice_changelist")

    assert sign_in(client, staff("Animateur"), next=wanted) == wanted


def test_an_outside_next_is_ignored(client, today):
    """A `next` pointing at another site is ignored: the usual landing page instead."""
    assert sign_in(client, staff("Régisseur"), next="https://evil.example/admin/") == ADMIN
