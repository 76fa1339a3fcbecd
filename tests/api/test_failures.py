"""The failure queue and re-drive, through the API against the real dev server and target."""

import time
import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from temporalio.client import Client

from core.errors import ApiError
from core.metering import add_usage
from core.settings import Settings
from domain.failures import redrive_failed_run
from domain.runs import visible_run
from rules.usage import PLAN_LIMITS, period_of
from tests.api.tenancy import ApiTenant, new_tenant, new_workflow
from tests.api.waiting import finished, poll_run
from tests.conftest import founder_headers
from tests.fakes.target import TargetServer


def failing_run(api: TestClient, tenant: ApiTenant, workflow_id: str) -> str:
    run_id = api.post(f"/api/workflows/{workflow_id}/runs", json={}, headers=tenant.member).json()["run_id"]
    assert poll_run(api, run_id, tenant.member, finished)["status"] == "failed"
    return run_id


def failures(api: TestClient, headers: dict[str, str], query: str = "") -> list[dict]:
    answer = api.get(f"/api/failures{query}", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_step_that_exhausts_its_retries_is_queued_with_its_attempts(
    api: TestClient, settings: Settings, target_server: TargetServer
) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(
        api, tenant, {"id": "call", "type": "http_request", "url": target_server.url + "/status/503"}
    )

    run_id = failing_run(api, tenant, workflow_id)

    [entry] = failures(api, tenant.member)
    assert (entry["run_id"], entry["workflow_id"], entry["version"], entry["step_id"]) == (
        run_id,
        workflow_id,
        1,
        "call",
    )
    assert entry["error_type"] == "HttpServerError" and "503" in entry["message"]
    assert entry["attempts"] == settings.retry_max_attempts
    assert entry["priority"] == "normal" and entry["status"] == "open"
    assert entry["first_failed_at"] <= entry["last_failed_at"]
    assert api.get(f"/api/failures/{entry['id']}", headers=tenant.member).json()["run_id"] == run_id


def test_a_definition_that_keeps_failing_escalates_in_priority(api: TestClient, target_server: TargetServer) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(
        api, tenant, {"id": "call", "type": "http_request", "url": target_server.url + "/status/404"}
    )

    for _ in range(3):
        failing_run(api, tenant, workflow_id)

    priorities = [entry["priority"] for entry in failures(api, tenant.member)]
    assert priorities == ["high", "normal", "normal"]
    assert len(failures(api, tenant.member, "?priority=high")) == 1


def test_redrive_resumes_at_the_failed_step_without_repeating_earlier_side_effects(
    api: TestClient, target_server: TargetServer
) -> None:
    tenant, tag, flaky = new_tenant(api), uuid.uuid4().hex[:8], f"/flaky/redrive-{uuid.uuid4().hex[:8]}"
    workflow_id = new_workflow(
        api,
        tenant,
        {"id": "charge", "type": "http_request", "method": "POST", "url": f"{target_server.url}/echo?t={tag}"},
        {"id": "note", "type": "transform", "set": {"charged": "steps.charge.status == 200"}},
        {"id": "ship", "type": "http_request", "url": f"{target_server.url}{flaky}?fail=3"},
        {"id": "done", "type": "log", "message": "charged={{ vars.charged }} ship={{ steps.ship.status }}"},
    )
    failed_id = failing_run(api, tenant, workflow_id)
    by_member = api.post(f"/api/runs/{failed_id}/retry", headers=tenant.member)

    retried = api.post(f"/api/runs/{failed_id}/retry", headers=tenant.admin)

    assert (by_member.status_code, by_member.json()["code"]) == (403, "admin_only")
    assert retried.status_code == 202
    run = poll_run(api, retried.json()["run_id"], tenant.member, finished)
    assert run["status"] == "completed" and run["trigger"] == "redrive" and run["resumed_from"] == failed_id
    assert [(s["step_id"], s["reused_from"]) for s in run["steps"]] == [
        ("charge", failed_id),
        ("note", failed_id),
        ("ship", None),
        ("done", None),
    ]
    assert run["steps"][-1]["result"]["message"] == "charged=True ship=200"
    assert len([c for c in target_server.calls_to("/echo") if c.query.get("t") == tag]) == 1
    [entry] = failures(api, tenant.member)
    assert entry["status"] == "redriven" and entry["redriven_run_id"] == run["run_id"]
    again = api.post(f"/api/runs/{failed_id}/retry", headers=tenant.admin)
    assert again.status_code == 202 and again.json()["run_id"] == run["run_id"]


def test_retrying_a_run_that_did_not_fail_conflicts(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, {"id": "done", "type": "log", "message": "ok"})
    run_id = api.post(f"/api/workflows/{workflow_id}/runs", json={}, headers=tenant.member).json()["run_id"]
    poll_run(api, run_id, tenant.member, finished)

    answer = api.post(f"/api/runs/{run_id}/retry", headers=tenant.admin)

    assert answer.status_code == 409 and answer.json()["code"] == "run_not_failed"


def test_failures_are_walled_off_between_tenants(api: TestClient, target_server: TargetServer) -> None:
    owner, stranger = new_tenant(api), new_tenant(api, name="Stranger")
    workflow_id = new_workflow(
        api, owner, {"id": "call", "type": "http_request", "url": target_server.url + "/status/400"}
    )
    run_id = failing_run(api, owner, workflow_id)
    [entry] = failures(api, owner.member)

    assert failures(api, stranger.admin) == []
    assert api.get(f"/api/failures/{entry['id']}", headers=stranger.admin).status_code == 404
    assert api.post(f"/api/runs/{run_id}/retry", headers=stranger.admin).status_code == 404
    assert entry["id"] in {e["id"] for e in failures(api, founder_headers(), "?limit=500")}


def test_a_tenant_that_may_not_run_cannot_retry_until_it_may(
    api: TestClient, engine: Engine, target_server: TargetServer
) -> None:
    tenant = new_tenant(api, plan="free")
    workflow_id = new_workflow(
        api, tenant, {"id": "call", "type": "http_request", "url": target_server.url + "/status/503"}
    )
    failed_id = failing_run(api, tenant, workflow_id)
    suspend = api.post(f"/api/tenants/{tenant.id}/suspend", json={}, headers=founder_headers())
    assert suspend.status_code == 200, suspend.text

    while_suspended = api.post(f"/api/runs/{failed_id}/retry", headers=tenant.admin)
    api.post(f"/api/tenants/{tenant.id}/resume", json={}, headers=founder_headers())
    with engine.begin() as connection:
        period = period_of(datetime.now(UTC))
        add_usage(connection, tenant.id, period, "runs", (PLAN_LIMITS["free"]["runs"] or 0) - runs_used(api, tenant))
    at_limit = api.post(f"/api/runs/{failed_id}/retry", headers=tenant.admin)

    assert (while_suspended.status_code, while_suspended.json()["code"]) == (403, "tenant_suspended")
    assert (at_limit.status_code, at_limit.json()["code"], at_limit.json()["metric"]) == (
        429,
        "usage_limit_reached",
        "runs",
    )
    assert runs_used(api, tenant) == PLAN_LIMITS["free"]["runs"]
    [entry] = failures(api, tenant.member)
    assert (entry["status"], entry["redriven_run_id"]) == ("open", None)


def test_a_retry_is_counted_once_against_the_plan(api: TestClient, target_server: TargetServer) -> None:
    tenant = new_tenant(api, plan="free")
    flaky = f"/flaky/count-{uuid.uuid4().hex[:8]}?fail=3"
    workflow_id = new_workflow(api, tenant, {"id": "ship", "type": "http_request", "url": target_server.url + flaky})
    failed_id = failing_run(api, tenant, workflow_id)

    retried = api.post(f"/api/runs/{failed_id}/retry", headers=tenant.admin)
    run = poll_run(api, retried.json()["run_id"], tenant.member, finished)
    again = api.post(f"/api/runs/{failed_id}/retry", headers=tenant.admin)

    assert run["status"] == "completed" and again.json()["run_id"] == run["run_id"]
    time.sleep(0.5)  # a count at the run's end (as before) would have landed by now
    assert runs_used(api, tenant) == 2


def runs_used(api: TestClient, tenant: ApiTenant) -> int:
    return int(api.get("/api/usage", headers=tenant.member).json()["metrics"]["runs"]["used"])


async def test_the_redrive_operation_itself_refuses_a_tenant_that_may_not_run(
    api: TestClient, client: Client, engine: Engine, settings: Settings, target_server: TargetServer
) -> None:
    # The API refuses a suspended tenant's keys before any route runs; the re-drive holds the gate itself.
    tenant = new_tenant(api)
    workflow_id = new_workflow(
        api, tenant, {"id": "call", "type": "http_request", "url": target_server.url + "/status/503"}
    )
    failed_id = failing_run(api, tenant, workflow_id)
    api.post(f"/api/tenants/{tenant.id}/suspend", json={}, headers=founder_headers())

    with pytest.raises(ApiError) as refused:
        await redrive_failed_run(engine, client, settings, await visible_run(client, failed_id, tenant.id))

    assert (refused.value.status, refused.value.code, refused.value.field) == (403, "tenant_suspended", "tenant_id")
    [entry] = failures(api, founder_headers(), f"?workflow_id={workflow_id}")
    assert (entry["status"], entry["redriven_run_id"]) == ("open", None)
