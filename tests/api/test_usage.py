"""Usage through the API: the runs limit at its boundary, atomic reservations, metered runs and API calls."""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.main import create_app
from core.errors import ApiError
from core.metering import add_usage
from core.settings import Settings
from domain.admission import admit
from rules.usage import PLAN_LIMITS, ai_credits, period_end, period_of
from schemas.usage import Metric
from tests.api.tenancy import ApiTenant, new_tenant, new_workflow
from tests.api.waiting import finished, poll_run
from tests.conftest import founder_headers
from tests.fakes.target import TargetServer

DONE = {"id": "done", "type": "log", "message": "done"}


def usage(api: TestClient, headers: dict[str, str], **params: str) -> dict:
    answer = api.get("/api/usage", headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def free_limit(metric: Metric) -> int:
    limit = PLAN_LIMITS["free"][metric]
    assert limit is not None
    return limit


def test_the_run_past_the_monthly_limit_answers_429(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api, plan="free")
    workflow_id = new_workflow(api, tenant, DONE)
    limit, period = free_limit("runs"), period_of(datetime.now(UTC))
    with engine.begin() as connection:
        add_usage(connection, tenant.id, period, "runs", limit - 1)

    last = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=tenant.member)
    refused = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=tenant.member)

    assert last.status_code == 202, last.text
    assert refused.status_code == 429
    assert refused.json()["code"] == "usage_limit_reached"
    assert {k: refused.json()[k] for k in ("metric", "limit", "used")} == {
        "metric": "runs",
        "limit": limit,
        "used": limit,
    }
    assert refused.json()["resets_at"] == period_end(period).isoformat()
    assert usage(api, tenant.member)["metrics"]["runs"] == {"used": limit, "limit": limit}
    poll_run(api, last.json()["run_id"], tenant.member, finished)


def test_200_concurrent_admissions_reserve_exactly_the_limit(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api, plan="starter")
    workflow_id = new_workflow(api, tenant, DONE)
    limits = {**PLAN_LIMITS, "starter": {**PLAN_LIMITS["starter"], "runs": 150}}

    def reserve(_: int) -> bool:
        try:
            admit(engine, workflow_id, tenant.id, {}, limits)
        except ApiError as err:
            assert err.code == "usage_limit_reached"
            return False
        return True

    with ThreadPoolExecutor(max_workers=50) as pool:  # more than the engine's 40 connections
        started = sum(pool.map(reserve, range(200)))

    assert started == 150
    assert usage(api, tenant.admin)["metrics"]["runs"]["used"] == 150


def test_api_calls_are_counted_and_flushed_at_shutdown(settings: Settings, api: TestClient) -> None:
    quiet = settings.model_copy(update={"api_embedded_worker": False})

    with TestClient(create_app(quiet)) as other:
        tenant = new_tenant(other)  # the founder's calls are not metered; the admin's key request is
        for _ in range(3):
            assert other.get("/api/workflows", headers=tenant.member).status_code == 200
        assert other.get("/api/workflows", headers={"Authorization": "Bearer nope"}).status_code == 401

    assert usage(api, founder_headers(), tenant_id=tenant.id)["metrics"]["api_calls"]["used"] == 4


def test_usage_is_walled_off_between_tenants(api: TestClient) -> None:
    mine, theirs = new_tenant(api, plan="pro"), new_tenant(api)

    foreign = api.get("/api/usage", headers=mine.admin, params={"tenant_id": theirs.id})
    founder_view = usage(api, founder_headers(), tenant_id=mine.id)
    unnamed = api.get("/api/usage", headers=founder_headers())

    assert (foreign.status_code, foreign.json()["code"]) == (404, "tenant_not_found")
    assert (founder_view["tenant_id"], founder_view["plan"]) == (mine.id, "pro")
    assert founder_view["metrics"]["runs"]["limit"] == PLAN_LIMITS["pro"]["runs"]
    assert (unnamed.status_code, unnamed.json()["field"]) == (422, "tenant_id")


def test_a_finished_run_meters_its_start_its_steps_and_its_ai_credits(api: TestClient) -> None:
    tenant = new_tenant(api, plan="enterprise")  # unlimited: its runs are counted in memory, then flushed
    workflow_id = new_workflow(
        api, tenant, {"id": "ask", "type": "ai", "prompt": "one two three", "model": "gpt-4o"}, DONE
    )

    started = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=tenant.member)
    run = poll_run(api, started.json()["run_id"], tenant.member, finished)
    tokens = run["steps"][0]["result"]["prompt_tokens"] + run["steps"][0]["result"]["completion_tokens"]
    # the AI step is billed; the log step, a pure step, is not
    metered = until_usage(api, tenant, lambda m: m["runs"]["used"] == 1 and m["steps"]["used"] == 1)

    assert run["status"] == "completed"
    assert metered["ai_credits"]["used"] == ai_credits({"gpt-4o": tokens}) > 0
    assert metered["runs"]["limit"] is None


def test_a_repeated_idempotency_key_counts_one_run(api: TestClient) -> None:
    tenant = new_tenant(api, plan="free")
    workflow_id = new_workflow(api, tenant, DONE)
    key = {"Idempotency-Key": "order-42"}

    first = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers={**tenant.member, **key})
    again = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers={**tenant.member, **key})

    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["run_id"] == again.json()["run_id"]
    assert usage(api, tenant.member)["metrics"]["runs"]["used"] == 1


def test_used_up_steps_refuse_new_runs_and_change_nothing(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api, plan="free")
    workflow_id = new_workflow(api, tenant, DONE)
    with engine.begin() as connection:
        add_usage(connection, tenant.id, period_of(datetime.now(UTC)), "steps", free_limit("steps"))

    refused = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=tenant.member)

    assert refused.status_code == 429
    assert (refused.json()["code"], refused.json()["metric"]) == ("usage_limit_reached", "steps")
    assert usage(api, tenant.member)["metrics"]["runs"]["used"] == 0


def until_usage(api: TestClient, tenant: ApiTenant, check: Callable[[dict], bool], timeout_s: float = 20) -> dict:
    """Usage once `check` holds: in-memory counts reach the database within the flush interval (5 s)."""
    deadline = time.monotonic() + timeout_s
    while True:
        metrics = usage(api, tenant.member)["metrics"]
        if check(metrics):
            return metrics
        if time.monotonic() > deadline:
            raise AssertionError(f"usage never matched; last: {metrics}")
        time.sleep(0.2)


def test_200_concurrent_starts_through_the_api_start_exactly_the_plans_runs(api: TestClient) -> None:
    tenant = new_tenant(api, plan="free")
    workflow_id = new_workflow(api, tenant, DONE)
    limit = free_limit("runs")

    def start(_: int) -> int:
        return api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=tenant.member).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(start, range(200)))

    assert (answers.count(202), answers.count(429)) == (limit, 200 - limit)
    assert usage(api, tenant.member)["metrics"]["runs"]["used"] == limit
    listed = api.get("/api/runs", params={"workflow_id": workflow_id, "limit": 200}, headers=tenant.member).json()
    assert len(listed["runs"]) == limit


def test_a_scheduled_run_counts_itself(api: TestClient) -> None:
    tenant = new_tenant(api, plan="starter")
    workflow_id = new_workflow(api, tenant, DONE)
    schedule = api.post(
        f"/api/workflows/{workflow_id}/schedules", json={"interval_s": 3600, "paused": True}, headers=tenant.admin
    )
    assert schedule.status_code == 201, schedule.text

    triggered = api.post(f"/api/schedules/{schedule.json()['id']}/trigger", headers=tenant.admin)

    assert triggered.status_code == 202, triggered.text
    until_usage(api, tenant, lambda m: m["runs"]["used"] == 1)


def test_http_steps_count_whether_local_or_regular_activities(api: TestClient, target_server: TargetServer) -> None:
    tenant = new_tenant(api, plan="enterprise")
    workflow_id = new_workflow(
        api,
        tenant,
        {"id": "quick", "type": "http_request", "url": target_server.url + "/json"},  # a local activity
        {"id": "long", "type": "http_request", "url": target_server.url + "/json", "timeout_s": 60},  # a regular one
        DONE,
    )

    started = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=tenant.member)
    run = poll_run(api, started.json()["run_id"], tenant.member, finished)

    assert run["status"] == "completed"
    until_usage(api, tenant, lambda m: m["runs"]["used"] == 1 and m["steps"]["used"] == 2)
