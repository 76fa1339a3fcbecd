"""A local server that speaks the slice of Stripe's API billing uses, and signs the events Stripe would send.

The official SDK is pointed at it (`STRIPE_API_BASE`). Form bodies are parsed with `parse_qsl`; every
request is recorded so tests can assert on what the SDK sent. Errors use Stripe's top-level
`{"error": {...}}` shape, so the SDK raises its typed errors.
"""

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import stripe

from tests.fakes import JsonHandler, LocalHttpServer

API_KEY = "sk_test_levqor_fake_0123456789"
WEBHOOK_SECRET = "whsec_levqor_test_secret"
# A price id the fake does not know: creating a session with it answers 400 like Stripe does.
UNKNOWN_PRICE = "price_does_not_exist"


@dataclass(frozen=True)
class StripeRequest:
    method: str
    path: str
    params: dict[str, str]
    idempotency_key: str | None
    authorization: str | None


@dataclass
class _State:
    requests: list[StripeRequest] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_idempotency_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[int] = field(default_factory=list)


class _Handler(JsonHandler):
    server: Any

    def do_GET(self) -> None:
        self._serve(b"")

    def do_POST(self) -> None:
        self._serve(self.read_body())

    def _serve(self, body: bytes) -> None:
        fake: FakeStripe = self.server.fake
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        key = self.headers.get("Idempotency-Key")
        fake.record(StripeRequest(self.command, self.path, params, key, self.headers.get("Authorization")))
        if self.headers.get("Authorization") != f"Bearer {API_KEY}":
            self._error(401, "invalid_request_error", "Invalid API Key provided")
        elif (status := fake.take_failure()) is not None:
            self._error(status, "api_error", "Something went wrong on Stripe's end (fake)")
        elif self.command == "POST" and self.path == "/v1/checkout/sessions":
            self._create_session(fake, params, key)
        elif self.command == "GET" and self.path.startswith("/v1/checkout/sessions/"):
            found = fake.session(self.path.rsplit("/", 1)[-1])
            if found is None:
                self._error(404, "invalid_request_error", "No such checkout session")
            else:
                self.send_json(200, found)
        elif self.command == "POST" and self.path == "/v1/billing_portal/sessions":
            self.send_json(200, fake.create_portal_session(params))
        elif self.command == "GET" and self.path == "/v1/balance":
            self.send_json(200, {"object": "balance", "available": [], "pending": [], "livemode": False})
        else:
            self._error(404, "invalid_request_error", f"Unrecognized request URL ({self.command} {self.path})")

    def _create_session(self, fake: "FakeStripe", params: dict[str, str], key: str | None) -> None:
        if params.get("line_items[0][price]") == UNKNOWN_PRICE:
            self._error(400, "invalid_request_error", f"No such price: '{UNKNOWN_PRICE}'", "line_items[0][price]")
            return
        self.send_json(200, fake.create_session(params, key))

    def _error(self, status: int, kind: str, message: str, param: str | None = None) -> None:
        self.send_json(status, {"error": {"type": kind, "message": message, "param": param}})


class FakeStripe(LocalHttpServer):
    handler = _Handler

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._state = _State()

    def record(self, request: StripeRequest) -> None:
        with self._lock:
            self._state.requests.append(request)

    @property
    def requests(self) -> list[StripeRequest]:
        with self._lock:
            return list(self._state.requests)

    def fail_next(self, status: int = 500) -> None:
        """The next request answers `status` with an api_error body."""
        with self._lock:
            self._state.failures.append(status)

    def take_failure(self) -> int | None:
        with self._lock:
            return self._state.failures.pop(0) if self._state.failures else None

    def create_session(self, params: dict[str, str], key: str | None) -> dict[str, Any]:
        """A new open session, or the one this idempotency key created before."""
        with self._lock:
            if key is not None and key in self._state.by_idempotency_key:
                return self._state.by_idempotency_key[key]
            session_id = f"cs_test_{uuid.uuid4().hex}"
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": params.get("mode"),
                "status": "open",
                "url": f"https://checkout.stripe.test/c/pay/{session_id}",
                "client_reference_id": params.get("client_reference_id"),
                "customer": params.get("customer"),
                "metadata": _nested(params, "metadata"),
                "payment_status": "unpaid",
                "line_items_price": params.get("line_items[0][price]"),
                "billing_address_collection": params.get("billing_address_collection"),
            }
            self._state.sessions[session_id] = session
            if key is not None:
                self._state.by_idempotency_key[key] = session
            return session

    def create_portal_session(self, params: dict[str, str]) -> dict[str, Any]:
        session_id = f"bps_{uuid.uuid4().hex[:24]}"
        return {
            "id": session_id,
            "object": "billing_portal.session",
            "customer": params.get("customer"),
            "return_url": params.get("return_url"),
            "url": f"https://billing.stripe.test/p/session/{session_id}",
        }

    def session(self, session_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._state.sessions.get(session_id)

    def complete(
        self, session_id: str, amount: int = 9900, currency: str = "usd", country: str = "US"
    ) -> dict[str, Any]:
        """The `checkout.session.completed` event Stripe sends once the customer paid this session, from a
        billing address in `country`."""
        session = self.session(session_id)
        assert session is not None, f"the fake never created {session_id}"
        subscription = f"sub_{uuid.uuid4().hex[:14]}" if session["mode"] == "subscription" else None
        customer = session["customer"] or f"cus_{uuid.uuid4().hex[:14]}"
        completed = {
            **session,
            "status": "complete",
            "payment_status": "paid",
            "customer": customer,
            "subscription": subscription,
            "amount_total": amount,
            "currency": currency,
            "customer_details": {"email": "payer@example.com", "address": {"country": country}},
        }
        return event("checkout.session.completed", completed)


def _nested(params: dict[str, str], name: str) -> dict[str, str]:
    """`metadata[tenant_id]=x` → `{"tenant_id": "x"}`."""
    prefix = f"{name}["
    return {k[len(prefix) : -1]: v for k, v in params.items() if k.startswith(prefix) and k.count("[") == 1}


def event(kind: str, obj: dict[str, Any], event_id: str | None = None, created: int | None = None) -> dict[str, Any]:
    """A Stripe event envelope around `obj`."""
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": kind,
        "created": created or int(time.time()),
        "livemode": False,
        "api_version": "2026-10-28.endive",
        "data": {"object": obj},
    }


def signed(payload: dict[str, Any], secret: str = WEBHOOK_SECRET) -> tuple[bytes, dict[str, str]]:
    """The raw body and the Stripe-Signature header Stripe would send for `payload`."""
    body = json.dumps(payload)
    header = stripe.WebhookSignature.generate_signature_header(body, secret)
    return body.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"}
