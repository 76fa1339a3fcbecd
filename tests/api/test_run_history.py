"""Run history outlives Temporal's retention: closed runs are archived in batches and stay listed and
readable through the same API after Temporal deletes their executions."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from core.settings import Settings
from domain.health import run_archive_health
from schemas.tables import RunArchiveEntry
from starters.namespace import namespace_retention
from tests.api.history import archive_now, delete_execution
from tests.api.tenancy import ApiTenant, new_tenant, new_workflow
from tests.api.test_data_requests import exported
from tests.api.waiting import finished, poll_run, waiting
from tests.conftest import founder_headers
from tests.fakes.target import TargetServer

BIG = 40_000  # bytes of a step result: more than the archive keeps inline
GATE = {"id": "gate", "type": "approval", "class": "B", "message": "Ship it?"}


def start(api: TestClient, tenant: ApiTenant, workflow_id: str, payload: dict[str, Any]) -> str:
    answer = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": payload}, headers=tenant.member)
    assert answer.status_code == 202, answer.text
    return answer.json()["run_id"]


def listed(api: TestClient, headers: dict[str, str], query: str, limit: int) -> list[dict[str, Any]]:
    """Every page of GET /api/runs?<query>, followed through its page tokens."""
    runs, token = [], None
    while True:
        suffix = f"&page_token={token}" if token else ""
        page = api.get(f"/api/runs?{query}&limit={limit}{suffix}", headers=headers)
        assert page.status_code == 200, page.text
        runs += page.json()["runs"]
        token = page.json()["next_page_token"]
        if token is None:
            return runs


async def test_a_run_temporal_deleted_is_still_listed_and_read_with_its_steps(
    api: TestClient, client: Client, settings: Settings, target_server: TargetServer
) -> None:
    tenant, stranger = new_tenant(api), new_tenant(api, name="Other")
    workflow_id = new_workflow(
        api,
        tenant,
        {"id": "fetch", "type": "http_request", "url": target_server.url + "/json"},
        {"id": "total", "type": "transform", "set": {"n": "input.n + 1"}},
    )
    run_id = start(api, tenant, workflow_id, {"n": 41})
    before = poll_run(api, run_id, tenant.member, finished)

    assert (await archive_now(client, settings)).archived >= 1
    await delete_execution(client, run_id)

    after = api.get(f"/api/runs/{run_id}", headers=tenant.member)
    assert after.status_code == 200, after.text
    assert after.json() == before
    assert [s["status"] for s in after.json()["steps"]] == ["succeeded", "succeeded"]
    assert after.json()["vars"]["n"] == 42
    [summary] = listed(api, tenant.member, f"workflow_id={workflow_id}", 50)
    assert (summary["run_id"], summary["status"], summary["trigger"]) == (run_id, "completed", "api")
    assert api.get(f"/api/runs/{run_id}", headers=stranger.member).status_code == 404
    assert api.get(f"/api/runs/{run_id}", headers=founder_headers()).status_code == 200
    refused = api.post(f"/api/runs/{run_id}/cancel", headers=tenant.member)
    assert (refused.status_code, refused.json()["code"]) == (409, "run_not_running")
    assert [run["run_id"] for run in exported(api, tenant)["archive"]["runs"]] == [run_id]


async def test_a_failed_run_temporal_deleted_is_retried_from_its_archived_record(
    api: TestClient, client: Client, settings: Settings, target_server: TargetServer
) -> None:
    tenant = new_tenant(api)
    case = uuid.uuid4().hex
    workflow_id = new_workflow(
        api,
        tenant,
        {"id": "fetch", "type": "http_request", "url": target_server.url + f"/big?bytes={BIG}"},
        {
            "id": "flaky",
            "type": "http_request",
            "url": target_server.url + f"/flaky/{case}?fail=1&code=503",
            "retry": {"max_attempts": 1},
        },
    )
    run_id = start(api, tenant, workflow_id, {})
    before = poll_run(api, run_id, tenant.member, finished)
    assert before["status"] == "failed" and len(before["steps"][0]["result"]["body"]) == BIG
    await archive_now(client, settings)
    await delete_execution(client, run_id)

    archived = api.get(f"/api/runs/{run_id}", headers=tenant.member).json()
    whole = api.get(archived["steps"][0]["result_ref"], headers=tenant.member)
    retried = api.post(f"/api/runs/{run_id}/retry", headers=tenant.admin)

    assert archived["steps"][0]["result"] is None and len(api.get(f"/api/runs/{run_id}").content) < BIG
    assert whole.status_code == 200 and whole.json()["result"] == before["steps"][0]["result"]
    assert api.get(archived["steps"][0]["result_ref"], headers=new_tenant(api).member).status_code == 404
    assert api.get(f"/api/runs/{run_id}/steps/nope/result", headers=tenant.member).json()["code"] == "step_not_found"
    assert retried.status_code == 202, retried.text
    redriven = poll_run(api, retried.json()["run_id"], tenant.member, finished)
    assert (redriven["status"], redriven["resumed_from"]) == ("completed", run_id)
    reused = redriven["steps"][0]
    assert (reused["reused_from"], reused["result"]) == (run_id, before["steps"][0]["result"])


async def test_pages_run_from_temporal_into_the_archive_without_a_gap_or_a_repeat(
    api: TestClient, client: Client, settings: Settings
) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, {"id": "say", "type": "log", "message": "hi"})
    gated_id = new_workflow(api, tenant, GATE)
    older = [start(api, tenant, workflow_id, {"i": i}) for i in range(5)]
    for run_id in older:
        poll_run(api, run_id, tenant.member, finished)
    await archive_now(client, settings)
    for run_id in older[:2]:
        await delete_execution(client, run_id)
    newer = [start(api, tenant, workflow_id, {"i": i}) for i in range(5, 8)]
    for run_id in newer:
        poll_run(api, run_id, tenant.member, finished)
    open_run = start(api, tenant, gated_id, {})
    poll_run(api, open_run, tenant.member, waiting)

    for limit in (1, 2, 3, 50):
        runs = listed(api, tenant.member, "", limit)
        assert [r["run_id"] for r in runs][0] == open_run
        assert sorted(r["run_id"] for r in runs) == sorted([*older, *newer, open_run])
        closed = [r["closed_at"] for r in runs[1:]]
        assert closed == sorted(closed, reverse=True)
    completed = listed(api, tenant.member, "status=completed", 2)
    assert sorted(r["run_id"] for r in completed) == sorted([*older, *newer])
    assert listed(api, tenant.member, "status=waiting_approval", 2) == [runs[0]]
    forged = api.get("/api/runs?limit=1&page_token=bm90LWEtdG9rZW4", headers=tenant.member)
    assert (forged.status_code, forged.json()["code"]) == (422, "invalid_page_token")


async def test_archiving_twice_writes_nothing_twice_and_keeps_records_encrypted(
    api: TestClient, client: Client, settings: Settings, engine: Engine
) -> None:
    tenant = new_tenant(api)
    marker = f"personal-{uuid.uuid4().hex}"
    workflow_id = new_workflow(api, tenant, {"id": "say", "type": "log", "message": "hi {{ input.who }}"})
    run_id = start(api, tenant, workflow_id, {"who": marker})
    poll_run(api, run_id, tenant.member, finished)

    await archive_now(client, settings)
    again = await archive_now(client, settings)

    with Session(engine) as session:
        entry = session.get(RunArchiveEntry, run_id)
    assert entry is not None and entry.record is not None and entry.tenant_id == tenant.id
    assert marker.encode() not in entry.record and entry.record_bytes == len(entry.record)
    assert again.archived == 0
    assert api.get(f"/api/runs/{run_id}", headers=tenant.member).json()["input"] == {"who": marker}


async def test_the_platform_sets_the_namespace_retention(api: TestClient, client: Client, settings: Settings) -> None:
    retention = await namespace_retention(client)

    assert retention.days == settings.temporal_retention_days != 1  # not the dev server's 24 h default


async def test_the_heartbeat_says_how_far_the_run_archive_has_gone(
    api: TestClient, client: Client, settings: Settings
) -> None:
    await archive_now(client, settings)
    now = datetime.now(UTC)

    shown = api.get("/api/system/heartbeat").json()["run_archive"]

    assert shown["status"] == "ok" and shown["lag_seconds"] < 60
    assert run_archive_health(None, 1200).status == "unknown"
    behind = run_archive_health(now - timedelta(hours=1), 1200)
    assert behind.status == "behind" and behind.lag_seconds is not None and behind.lag_seconds >= 3600
