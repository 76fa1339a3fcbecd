"""Driving billing as Stripe would: checkout through the API, paid at the fake, events delivered signed."""

import time
import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from schemas.tables import AuditEntry
from tests.api.tenancy import ApiTenant
from tests.fakes.stripe import FakeStripe, event, signed


def deliver(api: TestClient, payload: dict[str, Any]) -> Response:
    body, headers = signed(payload)
    return api.post("/api/billing/webhook", content=body, headers=headers)


def billing(api: TestClient, tenant: ApiTenant) -> dict[str, Any]:
    answer = api.get("/api/billing", headers=tenant.admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


def poll_billing(
    api: TestClient, tenant: ApiTenant, check: Callable[[dict[str, Any]], bool], timeout_s: float = 15
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        body = billing(api, tenant)
        if check(body):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"billing never reached the state; last: {body}")
        time.sleep(0.05)


def subscribe(
    api: TestClient, fake_stripe: FakeStripe, tenant: ApiTenant, plan: str = "pro", email: str | None = None
) -> dict[str, Any]:
    """Checkout through the API, paid at the fake, delivered and applied; the completed session."""
    email = email or f"billing-{uuid.uuid4().hex[:8]}@example.com"
    started = api.post("/api/billing/checkout", json={"item": plan, "billing_email": email}, headers=tenant.admin)
    assert started.status_code == 201, started.text
    completed = fake_stripe.complete(started.json()["session_id"])
    assert deliver(api, completed).status_code == 200
    poll_billing(api, tenant, lambda b: b["plan"] == plan and b["stripe_subscription_id"] is not None)
    return completed["data"]["object"]


def invoice_event(kind: str, customer: str, invoice_id: str, amount: int = 9900) -> dict[str, Any]:
    return event(
        kind,
        {
            "id": invoice_id,
            "object": "invoice",
            "customer": customer,
            "amount_due": amount,
            "amount_paid": amount if kind != "invoice.payment_failed" else 0,
            "currency": "usd",
            "status": "open" if kind == "invoice.payment_failed" else "paid",
        },
    )


def subscription_event(
    kind: str, session: dict[str, Any], price: str, status: str = "active", created: int | None = None
) -> dict[str, Any]:
    obj = {
        "id": session["subscription"],
        "object": "subscription",
        "customer": session["customer"],
        "status": status,
        "metadata": session["metadata"],
        "items": {"data": [{"price": {"id": price}}]},
    }
    return event(kind, obj, created=created)


def audit_actions(engine: Engine, tenant_id: str | None, actor: str | None = "billing") -> list[str]:
    owner = col(AuditEntry.tenant_id).is_(None) if tenant_id is None else AuditEntry.tenant_id == tenant_id
    query = select(AuditEntry).where(owner).order_by(col(AuditEntry.at))
    with Session(engine) as session:
        return [row.action for row in session.exec(query).all() if actor is None or row.actor == actor]
