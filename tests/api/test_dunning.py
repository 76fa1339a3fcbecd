"""Dunning on the real dev server with the test settings' short grace period (4 s, reminders every 1.5 s):
a failed payment e-mails the billing contact, suspends the tenant when the grace period ends, and a paid
invoice resumes it; paying within the grace period ends dunning with nothing suspended."""

import time
import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.api.stripe_webhooks import audit_actions, billing, deliver, invoice_event, poll_billing, subscribe
from tests.api.tenancy import ApiTenant, new_tenant, new_workflow
from tests.conftest import founder_headers
from tests.fakes.smtp import ReceivedMail, SmtpSink
from tests.fakes.stripe import FakeStripe


def mails_to(sink: SmtpSink, address: str) -> list[ReceivedMail]:
    return [mail for mail in list(sink.messages) if address in mail.rcpt_tos]


def poll_mail(
    sink: SmtpSink, address: str, check: Callable[[list[ReceivedMail]], bool], timeout_s: float = 20
) -> list[ReceivedMail]:
    deadline = time.monotonic() + timeout_s
    while not check(mails := mails_to(sink, address)):
        assert time.monotonic() < deadline, f"mail never arrived; got {[m.message['Subject'] for m in mails]}"
        time.sleep(0.05)
    return mails


def tenant_status(api: TestClient, tenant: ApiTenant) -> dict[str, Any]:
    return api.get(f"/api/tenants/{tenant.id}", headers=tenant.admin).json()


def subjects(mails: list[ReceivedMail]) -> list[str]:
    return [str(mail.message["Subject"]) for mail in mails]


def test_an_unpaid_invoice_is_reminded_then_suspended_until_paid(
    api: TestClient, fake_stripe: FakeStripe, smtp_sink: SmtpSink, engine: Engine
) -> None:
    tenant, email = new_tenant(api, plan="free"), f"ap-{uuid.uuid4().hex[:8]}@acme.example"
    session = subscribe(api, fake_stripe, tenant, plan="pro", email=email)
    invoice = f"in_{uuid.uuid4().hex[:12]}"
    workflow_id = new_workflow(api, tenant, {"id": "done", "type": "log", "message": "done"})

    assert deliver(api, invoice_event("invoice.payment_failed", session["customer"], invoice)).status_code == 200
    in_grace = poll_billing(api, tenant, lambda b: (b["dunning"] or {}).get("status") == "grace")
    reminded = poll_mail(smtp_sink, email, lambda m: "Reminder: your payment is overdue" in subjects(m))
    suspended = poll_billing(api, tenant, lambda b: b["dunning"]["status"] == "suspended")
    run = api.post(f"/api/workflows/{workflow_id}/runs", json={}, headers=tenant.member)

    assert in_grace["dunning"]["outstanding"] == [invoice] and in_grace["status"] == "active"
    assert subjects(reminded)[0] == "Your payment failed: please update your payment method"
    assert "99.00 USD" in reminded[0].message.get_content() and invoice in reminded[0].message.get_content()
    assert suspended["status"] == "suspended" and suspended["dunning"]["suspended_by_dunning"] is True
    assert suspended["dunning"]["reminders_sent"] >= 1
    assert tenant_status(api, tenant)["history"][-1]["by"] == "billing"
    assert (run.status_code, run.json()["code"]) == (403, "tenant_suspended")
    poll_mail(smtp_sink, email, lambda m: "Your account is suspended for non-payment" in subjects(m))

    assert deliver(api, invoice_event("invoice.paid", session["customer"], invoice)).status_code == 200
    resumed = poll_billing(api, tenant, lambda b: b["status"] == "active")
    settled = poll_billing(api, tenant, lambda b: b["dunning"]["status"] == "settled")

    assert resumed["plan"] == "pro"
    assert settled["dunning"]["settled_by"] == "paid" and settled["dunning"]["outstanding"] == []
    assert [t["name"] for t in tenant_status(api, tenant)["history"]] == ["suspend", "resume"]
    poll_mail(smtp_sink, email, lambda m: "Payment received: thank you" in subjects(m))
    assert audit_actions(engine, tenant.id) == [
        "plan_changed",
        "subscription_changed",
        "payment_failed",
        "dunning_started",
        "suspended_for_nonpayment",
        "payment_succeeded",
        "resumed_after_payment",
        "dunning_settled",
    ]


def test_paying_within_the_grace_period_ends_dunning_without_suspension(
    api: TestClient, fake_stripe: FakeStripe, smtp_sink: SmtpSink, engine: Engine
) -> None:
    tenant, email = new_tenant(api, plan="free"), f"ap-{uuid.uuid4().hex[:8]}@acme.example"
    session = subscribe(api, fake_stripe, tenant, plan="starter", email=email)
    invoice = f"in_{uuid.uuid4().hex[:12]}"
    deliver(api, invoice_event("invoice.payment_failed", session["customer"], invoice))
    poll_mail(smtp_sink, email, lambda m: "Your payment failed: please update your payment method" in subjects(m))

    deliver(api, invoice_event("invoice.payment_succeeded", session["customer"], invoice))
    settled = poll_billing(api, tenant, lambda b: (b["dunning"] or {}).get("status") == "settled")
    grace_ends = settled["dunning"]["grace_ends_at"]
    time.sleep(4.5)  # past the end of the 4 s grace period

    after = billing(api, tenant)
    assert settled["dunning"]["suspended_by_dunning"] is False and settled["dunning"]["settled_by"] == "paid"
    assert after["status"] == "active" and after["dunning"]["grace_ends_at"] == grace_ends
    assert tenant_status(api, tenant)["history"] == []
    assert "suspended_for_nonpayment" not in audit_actions(engine, tenant.id)
    assert "Your account is suspended for non-payment" not in subjects(mails_to(smtp_sink, email))


def test_a_founders_suspension_is_left_alone_when_billing_settles(
    api: TestClient, fake_stripe: FakeStripe, engine: Engine
) -> None:
    tenant = new_tenant(api, plan="free")
    session = subscribe(api, fake_stripe, tenant, plan="pro")
    invoice = f"in_{uuid.uuid4().hex[:12]}"
    deliver(api, invoice_event("invoice.payment_failed", session["customer"], invoice))
    poll_billing(api, tenant, lambda b: b["dunning"] is not None)
    assert (
        api.post(f"/api/tenants/{tenant.id}/suspend", json={"reason": "abuse"}, headers=founder_headers()).status_code
        == 200
    )

    overdue = poll_billing(api, tenant, lambda b: b["dunning"]["status"] == "suspended")
    deliver(api, invoice_event("invoice.paid", session["customer"], invoice))
    settled = poll_billing(api, tenant, lambda b: b["dunning"]["status"] == "settled")

    assert overdue["dunning"]["suspended_by_dunning"] is False
    assert settled["status"] == "suspended"
    assert [(t["name"], t["by"]) for t in tenant_status(api, tenant)["history"]] == [("suspend", "founder")]
