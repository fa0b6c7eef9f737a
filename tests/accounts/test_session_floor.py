"""The floor of every signed-in page: the session, its user and family in one query, and the
session written back only when its end moves by more than SESSION_REFRESH_SECONDS — while the
8-hour idle timeout, logging out and a password change still end sessions at once."""

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Session
from tests.factories import PASSWORD, GuardianFactory

pytestmark = pytest.mark.django_db

FLOOR = "/__bench__/plancher/"  # bench/urls.py: the middleware stack and one query of its own
START = datetime.datetime(2026, 11, 26, 7, 0, tzinfo=datetime.UTC)


@pytest.fixture
def signed_in(client, time_machine):
    time_machine.move_to(START, tick=False)
    guardian = GuardianFactory()
    response = client.post(
        reverse("account_login"), {"login": guardian.user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    client.get(response.url)  # shows (and so takes out of the session) « Connexion réussie »
    return guardian


def session_end(client):
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(session_key=key).expire_date


def writes(queries):
    return [q["sql"] for q in queries.captured_queries if "accounts_session" in q["sql"]][1:]


@pytest.mark.urls("bench.urls")
def test_the_floor_is_two_queries(client, signed_in, django_assert_max_num_queries):
    """A signed-in page with one query of its own costs two: the session with its user and
    family, then its own; nothing is written back."""
    client.get(FLOOR)
    with django_assert_max_num_queries(2):
        response = client.get(FLOOR)
    assert response.content == b"ok 1"


def test_pages_know_the_family_without_reading_it_again(client, signed_in):
    """The family of the signed-in guardian comes with the session: no page reads the user,
    the guardian or the family on its own."""
    client.get(reverse("families:family_detail"))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("families:family_detail"))
    assert response.status_code == 200
    assert signed_in.family.name in response.content.decode()
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [q for q in sql if q.startswith('SELECT "accounts_user"')]
    assert not [q for q in sql if 'WHERE "families_guardian"."user_id"' in q]


@pytest.mark.urls("bench.urls")
def test_the_session_is_written_back_only_when_its_end_moves_enough(
    client, signed_in, time_machine
):
    """Requests a minute apart leave the session as it is; after SESSION_REFRESH_SECONDS its
    end moves to 8 hours after that request."""
    end = session_end(client)
    time_machine.shift(datetime.timedelta(minutes=1))
    with CaptureQueriesContext(connection) as queries:
        client.get(FLOOR)
    assert writes(queries) == []
    assert session_end(client) == end

    time_machine.shift(datetime.timedelta(seconds=settings.SESSION_REFRESH_SECONDS))
    client.get(FLOOR)
    assert session_end(client) == START + datetime.timedelta(
        minutes=1, seconds=settings.SESSION_COOKIE_AGE + settings.SESSION_REFRESH_SECONDS
    )


@pytest.mark.parametrize(("after_end", "open"), [(-1, True), (1, False)])
def test_the_idle_timeout_holds_to_within_the_refresh_precision(
    client, signed_in, time_machine, after_end, open
):
    """A request that did not write the session back leaves its end where it was, 8 hours
    after the last write: the session closes at most SESSION_REFRESH_SECONDS before 8 idle
    hours after the last request, and never after."""
    page = reverse("families:family_detail")
    end = START + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    time_machine.shift(datetime.timedelta(seconds=settings.SESSION_REFRESH_SECONDS / 2))
    assert client.get(page).status_code == 200  # not written back: the end stays at START + 8 h

    time_machine.move_to(end + datetime.timedelta(seconds=after_end), tick=False)
    response = client.get(page)
    if open:
        assert response.status_code == 200
    else:
        assert response.url.startswith(reverse("account_login"))


def test_a_password_change_signs_the_other_sessions_out(client, signed_in, django_user_model):
    """The user read with the session is checked as Django checks it: after a password change,
    a session opened with the old one no longer signs anyone in."""
    page = reverse("families:family_detail")
    assert client.get(page).status_code == 200
    user = django_user_model.objects.get(pk=signed_in.user.pk)
    user.set_password("un-tout-nouveau-mot-de-passe")
    user.save()

    assert client.get(page).url.startswith(reverse("account_login"))


def test_a_deactivated_account_is_signed_out(client, signed_in, django_user_model):
    """An account the office deactivates is signed out on its next page."""
    page = reverse("families:family_detail")
    django_user_model.objects.filter(pk=signed_in.user.pk).update(is_active=False)

    assert client.get(page).url.startswith(reverse("account_login"))
