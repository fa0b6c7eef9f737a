"""A small local server playing Stripe for exactly the calls billing/stripe_gateway.py makes,
and a hosted checkout page, so that tests exercise the real SDK over real HTTP.

API: POST /v1/checkout/sessions (form-encoded as the SDK sends it, honouring Idempotency-Key
as Stripe does), GET /v1/checkout/sessions/<id>, POST /v1/checkout/sessions/<id>/expire.
Hosted page: GET /c/pay/<id> shows the amount and a "Payer" button; its POST marks the session
paid, sends `checkout.session.completed` to the portal's webhook signed with the webhook secret
exactly as Stripe signs (`Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<body>")>`)
and redirects to the success URL.

`fake_stripe` (a pytest fixture) starts it, points the settings at it and stops it;
`post_event` signs and posts an event through Django's test client.
"""

import copy
import dataclasses
import hashlib
import hmac
import html
import itertools
import json
import re
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

SECRET_KEY = "sk_test_portail_faux_0123456789"
WEBHOOK_SECRET = "whsec_test_portail_faux_0123456789"

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{next(_ids):06d}{int(time.time() * 1000) % 100000:05d}"


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe would send for `payload` at `timestamp`."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(
        secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def event(type_: str, session: dict, *, event_id: str | None = None) -> dict:
    """A webhook event carrying a copy of `session`, shaped as Stripe sends it."""
    return {
        "id": event_id or new_id("evt"),
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "type": type_,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": json.loads(json.dumps(session))},
    }


def post_event(client, payload: dict | str, *, secret=WEBHOOK_SECRET, timestamp=None, header=None):
    """Post an event to the portal's webhook with Django's test client, signed as Stripe signs
    (or with the given `header`); returns the response."""
    from django.urls import reverse

    body = payload if isinstance(payload, str) else json.dumps(payload)
    signature = sign(body, secret, timestamp) if header is None else header
    extra = {"HTTP_STRIPE_SIGNATURE": signature} if signature else {}
    return client.post(
        reverse("billing:stripe_webhook"), data=body, content_type="application/json", **extra
    )


def _nest(pairs):
    """Stripe's form encoding (`a[b][0][c]=v`) back into dicts and lists."""
    root: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node):
    if isinstance(node, dict):
        if node and all(key.isdigit() for key in node):
            return [_lists(node[key]) for key in sorted(node, key=int)]
        return {key: _lists(value) for key, value in node.items()}
    return node


@dataclasses.dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    params: dict


class FakeStripe:
    """The server's state: sessions, the requests received, the idempotency cache."""

    def __init__(self):
        self.sessions: dict[str, dict] = {}
        self.line_items: dict[str, list] = {}
        self.requests: list[Recorded] = []
        self.idempotency: dict[str, tuple[dict, dict]] = {}
        self.events_sent: list[tuple[dict, int]] = []
        self.webhook_url = ""
        self.webhook_delay = 0.0
        self.fail_next_create: tuple[int, dict] | None = None  # (status, error) once
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # What tests look at.

    def calls(self, method: str, path_prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def created(self) -> list[Recorded]:
        """The session creations received (replays included)."""
        return [r for r in self.requests if (r.method, r.path) == ("POST", "/v1/checkout/sessions")]

    # What Stripe does on its side.

    def create_session(self, params: dict) -> dict:
        session_id = new_id("cs")
        items = params.get("line_items") or []
        amount = sum(
            int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1)) for item in items
        )
        currency = (items[0]["price_data"]["currency"] if items else "eur").lower()
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "currency": currency,
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "metadata": params.get("metadata") or {},
            "mode": params.get("mode"),
            "locale": params.get("locale"),
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
            "expires_at": int(params["expires_at"]) if params.get("expires_at") else None,
            "created": int(time.time()),
            "livemode": False,
            "url": f"{self.url}/c/pay/{session_id}",
        }
        self.sessions[session_id] = session
        self.line_items[session_id] = items
        return session

    def pay(self, session_id: str, *, send: bool = True, payment_status: str = "paid", amount=None):
        """The customer pays on the hosted page: the session completes and, when `send`, the
        signed `checkout.session.completed` goes to the webhook. Returns that event."""
        with self.lock:
            session = self.sessions[session_id]
            session["status"] = "complete"
            session["payment_status"] = payment_status
            session["payment_intent"] = session["payment_intent"] or new_id("pi")
            if amount is not None:
                session["amount_total"] = amount
            payload = event("checkout.session.completed", session)
        if send:
            self.send(payload)
        return payload

    def event(self, type_: str, session_id: str, **changes) -> dict:
        """An event about a session as it stands (after `changes`), not sent."""
        with self.lock:
            self.sessions[session_id].update(changes)
            return event(type_, self.sessions[session_id])

    def send(self, payload: dict) -> int:
        """Sign and post `payload` to the webhook URL (after `webhook_delay`, in the
        background when there is a delay); returns the HTTP status (0 when deferred)."""
        if self.webhook_delay:
            timer = threading.Timer(self.webhook_delay, self._deliver, args=[payload])
            timer.daemon = True
            timer.start()
            return 0
        return self._deliver(payload)

    def _deliver(self, payload: dict) -> int:
        body = json.dumps(payload)
        request = urllib.request.Request(
            self.webhook_url,
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Stripe-Signature": sign(body)},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        self.events_sent.append((payload, status))
        return status


def _handler(fake: FakeStripe):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _body(self) -> str:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length).decode() if length else ""

        def _send(self, status: int, body: str, content_type="application/json", headers=()):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _json(self, status, obj, headers=()):
            self._send(status, json.dumps(obj), headers=headers)

        def _error(self, status, message, type_="invalid_request_error"):
            self._json(status, {"error": {"type": type_, "message": message}})

        def _record(self, params):
            path = urlsplit(self.path).path
            fake.requests.append(Recorded(self.command, path, dict(self.headers.items()), params))
            return path

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
                self._error(401, "Invalid API Key provided.")
                return False
            return True

        def do_GET(self):
            path = self._record({})
            if path == "/favicon.ico":
                self._send(204, "", "image/x-icon")
                return
            match = re.fullmatch(r"/v1/checkout/sessions/([\w]+)", path)
            if match:
                if not self._authorised():
                    return
                session = fake.sessions.get(match.group(1))
                if session is None:
                    self._error(404, f"No such checkout.session: '{match.group(1)}'")
                else:
                    self._json(200, session)
                return
            match = re.fullmatch(r"/c/pay/([\w]+)", path)
            if match and match.group(1) in fake.sessions:
                self._send(
                    200,
                    _page(fake.sessions[match.group(1)], fake.line_items[match.group(1)]),
                    "text/html; charset=utf-8",
                )
                return
            self._error(404, "Unrecognized request URL.")

        def do_POST(self):
            raw = self._body()
            params = _nest(parse_qsl(raw, keep_blank_values=True))
            path = self._record(params)
            match = re.fullmatch(r"/c/pay/([\w]+)", path)
            if match and match.group(1) in fake.sessions:
                session = fake.sessions[match.group(1)]
                if session["status"] != "open":
                    self._send(410, _page(session, []), "text/html; charset=utf-8")
                    return
                fake.pay(session["id"])
                target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
                self._send(303, "", "text/plain", headers=[("Location", target)])
                return
            if not self._authorised():
                return
            if path == "/v1/checkout/sessions" and fake.fail_next_create is not None:
                status, error = fake.fail_next_create
                fake.fail_next_create = None
                self._json(status, {"error": error})
                return
            if path == "/v1/checkout/sessions":
                key = self.headers.get("Idempotency-Key")
                with fake.lock:
                    if key and key in fake.idempotency:
                        sent, response = fake.idempotency[key]
                        if sent != params:
                            self._error(
                                400,
                                "Keys for idempotent requests can only be used "
                                "with the same parameters they were first used with.",
                                "idempotency_error",
                            )
                        else:
                            self._json(200, response, headers=[("Idempotent-Replayed", "true")])
                        return
                    session = fake.create_session(params)
                    if key:
                        fake.idempotency[key] = (params, json.loads(json.dumps(session)))
                self._json(200, session)
                return
            match = re.fullmatch(r"/v1/checkout/sessions/([\w]+)/expire", path)
            if match:
                with fake.lock:
                    session = fake.sessions.get(match.group(1))
                    if session is None:
                        self._error(404, f"No such checkout.session: '{match.group(1)}'")
                        return
                    if session["status"] != "open":
                        self._error(
                            400,
                            f'Only Checkout Sessions with a status in ["open"] can be '
                            f"expired. This Checkout Session has a status of "
                            f'"{session["status"]}".',
                        )
                        return
                    session["status"] = "expired"
                self._json(200, session)
                return
            self._error(404, "Unrecognized request URL.")

    return Handler


def _page(session: dict, items: list) -> str:
    """The hosted checkout page: what is paid and a "Payer" button."""
    euros = f"{session['amount_total'] / 100:.2f}".replace(".", ",")
    name = html.escape(items[0]["price_data"]["product_data"]["name"] if items else "")
    if session["status"] != "open":
        body = "<p>Cette session de paiement n'est plus ouverte.</p>"
    else:
        body = (
            f'<form method="post" action="/c/pay/{session["id"]}">'
            f'<p><label>Numéro de carte <input name="carte" value="4242 4242 4242 4242" '
            f'autocomplete="off"></label></p>'
            f'<button type="submit">Payer {euros} €</button></form>'
            f'<p><a href="{html.escape(session["cancel_url"])}">Annuler et revenir</a></p>'
        )
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,"><title>Paiement — Stripe (test)</title></head>'
        f"<body><main><h1>Paiement sécurisé (Stripe, mode test)</h1><p>{name}</p>"
        f'<p id="montant">{euros} €</p>{body}</main></body></html>'
    )


@pytest.fixture
def fake_stripe(settings):
    """A running FakeStripe with the portal's settings pointing at it (keys set)."""
    fake = FakeStripe().start()
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = fake.url
    # Its hosted page stands in for https://checkout.stripe.com, which the CSP's form-action
    # allows (the browser checks the redirect that follows the green button's POST).
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"] = [*policy["DIRECTIVES"]["form-action"], fake.url]
    settings.CONTENT_SECURITY_POLICY = policy
    yield fake
    fake.stop()
