"""Billing through the API: Checkout Sessions at the fake Stripe, signed webhooks, plans, repeats, strays."""

import logging
import time
import uuid
from collections.abc import Iterator

import pytest
import stripe
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine
from sqlmodel import Session, select

from api.main import create_app
from core.settings import Settings
from schemas.tables import BillingEvent
from tests.api.stripe_webhooks import (
    audit_actions,
    billing,
    deliver,
    invoice_event,
    poll_billing,
    subscribe,
    subscription_event,
)
from tests.api.tenancy import ApiTenant, new_tenant
from tests.conftest import founder_headers
from tests.fakes.stripe import API_KEY, WEBHOOK_SECRET, FakeStripe, StripeRequest, event, signed

CREATE_SESSION = ("POST", "/v1/checkout/sessions")


def checkout(api: TestClient, tenant: ApiTenant, headers: dict[str, str] | None = None, **body: object) -> Response:
    return api.post(
        "/api/billing/checkout",
        json={"billing_email": "ap@acme.example", **body},
        headers={**tenant.admin, **(headers or {})},
    )


def sessions_created(fake_stripe: FakeStripe, tenant_id: str) -> list[StripeRequest]:
    return [
        r
        for r in fake_stripe.requests
        if (r.method, r.path) == CREATE_SESSION and r.params.get("client_reference_id") == tenant_id
    ]


def recorded_events(engine: Engine, event_id: str) -> list[BillingEvent]:
    with Session(engine) as session:
        return list(session.exec(select(BillingEvent).where(BillingEvent.id == event_id)).all())


@pytest.fixture
def keyless_api(settings: Settings) -> Iterator[TestClient]:
    """The app without Stripe credentials, sharing the database and Temporal; no second worker."""
    keyless = settings.model_copy(
        update={"stripe_api_key": None, "stripe_webhook_secret": None, "api_embedded_worker": False}
    )
    with TestClient(create_app(keyless)) as test_client:
        yield test_client


def test_checkout_creates_a_subscription_session_for_the_callers_tenant(
    api: TestClient, fake_stripe: FakeStripe, engine: Engine
) -> None:
    tenant = new_tenant(api, plan="free")

    answer = checkout(api, tenant, item="pro")

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["session_id"].startswith("cs_test_") and body["url"].endswith(body["session_id"])
    assert (body["mode"], body["price_id"]) == ("subscription", "price_pro")
    [sent] = sessions_created(fake_stripe, tenant.id)
    assert sent.authorization == f"Bearer {API_KEY}"
    assert sent.params["mode"] == "subscription" and sent.params["line_items[0][price]"] == "price_pro"
    assert sent.params["metadata[tenant_id]"] == tenant.id and sent.params["metadata[item]"] == "pro"
    assert sent.params["subscription_data[metadata][tenant_id]"] == tenant.id
    assert sent.idempotency_key is not None and tenant.id in sent.idempotency_key
    assert "checkout_started" in audit_actions(engine, tenant.id, actor=None)
    assert billing(api, tenant)["billing_email"] == "ap@acme.example"
    assert billing(api, tenant)["plan"] == "free"  # nothing changes until Stripe says it was paid


def test_checkout_uses_the_regional_price_where_one_is_configured(api: TestClient, fake_stripe: FakeStripe) -> None:
    tenant = new_tenant(api, plan="free")

    india = checkout(api, tenant, item="starter", region="in")
    germany = checkout(api, tenant, item="starter", region="DE")
    package = checkout(api, tenant, item="dfy_growth")

    assert [a.status_code for a in (india, germany, package)] == [201] * 3
    assert [a.json()["price_id"] for a in (india, germany, package)] == [
        "price_starter_in",
        "price_starter",
        "price_dfy_growth",
    ]
    sent = sessions_created(fake_stripe, tenant.id)
    assert [r.params["mode"] for r in sent] == ["subscription", "subscription", "payment"]
    assert sent[2].params["payment_intent_data[metadata][item]"] == "dfy_growth"


def test_the_same_idempotency_key_answers_the_same_session(api: TestClient, fake_stripe: FakeStripe) -> None:
    tenant = new_tenant(api, plan="free")
    key = {"Idempotency-Key": f"buy-{uuid.uuid4()}"}

    first = checkout(api, tenant, key, item="pro")
    again = checkout(api, tenant, key, item="pro")

    assert first.status_code == again.status_code == 201
    assert first.json()["session_id"] == again.json()["session_id"]
    assert len(sessions_created(fake_stripe, tenant.id)) == 1


def test_a_stripe_outage_is_retried_with_the_same_idempotency_key(api: TestClient, fake_stripe: FakeStripe) -> None:
    tenant = new_tenant(api, plan="free")
    fake_stripe.fail_next(500)

    answer = checkout(api, tenant, item="starter")

    assert answer.status_code == 201, answer.text
    attempts = [r for r in fake_stripe.requests if (r.method, r.path) == CREATE_SESSION][-2:]
    assert len({r.idempotency_key for r in attempts}) == 1
    assert attempts[-1].params["client_reference_id"] == tenant.id


def test_checkout_refuses_what_cannot_be_bought(api: TestClient, fake_stripe: FakeStripe) -> None:
    tenant = new_tenant(api, plan="free")
    before = len(fake_stripe.requests)

    by_member = api.post(
        "/api/billing/checkout", json={"item": "pro", "billing_email": "a@b.example"}, headers=tenant.member
    )
    unknown = checkout(api, tenant, item="platinum")
    free = checkout(api, tenant, item="free")
    bad_email = checkout(api, tenant, item="pro", billing_email="not an address")
    no_email = api.post("/api/billing/checkout", json={"item": "pro"}, headers=tenant.admin)
    bad_region = checkout(api, tenant, item="pro", region="India")

    assert (by_member.status_code, by_member.json()["code"]) == (403, "admin_only")
    assert [(a.status_code, a.json()["code"], a.json()["field"]) for a in (unknown, free)] == [
        (422, "unknown_item", "item")
    ] * 2
    assert [(a.status_code, a.json()["field"]) for a in (bad_email, bad_region)] == [
        (422, "body.billing_email"),
        (422, "body.region"),
    ]
    assert (no_email.status_code, no_email.json()["code"]) == (422, "billing_email_required")
    assert len(fake_stripe.requests) == before
    assert billing(api, tenant)["billing_email"] is None


def test_a_price_stripe_refuses_answers_502(api: TestClient) -> None:
    tenant = new_tenant(api, plan="free")

    answer = checkout(api, tenant, item="enterprise")

    assert (answer.status_code, answer.json()["code"]) == (502, "stripe_rejected")


def test_without_stripe_credentials_billing_answers_503(api: TestClient, keyless_api: TestClient) -> None:
    tenant = new_tenant(api, plan="free")

    refused = keyless_api.post(
        "/api/billing/checkout", json={"item": "pro", "billing_email": "a@b.example"}, headers=tenant.admin
    )
    webhook = keyless_api.post("/api/billing/webhook", content=b"{}", headers={"Stripe-Signature": "t=1,v1=0"})

    assert (refused.status_code, refused.json()["code"]) == (503, "billing_not_configured")
    assert (webhook.status_code, webhook.json()["code"]) == (503, "billing_not_configured")


def test_a_completed_checkout_puts_the_tenant_on_its_plan(
    api: TestClient, fake_stripe: FakeStripe, engine: Engine
) -> None:
    tenant = new_tenant(api, plan="free")

    session = subscribe(api, fake_stripe, tenant, plan="pro")

    state = billing(api, tenant)
    assert (state["plan"], state["subscription_status"]) == ("pro", "active")
    assert state["stripe_customer_id"] == session["customer"]
    assert state["stripe_subscription_id"] == session["subscription"]
    assert api.get(f"/api/tenants/{tenant.id}", headers=tenant.admin).json()["plan"] == "pro"
    assert audit_actions(engine, tenant.id) == ["plan_changed", "subscription_changed"]


def test_a_bad_or_missing_signature_answers_400_and_changes_nothing(
    api: TestClient, fake_stripe: FakeStripe, engine: Engine
) -> None:
    tenant = new_tenant(api, plan="free")
    started = checkout(api, tenant, item="pro").json()
    completed = fake_stripe.complete(started["session_id"])
    body, headers = signed(completed)
    forged_body, forged = signed(completed, secret="whsec_someone_else")
    stale_header = f"t={int(time.time()) - 3600},v1=" + headers["Stripe-Signature"].split("v1=")[1]

    missing = api.post("/api/billing/webhook", content=body, headers={"Content-Type": "application/json"})
    wrong = api.post("/api/billing/webhook", content=forged_body, headers=forged)
    tampered = api.post("/api/billing/webhook", content=body.replace(b'"pro"', b'"enterprise"'), headers=headers)
    garbled = api.post("/api/billing/webhook", content=body, headers={"Stripe-Signature": "garbage"})
    stale = api.post("/api/billing/webhook", content=body, headers={"Stripe-Signature": stale_header})

    for answer in (missing, wrong, tampered, garbled, stale):
        assert (answer.status_code, answer.json()["code"], answer.json()["field"]) == (
            400,
            "bad_signature",
            "stripe-signature",
        )
    time.sleep(0.5)  # a wrongly started workflow would have applied the event by now
    assert recorded_events(engine, completed["id"]) == []
    assert billing(api, tenant)["plan"] == "free"


def test_a_repeated_event_is_processed_once(api: TestClient, fake_stripe: FakeStripe, engine: Engine) -> None:
    tenant = new_tenant(api, plan="free")
    session = subscribe(api, fake_stripe, tenant, plan="pro")
    downgrade = subscription_event("customer.subscription.updated", session, "price_starter")
    assert deliver(api, downgrade).status_code == 200
    poll_billing(api, tenant, lambda b: b["plan"] == "starter")
    first_delivery = recorded_events(engine, downgrade["id"])

    repeat = deliver(api, downgrade)
    time.sleep(0.5)

    assert repeat.status_code == 200 and repeat.json() == {
        "received": True,
        "event_id": downgrade["id"],
        "handled": True,
        "duplicate": True,
    }
    assert billing(api, tenant)["plan"] == "starter"
    assert recorded_events(engine, downgrade["id"]) == first_delivery
    assert audit_actions(engine, tenant.id).count("plan_changed") == 2  # pro, then starter; not again


def test_an_older_event_arriving_late_changes_nothing(api: TestClient, fake_stripe: FakeStripe, engine: Engine) -> None:
    tenant = new_tenant(api, plan="free")
    session = subscribe(api, fake_stripe, tenant, plan="pro")
    newer = subscription_event("customer.subscription.updated", session, "price_starter")
    older = subscription_event("customer.subscription.updated", session, "price_pro", created=newer["created"] - 60)

    deliver(api, newer)
    poll_billing(api, tenant, lambda b: b["plan"] == "starter")
    deliver(api, older)

    assert _outcome(engine, older["id"]) == "stale"
    assert billing(api, tenant)["plan"] == "starter"


def test_a_deleted_subscription_puts_the_tenant_on_free(
    api: TestClient, fake_stripe: FakeStripe, engine: Engine
) -> None:
    tenant = new_tenant(api, plan="free")
    session = subscribe(api, fake_stripe, tenant, plan="pro")

    deliver(api, subscription_event("customer.subscription.deleted", session, "price_pro", status="canceled"))

    state = poll_billing(api, tenant, lambda b: b["plan"] == "free")
    assert (state["subscription_status"], state["stripe_subscription_id"]) == ("canceled", None)
    assert state["stripe_customer_id"] == session["customer"]


def test_a_paid_dfy_package_is_recorded_without_changing_the_plan(
    api: TestClient, fake_stripe: FakeStripe, engine: Engine
) -> None:
    tenant = new_tenant(api, plan="starter")
    started = checkout(api, tenant, item="dfy_growth").json()
    completed = fake_stripe.complete(started["session_id"], amount=149900)

    deliver(api, completed)

    assert _outcome(engine, completed["id"]) == "applied"
    assert audit_actions(engine, tenant.id) == ["dfy_package_purchased"]
    assert billing(api, tenant)["plan"] == "starter"


def test_unknown_event_types_are_acknowledged_and_ignored(api: TestClient, engine: Engine) -> None:
    unknown = event("customer.tax_id.created", {"id": "txi_1", "object": "tax_id"})

    answer = deliver(api, unknown)

    assert answer.status_code == 200
    assert answer.json() == {
        "received": True,
        "event_id": unknown["id"],
        "handled": False,
        "duplicate": False,
    }
    assert recorded_events(engine, unknown["id"]) == []


def test_events_for_unknown_tenants_are_recorded_and_start_nothing(api: TestClient, engine: Engine) -> None:
    stranger = invoice_event("invoice.payment_failed", f"cus_{uuid.uuid4().hex[:12]}", f"in_{uuid.uuid4().hex[:12]}")

    answer = deliver(api, stranger)

    assert answer.status_code == 200 and answer.json()["handled"] is True
    assert _outcome(engine, stranger["id"]) == "unknown_tenant"
    [row] = recorded_events(engine, stranger["id"])
    assert (row.tenant_id, row.dunning) == (None, None)


def test_a_signed_body_that_is_not_an_event_answers_400(api: TestClient) -> None:
    body, headers = signed({"object": "event", "type": "invoice.paid"})
    not_json = b"[1, 2"
    header = stripe.WebhookSignature.generate_signature_header(not_json.decode(), WEBHOOK_SECRET)

    no_id = api.post("/api/billing/webhook", content=body, headers=headers)
    broken = api.post("/api/billing/webhook", content=not_json, headers={"Stripe-Signature": header})

    assert [(a.status_code, a.json()["code"]) for a in (no_id, broken)] == [(400, "invalid_payload")] * 2


def test_tenants_see_only_their_own_billing(api: TestClient, fake_stripe: FakeStripe) -> None:
    payer, other = new_tenant(api, plan="free"), new_tenant(api, plan="free")
    subscribe(api, fake_stripe, payer, plan="starter")

    mine = billing(api, other)
    as_member = api.get("/api/billing", headers=payer.member).json()

    assert (mine["tenant_id"], mine["plan"], mine["stripe_customer_id"]) == (other.id, "free", None)
    assert as_member["plan"] == "starter" and as_member["billing_email"] is None


def _outcome(engine: Engine, event_id: str, timeout_s: float = 15) -> str:
    deadline = time.monotonic() + timeout_s
    while not (rows := recorded_events(engine, event_id)):
        assert time.monotonic() < deadline, f"event {event_id} was never recorded"
        time.sleep(0.05)
    return rows[0].outcome


def test_stripe_secrets_never_reach_the_logs(
    api: TestClient, fake_stripe: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tenant = new_tenant(api, plan="free")

    checkout(api, tenant, item="enterprise")  # refused by Stripe: the error path logs too
    subscribe(api, fake_stripe, tenant, plan="starter")

    assert any(r.getMessage().startswith("checkout session created") for r in caplog.records)  # the worker's too
    assert API_KEY not in caplog.text and WEBHOOK_SECRET not in caplog.text


def test_the_data_export_holds_the_billing_account(api: TestClient, fake_stripe: FakeStripe) -> None:
    tenant = new_tenant(api, plan="free")
    session = subscribe(api, fake_stripe, tenant, plan="pro", email="owner@exporter.example")

    request_id = api.post("/api/me/export-data", headers=tenant.admin).json()["request_id"]
    deadline = time.monotonic() + 15
    while (export := api.get(f"/api/me/export-data/{request_id}", headers=tenant.admin)).status_code == 202:
        assert time.monotonic() < deadline, "the export never finished"
        time.sleep(0.05)

    billing_part = export.json()["archive"]["billing"]
    assert billing_part["billing_email"] == "owner@exporter.example"
    assert billing_part["stripe_customer_id"] == session["customer"]


def test_a_subscriber_cannot_start_a_second_subscription_but_may_buy_a_package(
    api: TestClient, fake_stripe: FakeStripe
) -> None:
    tenant = new_tenant(api, plan="free")
    subscribe(api, fake_stripe, tenant, plan="starter")

    second = checkout(api, tenant, item="pro")
    package = checkout(api, tenant, item="dfy_growth")

    assert (second.status_code, second.json()["code"], second.json()["subscription_status"]) == (
        409,
        "already_subscribed",
        "active",
    )
    assert package.status_code == 201
    [sent] = [r for r in sessions_created(fake_stripe, tenant.id) if r.params["mode"] == "payment"]
    assert sent.params["customer"] == billing(api, tenant)["stripe_customer_id"]


def test_the_billing_contact_is_set_by_admins_and_the_founder_sees_any_tenants_billing(
    api: TestClient,
) -> None:
    tenant = new_tenant(api, plan="free")

    by_member = api.put("/api/billing/contact", json={"billing_email": "m@acme.example"}, headers=tenant.member)
    invalid = api.put("/api/billing/contact", json={"billing_email": "nope"}, headers=tenant.admin)
    saved = api.put("/api/billing/contact", json={"billing_email": "finance@acme.example"}, headers=tenant.admin)
    as_founder = api.get(f"/api/billing/tenants/{tenant.id}", headers=founder_headers())
    as_tenant = api.get(f"/api/billing/tenants/{tenant.id}", headers=tenant.admin)
    unknown = api.get(f"/api/billing/tenants/{uuid.uuid4()}", headers=founder_headers())

    assert (by_member.status_code, invalid.status_code, saved.status_code) == (403, 422, 200)
    assert saved.json()["billing_email"] == "finance@acme.example"
    assert as_founder.status_code == 200 and as_founder.json()["billing_email"] == "finance@acme.example"
    assert (as_tenant.status_code, as_tenant.json()["code"]) == (403, "founder_only")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "tenant_not_found")


def test_a_customer_opens_the_stripe_portal_for_its_own_customer(api: TestClient, fake_stripe: FakeStripe) -> None:
    tenant, newcomer = new_tenant(api, plan="free"), new_tenant(api, plan="free")
    session = subscribe(api, fake_stripe, tenant, plan="starter")

    opened = api.post("/api/billing/portal", headers=tenant.admin)
    by_member = api.post("/api/billing/portal", headers=tenant.member)
    never_paid = api.post("/api/billing/portal", headers=newcomer.admin)

    assert opened.status_code == 201 and opened.json()["url"].startswith("https://billing.stripe.test/p/session/")
    [sent] = [
        r
        for r in fake_stripe.requests
        if r.path == "/v1/billing_portal/sessions" and r.params["customer"] == session["customer"]
    ]
    assert sent.params["return_url"] and sent.idempotency_key
    assert (by_member.status_code, never_paid.status_code, never_paid.json()["code"]) == (
        403,
        409,
        "no_stripe_customer",
    )


def test_a_regional_price_asks_stripe_for_the_billing_address(api: TestClient, fake_stripe: FakeStripe) -> None:
    tenant = new_tenant(api, plan="free")

    regional = checkout(api, tenant, item="starter", region="in")
    full_price = checkout(api, tenant, item="starter", region="DE")

    assert [a.status_code for a in (regional, full_price)] == [201, 201]
    india, germany = sessions_created(fake_stripe, tenant.id)
    assert india.params["billing_address_collection"] == "required"
    assert india.params["metadata[region]"] == india.params["subscription_data[metadata][region]"] == "IN"
    assert "billing_address_collection" not in germany.params and "metadata[region]" not in germany.params


def test_a_regional_price_paid_from_its_region_gives_the_plan(
    api: TestClient, fake_stripe: FakeStripe, engine: Engine
) -> None:
    tenant = new_tenant(api, plan="free")
    started = checkout(api, tenant, item="starter", region="IN").json()
    completed = fake_stripe.complete(started["session_id"], amount=49900, currency="inr", country="IN")

    deliver(api, completed)

    state = poll_billing(api, tenant, lambda b: b["plan"] == "starter")
    assert (state["billing_country"], state["region_mismatch"]) == ("IN", None)
    assert _outcome(engine, completed["id"]) == "applied"


def test_a_regional_price_paid_from_another_country_is_held_and_flagged(
    api: TestClient, fake_stripe: FakeStripe, engine: Engine
) -> None:
    tenant = new_tenant(api, plan="free")
    started = checkout(api, tenant, item="starter", region="IN").json()
    completed = fake_stripe.complete(started["session_id"], amount=49900, currency="inr", country="DE")
    session = completed["data"]["object"]

    deliver(api, completed)
    outcome = _outcome(engine, completed["id"])
    # Its subscription's own events, at the regional price, do not give the plan either.
    created = subscription_event("customer.subscription.created", session, "price_starter_in")
    deliver(api, created)
    _outcome(engine, created["id"])

    state = billing(api, tenant)
    assert outcome == "region_mismatch"
    assert (state["plan"], state["billing_country"], state["region_mismatch"]) == ("free", "DE", "IN")
    assert audit_actions(engine, tenant.id)[0] == "checkout_region_mismatch"
    assert "plan_changed" not in audit_actions(engine, tenant.id)


def test_a_regional_subscription_reported_before_its_checkout_waits_for_the_billing_country(
    api: TestClient, fake_stripe: FakeStripe, engine: Engine
) -> None:
    tenant = new_tenant(api, plan="free")
    started = checkout(api, tenant, item="starter", region="IN").json()
    completed = fake_stripe.complete(started["session_id"], amount=49900, currency="inr", country="IN")
    created = subscription_event(
        "customer.subscription.created", completed["data"]["object"], "price_starter_in", created=completed["created"]
    )

    deliver(api, created)
    _outcome(engine, created["id"])
    before_checkout = billing(api, tenant)["plan"]
    deliver(api, completed)

    assert before_checkout == "free"
    assert poll_billing(api, tenant, lambda b: b["plan"] == "starter")["billing_country"] == "IN"
