"""Browser tests: Playwright driving Debian's chromium against pytest-django's live server."""

import os
import shutil
from pathlib import Path

import pytest

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
