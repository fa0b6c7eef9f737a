"""Browser tests: Playwright driving Debian's chromium against pytest-django's live server."""

import datetime
import os
import shutil
import threading
from pathlib import Path

import pytest
import time_machine
from django.core.cache import cache
from django.test import override_settings
from pytest_django.live_server_helper import LiveServer

from tests.e2e.checks import nu_checker

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path():
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser_path():
    """The chromium binary; without it the browser tests skip, or fail when E2E_REQUIRED=1."""
    path = chromium_path()
    if not path:
        if os.environ.get("E2E_REQUIRED") == "1":
            pytest.fail("E2E_REQUIRED=1 but chromium is not installed")
        pytest.skip("chromium is not installed")
    return path


@pytest.fixture(scope="session")
def nu():
    """The command that runs the Nu HTML Checker; without Java or vnu.jar the tests that use it
    skip, or fail when E2E_REQUIRED=1."""
    command = nu_checker()
    if not command:
        message = "the Nu HTML Checker needs Java and vnu.jar (make install, make system-deps)"
        if os.environ.get("E2E_REQUIRED") == "1":
            pytest.fail(f"E2E_REQUIRED=1 but {message}")
        pytest.skip(message)
    return command


def _one_at_a_time(app):
    lock = threading.Lock()

    def serialized_app(environ, start_response):
        with lock:
            return app(environ, start_response)

    return serialized_app


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, over plain HTTP, with a placeholder MEDIA_URL, answering
    one request at a time.

    The middleware (hence SECURE_SSL_REDIRECT) and Django's media-files handler are both built
    when the server thread starts, before any per-test `settings` override. The portal has no
    MEDIA_URL (uploads are private and never served by URL) and that handler fails on None, so
    the server starts with a prefix that no page links to.

    Each request runs in its own thread and, with SQLite in memory, they all share the test's
    single connection, whose transaction state is not made for interleaved requests. The crawl
    drives two browsers at once, so requests are served one at a time.
    """
    address = (
        request.config.getvalue("liveserver")
        or os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    with override_settings(MEDIA_URL="/fichiers-non-publies/", SECURE_SSL_REDIRECT=False):
        server = LiveServer(address)
    httpd = server.thread.httpd
    httpd.set_app(_one_at_a_time(httpd.get_app()))
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _allow_live_server_threads(settings):
    """The live server answers in another thread: plain static files, no HTTPS redirect."""
    settings.SECURE_SSL_REDIRECT = False
    settings.DEBUG = False


@pytest.fixture
def pinned_now():
    """The crawl and the journey happen on TODAY, 10:00 in Paris; the clock keeps ticking so that
    the browser's waits and Django's timestamps still move forward."""
    with time_machine.travel(
        datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC), tick=True
    ):
        yield


@pytest.fixture
def fresh_rate_limits(settings):
    """allauth's rate limits live in the cache: each browser test starts with a clean slate.
    Each test already has its own key prefix (tests/conftest.py); an in-process cache is
    emptied as well, but never a shared Redis, whose FLUSHDB would also empty the keys of the
    tests another worker is running at the same time."""
    if not settings.REDIS_URL:
        cache.clear()
    yield


def launch(playwright, browser_path):
    """Debian's chromium, headless, with the flags that work in containers."""
    return playwright.chromium.launch(executable_path=browser_path, args=CHROMIUM_ARGS)


def log_in(page, base_url, email, password):
    """Signs in through the real login form and waits for the redirect away from it."""
    page.goto(base_url + "/comptes/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert "/comptes/login/" not in page.url, f"login failed for {email}: {page.url}"
