"""Staff reach the admin and the register (pointage) through allauth's login, with a second
factor (TOTP) outside DEBUG."""

import datetime

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group
from django.urls import get_resolver, reverse

from tests.factories import PASSWORD, GuardianFactory, UserFactory, totp_code

pytestmark = pytest.mark.django_db

ADMIN = "/" + settings.ADMIN_URL
REGISTER = reverse("pointage:attendance")


def register_pages() -> list[str]:
    """Every page of the register, as its URL conf lists them."""
    _, resolver = get_resolver().namespace_dict["pointage"]
    return [reverse(f"pointage:{pattern.name}") for pattern in resolver.url_patterns]


def animateur(**kwargs):
    user = UserFactory(is_staff=True, first_name="Inès", **kwargs)
    user.groups.add(Group.objects.get(name="Animateur"))
    return user


def log_in(client, user, password=PASSWORD, next_url=ADMIN):
    return client.post(
        reverse("account_login"), {"login": user.email, "password": password, "next": next_url}
    )


def test_admin_login_page_sends_to_allauth_login(client):
    """The admin's own login form is replaced by allauth's (rate limits, second factor)."""
    response = client.get(reverse("admin:login") + "?next=" + ADMIN)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert "next=" + ADMIN.replace("/", "%2F") in response.url


def test_staff_without_totp_is_sent_to_set_it_up(client):
    """Outside DEBUG, a staff member without an authenticator app cannot open any admin page."""
    staff = UserFactory(is_staff=True, is_superuser=True, totp=False)
    client.force_login(staff)
    for url in (ADMIN, reverse("admin:families_family_changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url == reverse("mfa_activate_totp")
    page = client.get(reverse("home"), follow=True).content.decode()
    assert "double authentification est obligatoire" in page


def test_staff_without_totp_reach_the_admin_in_debug(client, settings):
    """In DEBUG (a developer's machine) the second factor is not required."""
    settings.DEBUG = True
    client.force_login(UserFactory(is_staff=True, totp=False))
    assert client.get(ADMIN).status_code == 200


def test_parent_pages_do_not_ask_staff_for_totp(client):
    """The requirement applies to the admin only: the rest of the portal opens as usual."""
    client.force_login(UserFactory(is_staff=True, totp=False))
    assert client.get(reverse("home")).status_code == 200


def test_staff_with_totp_reach_the_admin(client):
    """Once an authenticator app protects the account, the admin opens."""
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()
    client.force_login(staff)
    assert client.get(ADMIN).status_code == 200


def test_correct_password_without_totp_code_does_not_open_the_admin(client, today):
    """The login stops at the second-factor stage: with only the password, nobody is signed in."""
    staff = UserFactory(is_staff=True, is_superuser=True)

    response = log_in(client, staff)

    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    assert SESSION_KEY not in client.session
    admin = client.get(ADMIN, follow=True)
    assert admin.resolver_match.view_name == "mfa_authenticate"  # still the pending stage
    assert "Tableau de bord" not in admin.content.decode()
    page = client.get(reverse("mfa_authenticate")).content.decode()
    assert "Authentification à deux facteurs" in page and "Portail famille" in page


def test_wrong_totp_code_is_refused(client, today):
    """A wrong code leaves the staff member at the second-factor stage."""
    staff = UserFactory(is_staff=True)
    log_in(client, staff)

    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})

    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert client.get(ADMIN).status_code == 302


def test_password_and_totp_code_open_the_admin(client, today):
    """The password then the authenticator's code sign the staff member in, back to the admin."""
    staff = UserFactory(is_staff=True, is_superuser=True)
    log_in(client, staff)

    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(staff.totp_secret)})

    assert response.status_code == 302 and response.url == ADMIN
    assert client.session[SESSION_KEY] == str(staff.pk)
    assert client.get(ADMIN).status_code == 200


def test_a_recovery_code_replaces_a_lost_authenticator_once(client, today):
    """A recovery code passes the second-factor stage, and only once."""
    staff = UserFactory(is_staff=True, is_superuser=True)
    code = RecoveryCodes.activate(staff).get_unused_codes()[0]
    log_in(client, staff)
    assert client.post(reverse("mfa_authenticate"), {"code": code}).url == ADMIN

    client.post(reverse("account_logout"))
    log_in(client, staff)
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 200
    assert SESSION_KEY not in client.session


def test_parent_logs_in_with_the_password_alone(client, today):
    """Parents without an authenticator app are not asked for a code."""
    parent = UserFactory()
    response = log_in(client, parent, next_url=reverse("home"))
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.session[SESSION_KEY] == str(parent.pk)


def test_two_factor_pages_are_french_in_the_site_layout(client, today):
    """The second-factor pages use the portal's layout and speak French."""
    staff = UserFactory(is_staff=True, totp=False)
    client.force_login(staff)
    index = client.get(reverse("mfa_index")).content.decode()
    assert "Portail famille" in index and "Application d'authentification" in index
    # Activating asks for the password again first (allauth.mfa requires a recent login).
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp")).content.decode()
    assert 'class="totp-qr' in page and "data:image/svg+xml;base64," in page
    assert "Activer" in page


def test_wrong_codes_from_many_addresses_still_hold_back_the_second_factor(client, today):
    """Whoever has a staff member's password cannot try codes without end by changing address:
    after five wrong codes, even the right one is refused for a while."""
    staff = UserFactory(is_staff=True, is_superuser=True)
    log_in(client, staff)
    for rank in range(5):
        client.post(
            reverse("mfa_authenticate"), {"code": "000000"}, REMOTE_ADDR=f"203.0.113.{rank + 1}"
        )

    response = client.post(
        reverse("mfa_authenticate"),
        {"code": totp_code(staff.totp_secret)},
        REMOTE_ADDR="198.51.100.7",
    )

    assert SESSION_KEY not in client.session
    assert response.status_code in (200, 429)
    assert client.get(ADMIN).status_code == 302


def test_animateur_without_totp_is_sent_to_set_it_up_from_every_register_page(client, settings):
    """Outside DEBUG, the register (pointage) and each of its pages, read or sent, send a staff
    member without an authenticator app to set one up, with the French explanation."""
    settings.DEBUG = False
    client.force_login(animateur(totp=False))
    pages = register_pages()
    assert REGISTER in pages and len(pages) >= 4
    for url in pages:
        for response in (client.get(url), client.post(url)):
            assert response.status_code == 302, url
            assert response.url == reverse("mfa_activate_totp")
    page = client.get(reverse("home"), follow=True).content.decode()
    assert "double authentification est obligatoire" in page


def test_animateur_with_totp_opens_the_register(client, settings):
    """Once an authenticator app protects the account, the register opens."""
    settings.DEBUG = False
    client.force_login(animateur())
    assert client.get(REGISTER).status_code == 200


def test_parent_is_not_asked_for_a_second_factor_on_the_register(client, settings):
    """The requirement is the staff's: a parent reaching the register's URL gets the usual 404."""
    settings.DEBUG = False
    client.force_login(GuardianFactory().user)
    assert client.get(REGISTER).status_code == 404
    assert client.get(reverse("home")).status_code == 200


def test_staff_without_totp_can_still_set_it_up_sign_out_and_check_health(client, settings):
    """The pages needed to set up the factor or leave stay open (no redirect loop)."""
    settings.DEBUG = False
    client.force_login(animateur(totp=False))
    activate_url = reverse("mfa_activate_totp")
    activate = client.get(activate_url)
    assert activate.status_code == 302
    assert activate.url.startswith(reverse("account_reauthenticate"))
    assert client.get(reverse("account_reauthenticate")).status_code == 200
    assert client.get(reverse("mfa_index")).status_code == 200
    assert client.get(reverse("health")).status_code in (200, 503)
    logout = client.post(reverse("admin:logout"))
    assert logout.status_code in (200, 302) and logout.get("Location") != activate_url
    assert SESSION_KEY not in client.session
    client.force_login(animateur(totp=False, email="tablette@example.org"))
    assert client.post(reverse("account_logout")).url != activate_url
    assert SESSION_KEY not in client.session


def test_a_shared_tablet_keeps_the_register_through_the_working_day(client, settings, today):
    """Signed in once with the password and the code, the register opens page after page without
    asking the code again; with a page every few hours the session lasts the day (8 h idle)."""
    settings.DEBUG = False
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60 and settings.SESSION_SAVE_EVERY_REQUEST
    user = animateur()
    log_in(client, user, next_url=REGISTER)
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(user.totp_secret)})
    assert response.url == REGISTER

    start = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)
    for hours in (0, 3, 6, 9):
        with time_machine.travel(start + datetime.timedelta(hours=hours), tick=False):
            assert client.get(REGISTER).status_code == 200
            assert client.get(f"{REGISTER}?date=2026-11-27").status_code == 200
    assert client.session[SESSION_KEY] == str(user.pk)
