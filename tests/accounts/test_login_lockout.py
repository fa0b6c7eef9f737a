"""Brute force: django-axes locks the pair (e-mail, client address), never an address alone."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.security import client_ip, login_identifier
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"
NOON = datetime.datetime(2026, 11, 26, 11, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    """Dozens of password checks here: a fast hasher, the lockout rules do not depend on it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clock(time_machine):
    """The clock stands still at noon in Paris until a test moves it."""
    time_machine.move_to(NOON, tick=False)
    return time_machine


def attempt(email, password, ip):
    """One login through allauth's form, from a fresh browser at address `ip`."""
    browser = Client(REMOTE_ADDR=ip)
    response = browser.post(reverse("account_login"), {"login": email, "password": password})
    return response, browser


def signed_in(browser):
    return SESSION_KEY in browser.session


def lock_out(email, ip=ATTACKER):
    responses = [attempt(email, "pas-le-bon-mot-de-passe", ip)[0] for _ in range(5)]
    return responses


def test_five_failures_lock_the_pair_with_a_french_page(clock):
    """The fifth failure for one e-mail from one address shows the French lockout page (429)."""
    parent = UserFactory()

    responses = lock_out(parent.email)

    assert [r.status_code for r in responses[:4]] == [200] * 4
    assert responses[4].status_code == 429
    page = responses[4].content.decode()
    assert "Connexion temporairement bloquée" in page and "15 minutes" in page
    response, browser = attempt(parent.email, PASSWORD, ATTACKER)
    assert not signed_in(browser)


def test_lockout_of_one_email_does_not_lock_another_from_the_same_address(clock):
    """A shared address (a school, a household) keeps working for the other accounts."""
    victim, neighbour = UserFactory(), UserFactory()
    lock_out(victim.email)

    response, browser = attempt(neighbour.email, PASSWORD, ATTACKER)

    assert response.status_code == 302 and signed_in(browser)


def test_lockout_is_per_address_for_the_same_account(clock):
    """The attacked account still signs in from elsewhere while the attacking address is locked,
    minutes later too."""
    parent = UserFactory()
    lock_out(parent.email)
    clock.shift(datetime.timedelta(minutes=6))

    response, browser = attempt(parent.email, PASSWORD, ELSEWHERE)
    assert response.status_code == 302 and signed_in(browser)

    response, browser = attempt(parent.email, PASSWORD, ATTACKER)
    assert response.status_code == 429 and not signed_in(browser)


def test_failures_from_one_address_never_stop_the_owner_elsewhere(clock, settings):
    """Wrong passwords from one address lock that address only: the parent signs in elsewhere."""
    parent = UserFactory()
    stranger, home = "203.0.113.5", "198.51.100.7"
    failures = [
        attempt(parent.email, "pas-le-bon-mot-de-passe", stranger)[0]
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert failures[-1].status_code == 429

    response, browser = attempt(parent.email, PASSWORD, home)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert browser.session[SESSION_KEY] == str(parent.pk)

    response, browser = attempt(parent.email, PASSWORD, stranger)
    assert not signed_in(browser)  # the pair that failed stays held back
    assert response.status_code == 429 or "Trop de tentatives" in response.content.decode()


def test_reset_requests_from_one_address_never_stop_the_owner_elsewhere(
    clock, mailoutbox, django_capture_on_commit_callbacks
):
    """Reset requests for a parent's e-mail from one address never refuse the parent's own."""
    parent = UserFactory()
    for _ in range(6):
        Client(REMOTE_ADDR="203.0.113.5").post(
            reverse("account_reset_password"), {"email": parent.email}
        )
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):  # the e-mail leaves once committed
        response = Client(REMOTE_ADDR="198.51.100.7").post(
            reverse("account_reset_password"), {"email": parent.email}
        )

    assert response.status_code == 302
    assert [mail.to for mail in mailoutbox] == [[parent.email]]


def test_the_lock_lifts_after_the_cool_off(clock):
    """Fifteen minutes after the lockout, the right password signs in again; not before."""
    parent = UserFactory()
    lock_out(parent.email)

    clock.shift(datetime.timedelta(minutes=14))
    response, browser = attempt(parent.email, PASSWORD, ATTACKER)
    assert response.status_code == 429 and not signed_in(browser)

    clock.shift(datetime.timedelta(minutes=2))
    response, browser = attempt(parent.email, PASSWORD, ATTACKER)
    assert response.status_code == 302 and signed_in(browser)


def test_changing_the_case_of_the_email_counts_as_the_same_account(clock):
    """PARENT@… and parent@… share one counter: case games buy no extra attempts."""
    parent = UserFactory()
    for index in range(5):
        email = parent.email.upper() if index % 2 else parent.email
        response, _ = attempt(email, "pas-le-bon-mot-de-passe", ATTACKER)
    assert response.status_code == 429
    assert AccessAttempt.objects.get().username == parent.email


def test_client_address_ignores_x_forwarded_for_without_trusted_proxies(settings):
    """With no trusted proxy (the default), a client cannot choose its address by a header."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "10.0.0.2"


def test_client_address_behind_one_trusted_proxy(settings, clock):
    """Behind one proxy, the client is the address that proxy appended, not what the client sent;
    the lockout is recorded under it."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().post(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.44"
    )
    assert client_ip(request) == "192.0.2.44"

    parent = UserFactory()
    browser = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.44")
    browser.post(reverse("account_login"), {"login": parent.email, "password": "faux-mot"})
    assert AccessAttempt.objects.get().ip_address == "192.0.2.44"


def test_login_identifier_reads_allauth_credentials_or_the_form():
    """The account aimed at comes from allauth's credentials, else from the login form."""
    assert login_identifier(None, {"email": " Parent@Example.org "}) == "parent@example.org"
    request = RequestFactory().post("/", {"login": "Voisin@Example.org"})
    assert login_identifier(request) == "voisin@example.org"
    assert login_identifier(RequestFactory().post("/")) is None
