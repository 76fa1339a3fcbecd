"""The cost autopilot: a spend spike throttles a tenant through its lifecycle; the founder lifts it."""

import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine
from sqlmodel import Session

from core.metering import add_usage
from rules.usage import period_of
from schemas.tables import SpendSample
from tests.api.tenancy import ApiTenant, new_tenant, new_workflow
from tests.api.waiting import poll_run
from tests.conftest import founder_headers

DONE = {"id": "done", "type": "log", "message": "done"}
ASK = {"id": "ask", "type": "ai", "prompt": "hello"}
WAIT = {"id": "wait", "type": "delay", "seconds": 60}
HOURLY_MICROS = 10_000  # one cent an hour: the tenant's normal spend


def with_spend_history(engine: Engine, tenant_id: str, hourly: int = HOURLY_MICROS, hours: int = 3) -> None:
    """Samples an hour apart at `hourly` micro-dollars an hour, the last an hour ago, and counters that agree."""
    now, period = datetime.now(UTC), period_of(datetime.now(UTC))
    with Session(engine) as session:
        for age in range(hours, 0, -1):
            spent = (hours - age) * hourly
            session.add(
                SpendSample(
                    tenant_id=tenant_id,
                    at=now - timedelta(hours=age),
                    period=period,
                    spend_micros=spent,
                    rate_micros_per_hour=hourly if age < hours else None,
                )
            )
        session.commit()
    with engine.begin() as connection:
        add_usage(connection, tenant_id, period, "steps", (hours - 1) * hourly // 200)


def spend_runs(engine: Engine, tenant_id: str, runs: int) -> None:
    with engine.begin() as connection:
        add_usage(connection, tenant_id, period_of(datetime.now(UTC)), "runs", runs)


def check(api: TestClient, tenant: ApiTenant) -> dict:
    answer = api.post("/api/admin/cost/check", json={"tenant_ids": [tenant.id]}, headers=founder_headers())
    assert answer.status_code == 200, answer.text
    return answer.json()


def start(api: TestClient, tenant: ApiTenant, workflow_id: str) -> Response:
    return api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=tenant.member)


def test_a_spend_spike_throttles_the_tenant_until_the_founder_lifts_it(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api, plan="pro")
    asks, waits = new_workflow(api, tenant, ASK), new_workflow(api, tenant, WAIT)
    with_spend_history(engine, tenant.id)
    spend_runs(engine, tenant.id, 2_000)  # $2 in the last hour: 100x its average, above the $1/h floor

    found = check(api, tenant)
    detail = api.get(f"/api/tenants/{tenant.id}", headers=tenant.admin).json()
    ai_refused = start(api, tenant, asks)
    running = [start(api, tenant, waits).json()["run_id"] for _ in range(2)]
    until_running(api, tenant, 2)
    third = start(api, tenant, waits)

    assert found["throttled"] == [tenant.id]
    assert found["spikes"][0]["rate_micros_per_hour"] > 100 * HOURLY_MICROS
    assert detail["throttle"]["by"] == "cost-autopilot"
    assert (detail["throttle"]["max_concurrent_runs"], detail["throttle"]["ai_paused"]) == (2, True)
    assert (ai_refused.status_code, ai_refused.json()["code"], ai_refused.json()["reason"]) == (
        429,
        "tenant_throttled",
        "ai_paused",
    )
    assert (third.status_code, third.json()["reason"], third.json()["limit"]) == (429, "max_concurrent_runs", 2)
    overview = api.get("/api/admin/cost", headers=founder_headers()).json()
    mine = next(t for t in overview["tenants"] if t["tenant_id"] == tenant.id)
    assert (mine["ai_paused"], mine["max_concurrent_runs"]) == (True, 2)
    assert mine["rate_usd_per_hour"] > 1 and abs(mine["trailing_usd_per_hour"] - HOURLY_MICROS / 1e6) < 1e-9
    assert any(a["tenant_id"] == tenant.id and a["action"] == "tenant.throttled" for a in overview["actions"])

    lifted = api.post(
        f"/api/admin/cost/{tenant.id}/lift", json={"reason": "expected launch"}, headers=founder_headers()
    )
    again = api.post(f"/api/admin/cost/{tenant.id}/lift", json={}, headers=founder_headers())
    ai_run = start(api, tenant, asks)
    fourth = start(api, tenant, waits)

    assert (lifted.status_code, lifted.json()["throttle"]) == (200, None)
    assert (again.status_code, again.json()["code"]) == (409, "not_throttled")
    assert (ai_run.status_code, fourth.status_code) == (202, 202)
    poll_run(api, ai_run.json()["run_id"], tenant.member, lambda run: run["status"] == "completed")
    for run_id in [*running, fourth.json()["run_id"]]:
        api.post(f"/api/runs/{run_id}/cancel", headers=tenant.member)
    actions = api.get("/api/admin/cost", headers=founder_headers()).json()["actions"]
    assert [a["action"] for a in actions if a["tenant_id"] == tenant.id][:2] == [
        "tenant.throttle_lifted",
        "tenant.throttled",
    ]


def test_steady_spend_and_a_rise_under_the_factor_are_left_alone(api: TestClient, engine: Engine) -> None:
    steady, rising = new_tenant(api, plan="pro"), new_tenant(api, plan="pro")
    with_spend_history(engine, steady.id)
    with_spend_history(engine, rising.id, hourly=1_000_000)
    spend_runs(engine, steady.id, HOURLY_MICROS // 1_000)  # the usual cent
    spend_runs(engine, rising.id, 2_500)  # $2.50 against the usual $1: above the floor, under 3x

    found = [check(api, tenant) for tenant in (steady, rising)]

    assert [f["throttled"] for f in found] == [[], []]
    assert [f["scanned"] for f in found] == [1, 1]
    assert api.get(f"/api/tenants/{steady.id}", headers=steady.admin).json()["throttle"] is None


def test_cost_controls_are_for_the_founder_only(api: TestClient) -> None:
    tenant = new_tenant(api)

    overview = api.get("/api/admin/cost", headers=tenant.admin)
    lift = api.post(f"/api/admin/cost/{tenant.id}/lift", json={}, headers=tenant.admin)
    unknown = api.post("/api/admin/cost/no-such-tenant/lift", json={}, headers=founder_headers())
    bad = api.post(
        f"/api/admin/cost/{tenant.id}/throttle",
        json={"max_concurrent_runs": -1, "reason": "x"},
        headers=founder_headers(),
    )

    assert (overview.status_code, lift.status_code) == (403, 403)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "tenant_not_found")
    assert (bad.status_code, bad.json()["field"]) == (422, "body.max_concurrent_runs")


def test_the_founder_can_throttle_by_hand(api: TestClient) -> None:
    tenant = new_tenant(api)
    plain = new_workflow(api, tenant, DONE)

    throttled = api.post(
        f"/api/admin/cost/{tenant.id}/throttle",
        json={"max_concurrent_runs": 0, "reason": "audit"},
        headers=founder_headers(),
    )
    refused = start(api, tenant, plain)

    assert throttled.status_code == 200 and throttled.json()["throttle"]["by"] == "founder"
    assert (refused.status_code, refused.json()["reason"]) == (429, "max_concurrent_runs")


def until_running(api: TestClient, tenant: ApiTenant, count: int) -> None:
    """Visibility lags a start by a moment; the cap counts what visibility lists."""
    deadline = time.monotonic() + 15
    while len(api.get("/api/runs", params={"status": "running"}, headers=tenant.member).json()["runs"]) < count:
        assert time.monotonic() < deadline, "runs never listed as running"
        time.sleep(0.1)
