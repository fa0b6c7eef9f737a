import pytest
from django.db import connections
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_health_is_ok_when_dependencies_answer(client, settings):
    """/sante/ answers 200 with the database status, without logging in."""
    settings.REDIS_URL = ""
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.fixture
def unreachable_database():
    """Points the default connection at a database that cannot be reached, then restores it."""
    connection = connections["default"]
    saved = dict(connection.settings_dict)
    # Set the live connection aside (an in-memory SQLite test database dies when closed).
    live = connection.connection
    connection.connection = None
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent/directory/portail.sqlite3"
    else:
        connection.settings_dict.update({"HOST": "127.0.0.1", "PORT": "1"})
    yield
    if connection.connection is not None:
        connection.connection.close()
    connection.connection = live
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


@pytest.mark.django_db(transaction=True)
def test_health_is_503_when_the_database_is_down(client, unreachable_database, settings):
    """When the database cannot be reached, /sante/ answers 503 with the same JSON shape."""
    settings.REDIS_URL = ""
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json() == {"status": "degrade", "database": "indisponible"}


def test_health_reports_redis_down_but_keeps_the_portal_in_service(client, settings):
    """With Redis configured but unreachable, /sante/ says the portal is degraded, but answers
    200: every page still works, so a load balancer must not take it out of service."""
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "degrade", "database": "ok", "redis": "indisponible"}


@pytest.mark.redis
def test_health_checks_the_real_redis(client, settings, redis_url):
    """With the CI's Redis running, /sante/ reports it as ok."""
    settings.REDIS_URL = redis_url
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json()["redis"] == "ok"
