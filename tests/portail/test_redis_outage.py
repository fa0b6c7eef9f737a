"""Redis down: the portal degrades, it does not fail. A real server (its own process, Celery not
eager, PostgreSQL) and a Redis that the test starts, stops (or freezes) and starts again: while
Redis is unavailable, a parent signs in, writes to the office and books a créneau and another
asks for a password reset, each answered in under 2 seconds without error; once Redis is back,
the sweep (cron's command, the beat's through a real worker) sends each e-mail exactly once."""

import http.cookiejar
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.urls import reverse

from common.models import OutboxItem
from exchanges.models import Thread
from families.demo import ensure_school_years
from reservations.calendar import ensure_calendar_around
from reservations.models import Booking
from reservations.reference import ensure_reference_data
from tests.conftest import TODAY
from tests.factories import PASSWORD, SchoolFactory, UserFactory
from tests.reservations.conftest import MONDAY, make_family

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 2.0  # seconds: the longest a request may take while Redis is down

# The server runs as in production (Celery hands tasks to Redis), on the tests' pinned day:
# importing time_machine pulls pytest in, which the settings take for a test run.
SERVER = """
import datetime, sys
import time_machine
time_machine.travel(datetime.datetime(2026, 11, 26, 9, 30, tzinfo=datetime.UTC), tick=True).start()
sys.modules.pop("pytest", None)
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", "runserver", "--noreload", "127.0.0.1:" + sys.argv[1]])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(check, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: not ready after {timeout} s")


class RedisServer:
    def __init__(self, tmp_path):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = tmp_path / "redis.log"
        self.process = None

    def _answers(self):
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
        except redis.RedisError:
            return False

    def start(self):
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(self.log),
            ]
        )
        _wait_for(self._answers, "redis-server")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        assert not self._answers()

    def freeze(self):
        """The process stops answering, its port still open (a hung server)."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.process.send_signal(signal.SIGCONT)
        _wait_for(self._answers, "redis-server")


def _env(redis_url: str, tmp_path) -> dict:
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    return {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "EMAIL_URL": f"filemail:///{tmp_path / 'mails'}",  # four slashes: an absolute path
        "OFFICE_EMAIL": settings.OFFICE_EMAIL,
        "PYTHONUNBUFFERED": "1",
    }


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A plain HTTP client with cookies, that times each answer and never follows redirects."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect
        )

    def _csrf(self):
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def go(self, path, data=None, headers=None):
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        if body is not None:
            request.add_header("X-CSRFToken", self._csrf())
            request.add_header("Referer", self.base + path)
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=30) as response:
                status, content = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, content = error.code, error.read().decode()
        return status, content, time.monotonic() - started


@pytest.fixture
def redis_server(tmp_path):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGCONT)
        server.process.terminate()
        server.process.wait(timeout=10)


@pytest.fixture
def portal(redis_server, tmp_path):
    """The portal in a process of its own, speaking to the test's Redis and database."""
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        cwd=ROOT,
        env=_env(redis_server.url, tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def listening():
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    try:
        _wait_for(listening, "the portal", timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture
def worker(redis_server, tmp_path):
    """Starts a real Celery worker on the test's Redis and database, on demand."""
    processes = []

    def start():
        log = (tmp_path / "worker.log").open("w")
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "portail", "worker", "--pool=solo"]
                + ["--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "info"],
                cwd=ROOT,
                env=_env(redis_server.url, tmp_path),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=30)


def _sweep_through(redis_url) -> int:
    """What the beat does every minute: send the sweep to the worker through Redis (from an
    app of its own, so that no connection to this Redis outlives the test)."""
    beat = Celery("beat", broker=redis_url, backend=redis_url, set_as_current=False)
    try:
        return beat.send_task("common.tasks.sweep_outbox", ignore_result=False).get(timeout=60)
    finally:
        beat.close()


def _sent(tmp_path, text) -> int:
    folder = tmp_path / "mails"
    if not folder.exists():
        return 0
    return sum(path.read_text().count(text) for path in folder.iterdir())


def _scenario(tmp_path, redis_server, portal, outage):
    """The parents' requests during `outage` (a callable that takes Redis away); returns the
    family, the other parent and the time of each answer."""
    slots = ensure_reference_data()
    ensure_school_years(TODAY)
    family = make_family("ORAGE", SchoolFactory(), children=["Lina"])
    child = family.children.get()
    parent = family.guardians.first().user
    parent.password = make_password(PASSWORD, hasher="argon2")  # the server's own hasher
    parent.save(update_fields=["password"])
    other = UserFactory(email="autre.parent@example.org")
    ensure_calendar_around(TODAY)
    browser, stranger = Browser(portal), Browser(portal)
    assert browser.go(reverse("account_login"))[0] == 200  # Redis up: the page and its cookie
    assert stranger.go(reverse("account_reset_password"))[0] == 200

    outage()

    timings = {}
    status, _, timings["connexion"] = browser.go(
        reverse("account_login"), {"login": parent.email, "password": PASSWORD}
    )
    assert status == 302, "login refused or failed while Redis is down"
    status, _, timings["nouveau message"] = browser.go(
        reverse("exchanges:thread_create"),
        {"subject": "Orage et garderie", "body": "Lina sera récupérée à 17 h."},
    )
    assert status == 302
    status, page, timings["accueil"] = browser.go("/")
    assert status == 200 and "Déconnexion" in page
    slot = str(slots["matin"].pk)
    status, page, timings["réservation"] = browser.go(
        reverse("reservations:day", args=[child.pk, MONDAY]),
        {"affiches": [slot], "modifiables": [slot], "creneau": [slot]},
        {"HX-Request": "true"},
    )
    assert status == 200 and "Réservé : Matin" in page
    status, _, timings["mot de passe oublié"] = stranger.go(
        reverse("account_reset_password"), {"email": other.email}
    )
    assert status == 302

    print("Temps de réponse (s) :", {name: round(seconds, 3) for name, seconds in timings.items()})
    slow = {name: round(seconds, 2) for name, seconds in timings.items() if seconds >= LIMIT}
    assert not slow, f"answers slower than {LIMIT} s with Redis unavailable: {slow}"
    assert Booking.objects.active().filter(child=child, date=MONDAY).count() == 1
    assert Thread.objects.filter(family=family, subject="Orage et garderie").exists()
    return family, other, timings


def test_with_redis_stopped_parents_sign_in_book_and_write_and_nothing_is_lost(
    tmp_path, redis_server, portal, worker
):
    _family, other, _timings = _scenario(tmp_path, redis_server, portal, redis_server.stop)
    # The promised e-mails wait in the outbox; none left.
    waiting = OutboxItem.objects.filter(state=OutboxItem.State.PENDING)
    assert waiting.count() == 2 and not OutboxItem.objects.exclude(state=OutboxItem.State.PENDING)
    assert _sent(tmp_path, "Orage et garderie") == 0

    redis_server.start()
    # The sweep run by cron (a process that is not a worker), then the beat's, through Redis
    # to a real worker: each e-mail goes out once.
    command = subprocess.run(
        [sys.executable, "manage.py", "deliver_outbox"],
        cwd=ROOT,
        env=_env(redis_server.url, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "2 envoi(s) fait(s) ; 0 en attente ; 0 en échec." in command.stdout, command.stderr
    worker()
    assert _sweep_through(redis_server.url) == 0
    assert _sent(tmp_path, "Subject: [Portail famille] Message du foyer ORAGE : Orage et") == 1
    assert _sent(tmp_path, f"To: {other.email}") == 1
    assert set(OutboxItem.objects.values_list("state", flat=True)) == {OutboxItem.State.DONE}


def test_with_redis_frozen_no_request_waits_on_it(tmp_path, redis_server, portal, worker):
    """A Redis that accepts connections but never answers (a hung server): the requests still
    answer in time; once it answers again, the beat's sweep sends each e-mail once."""
    _family, other, _timings = _scenario(tmp_path, redis_server, portal, redis_server.freeze)
    redis_server.thaw()
    worker()

    assert _sweep_through(redis_server.url) == 2
    assert _sent(tmp_path, "Subject: [Portail famille] Message du foyer ORAGE : Orage et") == 1
    assert _sent(tmp_path, f"To: {other.email}") == 1
