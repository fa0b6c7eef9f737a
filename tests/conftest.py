import datetime
import os
import uuid

import pytest
import time_machine
from django.db import connection

from tests.billing.fake_stripe import fake_stripe  # noqa: F401 - a local server playing Stripe
from tests.factories import ChildContactFactory, ChildFactory, GuardianFactory

# A fixed "today" for every date-dependent test: a school-term Thursday.
TODAY = datetime.date(2026, 11, 26)


def pytest_collection_modifyitems(config, items):
    """Every transactional test restores the migrations' data (staff groups, services, créneaux…)
    when it ends, so that the next one finds it; and PostgreSQL-only tests are skipped on SQLite,
    unless PG_REQUIRED=1: then the run fails."""
    _serialized_rollback_for_transactional_tests(items)
    if connection.vendor == "postgresql":
        return
    postgres_items = [item for item in items if "postgres" in item.keywords]
    if postgres_items and os.environ.get("PG_REQUIRED") == "1":
        raise pytest.UsageError(
            f"PG_REQUIRED=1 but DATABASE_URL is not PostgreSQL: {len(postgres_items)} tests need it."
        )
    for item in postgres_items:
        item.add_marker(pytest.mark.skip(reason="needs PostgreSQL"))


def _serialized_rollback_for_transactional_tests(items):
    # A flush after a transactional test without serialized rollback re-creates content types
    # under new ids, and the next test that restores serialized data then collides with them.
    for item in items:
        marker = item.get_closest_marker("django_db")
        if (
            marker
            and marker.kwargs.get("transaction")
            and not marker.kwargs.get("serialized_rollback")
        ):
            item.add_marker(
                pytest.mark.django_db(
                    *marker.args, **{**marker.kwargs, "serialized_rollback": True}
                ),
                append=False,
            )


@pytest.fixture(scope="session")
def redis_url():
    """The Redis of the environment (REDIS_URL): required in CI, else the test is skipped."""
    url = os.environ.get("REDIS_URL")
    if not url:
        if os.environ.get("PG_REQUIRED") == "1" or os.environ.get("REDIS_REQUIRED") == "1":
            pytest.fail("REDIS_URL is not set but this run requires Redis")
        pytest.skip("REDIS_URL is not set")
    return url


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """The test client speaks plain HTTP, and test passwords are hashed fast (Argon2, the
    production hasher, costs ~0.15 s a password; tests about hashing itself opt back in)."""
    settings.SECURE_SSL_REDIRECT = False
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]


@pytest.fixture(autouse=True)
def _celery_join_flag():
    """Celery guards eager tasks with a process-wide flag ("a task is running: never wait for a
    result") that it saves and restores around each task; two threads running eager tasks at
    once (the concurrency tests) can restore it in the wrong order and leave it set, which
    would make a later, legitimate `result.get()` refuse. Each test starts with it clear."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield
    _set_task_join_will_block(False)


@pytest.fixture(autouse=True)
def _fresh_login_counters(request, settings):
    """Each test starts with no failed login on record: its own cache namespace (allauth's rate
    limits and used TOTP codes live in the cache, and a pinned clock would never expire them)
    and no django-axes attempt (reset when the test uses the database)."""
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"{config.get('KEY_PREFIX', '')}test-{uuid.uuid4().hex}"}
        for name, config in settings.CACHES.items()
    }
    uses_db = request.node.get_closest_marker("django_db") is not None
    for name in ("transactional_db", "db"):
        if name in request.fixturenames:
            request.getfixturevalue(name)  # set the database up now, as the test would anyway
            uses_db = True
            break
    if uses_db:
        import axes.utils

        axes.utils.reset()


@pytest.fixture
def today():
    """Pins the clock at TODAY, 10:00 in Paris."""
    with time_machine.travel(
        datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC), tick=False
    ):
        yield TODAY


@pytest.fixture
def family_a(db):
    guardian = GuardianFactory(family__name="ALPHA")
    child = ChildFactory(family=guardian.family, first_name="Alice")
    ChildContactFactory(child=child)
    return guardian.family


@pytest.fixture
def family_b(db):
    guardian = GuardianFactory(family__name="BRAVO")
    child = ChildFactory(family=guardian.family, first_name="Bob")
    ChildContactFactory(child=child, full_name="Paul BRAVO")
    return guardian.family


def client_for(client, family):
    client.force_login(family.guardians.first().user)
    return client
