"""Simulated parents for `make loadtest` (Locust), and the floor probe beside them.

Each parent signs in once with its own bench account (logins are rate-limited and locked out
per e-mail and client address), then repeats the journey of the plan (plan.py), thinking
between steps: home, the month page of its child, the day panel, book a créneau, cancel it
(two steps, as the panel asks), Paiements, an invoice PDF. The floor probe, one user, asks for
the bench's floor view (one query of its own) every FLOOR_WAIT seconds, under the same load.

Locust plays the TLS proxy in front of gunicorn: requests carry `X-Forwarded-Proto: https` and
each parent its own `X-Forwarded-For` address (gunicorn runs with TRUSTED_PROXY_COUNT=1), so
the portal's production settings (secure cookies, HTTPS redirect, CSRF origin checks) apply
unchanged. Each user's cookie jar sends the secure cookies over the loopback connection (BehindTLSProxy).

Environment: LOADTEST_PLAN (the plan's JSON file), LOADTEST_THINK (mean think time, seconds),
LOADTEST_SAMPLES (where to write every request's time when the run ends).
"""

import datetime
import itertools
import json
import os
import re
import time
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlencode, urlsplit

from locust import FastHttpUser, between, constant, events, task
from locust.exception import StopUser

from bench.loadtest.forms import confirm_form, csrf_token, encode, panel_form, title

THINK = float(os.environ.get("LOADTEST_THINK", "5"))
FLOOR_WAIT = float(os.environ.get("LOADTEST_FLOOR_WAIT", "0.5"))
FLOOR_PATH = "/__bench__/plancher/"
FLOOR_NAME = "floor (1 query)"
HTMX_PANEL = {"HX-Request": "true", "HX-Target": "panneau-jour"}


def load_plan() -> dict:
    path = os.environ.get("LOADTEST_PLAN")
    if not path:
        return {"parents": [], "floor": None, "today": None, "password": ""}
    with open(path, encoding="utf-8") as source:
        return json.load(source)


PLAN = load_plan()
_accounts = iter(PLAN["parents"])
_addresses = (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in itertools.count(1))


class BehindTLSProxy(DefaultCookiePolicy):
    """The browser's side of the TLS proxy: its secure cookies go with every request, although
    the loopback connection to gunicorn is plain HTTP."""

    def return_ok_secure(self, cookie, request):
        return True


class PortalUser(FastHttpUser):
    abstract = True
    email = password = None

    def on_start(self):
        self.address = next(_addresses)
        host = urlsplit(self.host)
        # The address the browser sees: https, as behind the TLS proxy of production.
        self.origin = f"https://{host.netloc}"
        self.client.cookiejar.set_policy(BehindTLSProxy())
        self.sign_in()

    def headers(self, extra=None, *, post=False, referer="/"):
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": self.address}
        if post:
            headers |= {"Origin": self.origin, "Referer": self.origin + referer}
        return headers | (extra or {})

    def get(self, path, name, extra=None, **kwargs):
        return self.client.get(path, name=name, headers=self.headers(extra), **kwargs)

    def post(self, path, name, data, extra=None, **kwargs):
        """A form's POST; `data` a dict or a list of (name, value) (repeated names)."""
        headers = self.headers(extra, post=True, referer=path)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.client.post(path, name=name, data=urlencode(data), headers=headers, **kwargs)

    def sign_in(self):
        """allauth's login page, then its form (e-mail, password, CSRF token)."""
        page = self.get("/comptes/login/", "sign in (page)")
        token = csrf_token(page.text or "")
        if not token:
            raise StopUser()
        data = {"csrfmiddlewaretoken": token, "login": self.email, "password": self.password}
        with self.post(
            "/comptes/login/",
            "sign in (POST)",
            data,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            signed = response.status_code == 302
            if not signed:
                response.failure(
                    f"sign-in answered {response.status_code} {title(response.text or '')}"
                )
        if not signed:
            raise StopUser()
        if isinstance(self, Parent):
            signed_in()


class Parent(PortalUser):
    """A parent of the plan, one account each."""

    weight = 1
    wait_time = between(0.5 * THINK, 1.5 * THINK)

    def on_start(self):
        try:
            self.plan = next(_accounts)
        except StopIteration:  # more users than planned accounts: this one stays idle
            raise StopUser() from None
        self.email, self.password = self.plan["email"], PLAN["password"]
        day = datetime.date.fromisoformat(self.plan["day"])
        child = self.plan["child"]
        self.month_url = f"/agenda/{child}/{day.year}/{day.month:02d}/"
        self.day_url = f"/agenda/{child}/{day.isoformat()}/"
        self.slot = str(self.plan["slot"])
        self.pdf_url = f"/paiements/factures/{self.plan['invoice']}/pdf/"
        super().on_start()

    @task
    def journey(self):
        self.get("/", "home")
        self.wait()
        self.get(self.month_url, "agenda: month page")
        self.wait()
        panel = self.get(self.day_url, "agenda: day panel (htmx)", HTMX_PANEL)
        self.wait()
        panel = self.book(panel.text or "")
        self.wait()
        if panel is not None:
            self.cancel(panel)
            self.wait()
        self.get("/paiements/", "Paiements")
        self.wait()
        with self.get(self.pdf_url, "invoice PDF", catch_response=True) as response:
            if not (response.content or b"").startswith(b"%PDF"):
                response.failure(f"invoice PDF: no PDF ({response.status_code})")
        events.request.fire(
            request_type="JOURNEY",
            name="journey completed",
            response_time=0,
            response_length=0,
            exception=None,
            context={},
        )

    def book(self, html: str) -> str | None:
        """Tick the plan's créneau on the panel and save: the panel comes back saying
        « Réservé »; any other answer (refused, error) is a failure."""
        token = csrf_token(html)
        fields = panel_form(html)
        if not token or self.slot not in fields["modifiables"]:
            self.fail("agenda: book a créneau", f"créneau {self.slot} not offered on the panel")
            return None
        fields["creneau"] = sorted(set(fields["creneau"]) | {self.slot})
        with self.post(
            self.day_url,
            "agenda: book a créneau (htmx)",
            encode(fields, token),
            HTMX_PANEL,
            catch_response=True,
        ) as response:
            text = response.text or ""
            if response.status_code != 200 or "Réservé :" not in text:
                refused = re.search(r"alert-danger[^>]*>([^<]+)<", text)
                response.failure(
                    f"booking not made ({response.status_code}): "
                    f"{refused.group(1).strip() if refused else 'no « Réservé »'}"
                )
                return None
        return text

    def cancel(self, html: str) -> None:
        """Untick the créneau just booked, then confirm the removal: « Supprimé »."""
        token = csrf_token(html)
        fields = panel_form(html)
        fields["creneau"] = [pk for pk in fields["creneau"] if pk != self.slot]
        with self.post(
            self.day_url,
            "agenda: cancel (confirmation step, htmx)",
            encode(fields, token or ""),
            HTMX_PANEL,
            catch_response=True,
        ) as response:
            text = response.text or ""
            if "Vous allez supprimer" not in text:
                response.failure(f"no confirmation step ({response.status_code})")
                return
        self.wait()
        with self.post(
            self.day_url,
            "agenda: cancel (confirmed, htmx)",
            encode(confirm_form(text), csrf_token(text) or ""),
            HTMX_PANEL,
            catch_response=True,
        ) as response:
            if response.status_code != 200 or "Supprimé :" not in (response.text or ""):
                response.failure(f"cancellation not made ({response.status_code})")

    def fail(self, name, message):
        events.request.fire(
            request_type="POST",
            name=name,
            response_time=0,
            response_length=0,
            exception=Exception(message),
            context={},
        )


class Floor(PortalUser):
    """The floor probe: one signed-in user asking for the floor view, under the same load."""

    fixed_count = 1
    wait_time = constant(FLOOR_WAIT)

    def on_start(self):
        floor = PLAN.get("floor") or {}
        self.email, self.password = floor.get("email"), floor.get("password")
        super().on_start()

    @task
    def floor(self):
        self.get(FLOOR_PATH, FLOOR_NAME)


# Every request's time, and whether it came once every parent had signed in (the steady state:
# the sign-ins, one Argon2 hash each, crowd the first seconds).
_samples = []
_clock = {"start": None, "steady": None, "end": None}
_signed_in = [0]


def signed_in():
    """One more parent signed in; the steady state begins with the last one."""
    _signed_in[0] += 1
    if _signed_in[0] == len(PLAN["parents"]):
        _clock["steady"] = time.monotonic()


@events.test_start.add_listener
def _started(environment, **kwargs):
    _clock["start"] = time.monotonic()


@events.request.add_listener
def _record(request_type, name, response_time, exception=None, **kwargs):
    steady = _clock["steady"] is not None
    _samples.append((request_type, name, round(response_time, 2), exception is None, steady))


@events.quitting.add_listener
def _write_samples(environment, **kwargs):
    path = os.environ.get("LOADTEST_SAMPLES")
    if not path:
        return
    end = time.monotonic()
    start, steady = _clock["start"] or end, _clock["steady"]
    with open(path, "w", encoding="utf-8") as out:
        json.dump(
            {
                "samples": _samples,
                "seconds": end - start,
                "steady_seconds": end - steady if steady else 0,
                "all_signed_in_after": steady - start if steady else None,
            },
            out,
        )
