"""Changing the e-mail address or the password needs the password again."""

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_adding_an_email_address_asks_for_the_password_again(client, today):
    """Without a recent re-authentication, adding an address leads to the password prompt and
    nothing is added; after it, the address is added."""
    user = UserFactory()
    client.force_login(user)
    payload = {"action_add": "", "email": "nouvelle@example.org"}

    response = client.post(reverse("account_email"), payload)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert not EmailAddress.objects.filter(email="nouvelle@example.org").exists()
    page = client.get(response.url).content.decode()
    assert "Confirmer" in page and "mot de passe" in page.lower()

    client.post(response.url, {"password": PASSWORD})
    assert EmailAddress.objects.filter(user=user, email="nouvelle@example.org").exists()


def test_a_wrong_password_does_not_reauthenticate(client, today):
    """A wrong password at the prompt keeps the change blocked."""
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("account_email"), {"action_add": "", "email": "x@example.org"})

    page = client.post(response.url, {"password": "pas-le-bon"})

    assert page.status_code == 200
    assert not EmailAddress.objects.filter(email="x@example.org").exists()


def test_removing_an_email_address_asks_for_the_password_again(client, today):
    """Removing an address is a change of address too."""
    user = UserFactory()
    spare = EmailAddress.objects.create(user=user, email="ancienne@example.org", verified=True)
    client.force_login(user)

    response = client.post(reverse("account_email"), {"action_remove": "", "email": spare.email})

    assert response.url.startswith(reverse("account_reauthenticate"))
    assert EmailAddress.objects.filter(pk=spare.pk).exists()


def test_changing_the_password_needs_the_current_one(client, today):
    """The password change form refuses a wrong current password and keeps the old password."""
    user = UserFactory()
    client.force_login(user)
    new = "un-nouveau-mot-de-passe-solide"

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": "pas-le-bon", "password1": new, "password2": new},
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD) and not user.check_password(new)

    client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": new, "password2": new},
    )
    user.refresh_from_db()
    assert user.check_password(new)
