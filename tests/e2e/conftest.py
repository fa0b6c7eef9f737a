"""Browser tests: Playwright driving Debian's chromium against pytest-django's live server."""

import datetime
import os
import shutil
from pathlib import Path

import pytest
import time_machine
from django.core.cache import cache

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
def fresh_rate_limits():
    """allauth's rate limits live in the cache: each browser test starts with a clean slate."""
    cache.clear()
    yield
    cache.clear()


def launch(playwright, browser_path):
    """Debian's chromium, headless, with the flags that work in containers."""
    return playwright.chromium.launch(executable_path=browser_path, args=CHROMIUM_ARGS)


def log_in(page, base_url, email, password):
    """Signs in through the real login form and waits for the redirect away from it."""
    page.goto(base_url + "/comptes/login/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert "/comptes/login/" not in page.url, f"login failed for {email}: {page.url}"
