"""The security settings that the login protections rely on."""

import datetime

from django.conf import settings

from portail import settings as project_settings


def test_axes_checks_every_login_first_and_locks_the_pair():
    """axes's backend comes first, its middleware last; it locks (e-mail, address) for 15 min."""
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_FAILURE_LIMIT == 5
    cool_off = settings.AXES_COOLOFF_TIME
    assert cool_off == datetime.timedelta(minutes=15)


def test_passwords_sessions_and_reauthentication():
    """Argon2 hashes passwords; sessions are an idle timeout; changes of address re-ask the
    password; TOTP and recovery codes are the second factors."""
    # The project's own value: tests put a fast hasher in front (tests/conftest.py).
    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.ACCOUNT_REAUTHENTICATION_REQUIRED is True
    assert set(settings.MFA_SUPPORTED_TYPES) == {"totp", "recovery_codes"}
