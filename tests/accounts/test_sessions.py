"""Sessions: a new id at login, an idle timeout, and a logout that ends the session."""

import datetime

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from accounts.models import Session
from tests.factories import PASSWORD, GuardianFactory, UserFactory

pytestmark = pytest.mark.django_db


def session_id(client):
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def log_in(client, user):
    return client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})


def test_login_gives_a_new_session_id(client, today):
    """The session id a visitor had before logging in is dropped (no session fixation)."""
    user = UserFactory()
    session = client.session
    session["visited"] = True
    session.save()
    before = session_id(client)

    assert log_in(client, user).status_code == 302

    assert session_id(client) != before
    assert not Session.objects.filter(session_key=before).exists()
    assert client.session[SESSION_KEY] == str(user.pk)


def test_logout_ends_the_session(client, today):
    """After logging out, the old session no longer exists and the pages ask for a login."""
    guardian = GuardianFactory()
    log_in(client, guardian.user)
    old = session_id(client)

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert not Session.objects.filter(session_key=old).exists()
    assert client.get(reverse("families:family_detail")).url.startswith(reverse("account_login"))


def test_the_session_ends_after_the_idle_timeout_not_while_in_use(client, time_machine):
    """Each request pushes the end of the session back; SESSION_COOKIE_AGE without one ends it."""
    time_machine.move_to(datetime.datetime(2026, 11, 26, 7, 0, tzinfo=datetime.UTC), tick=False)
    guardian = GuardianFactory()
    log_in(client, guardian.user)
    idle = datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    page = reverse("families:family_detail")

    for _ in range(3):  # a whole day of use, one request short of the timeout each time
        time_machine.shift(idle - datetime.timedelta(minutes=5))
        assert client.get(page).status_code == 200

    time_machine.shift(idle + datetime.timedelta(minutes=1))
    assert client.get(page).url.startswith(reverse("account_login"))
