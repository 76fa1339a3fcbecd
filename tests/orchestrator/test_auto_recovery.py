"""AutoRecovery on the real dev server: dry-run only suggests; apply mode re-drives transient failures."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowFailureError

from core.metering import add_usage
from core.settings import Settings
from orchestrator.auto_recovery import AutoRecovery
from orchestrator.user_run import UserWorkflowRun
from rules.usage import PLAN_LIMITS, period_of
from schemas.recovery import AutoRecoveryInput, AutoRecoveryResult
from schemas.runs import RunInput
from schemas.tables import AuditEntry, FailureEntry, Tenant, UsageCounter, WorkflowDefinitionRow, WorkflowVersionRow
from starters.platform_schedules import AUTO_RECOVERY_SCHEDULE, ensure_platform_schedules
from tests.conftest import founder_headers
from tests.fakes import unused_port
from tests.fakes.target import TargetServer
from tests.orchestrator.runs import FAST_RETRIES, make_run, start


def plant(engine: Engine, tenant_id: str, error_type: str) -> str:
    now = datetime.now(UTC)
    entry = FailureEntry(
        tenant_id=tenant_id,
        run_id=f"planted-{uuid.uuid4()}",
        definition_id="def",
        version=1,
        step_id="call",
        error_type=error_type,
        message="planted",
        attempts=3,
        first_failed_at=now,
        last_failed_at=now,
    )
    with Session(engine) as session:
        session.add(entry)
        session.commit()
        return entry.id


def entries(engine: Engine, tenant_id: str) -> dict[str, FailureEntry]:
    with Session(engine) as session:
        return {e.error_type: e for e in session.exec(select(FailureEntry).where(FailureEntry.tenant_id == tenant_id))}


def stored_run(engine: Engine, tenant_id: str, step: dict) -> RunInput:
    """A run of a definition that is stored like the API stores it, so it can be re-driven."""
    run = make_run(step, tenant_id=tenant_id)
    with Session(engine) as session:
        if session.get(Tenant, tenant_id) is None:
            session.add(Tenant(id=tenant_id, name="recovery"))
            session.flush()
        row = WorkflowDefinitionRow(tenant_id=tenant_id, name="recovery")
        session.add(row)
        session.flush()
        session.add(WorkflowVersionRow(definition_id=row.id, version=1, body=run.definition))
        session.commit()
        return run.model_copy(update={"definition_id": row.id})


async def recover(client: Client, queue: str, **fields: Any) -> AutoRecoveryResult:
    params = AutoRecoveryInput(retry_defaults=FAST_RETRIES, **fields)
    return await client.execute_workflow(AutoRecovery.run, params, id=f"recovery-{uuid.uuid4()}", task_queue=queue)


async def test_dry_run_classifies_every_failure_and_changes_nothing_else(
    client: Client, worker_queue: str, engine: Engine, api: TestClient
) -> None:
    tenant = str(uuid.uuid4())
    kinds = [
        "HttpTransportError",
        "HttpServerError",
        "HttpClientError",
        "ExpressionError",
        "HttpTimeout",
        "ApprovalExpired",
        "Mystery",
    ]
    for kind in kinds:
        plant(engine, tenant, kind)

    result = await recover(client, worker_queue, tenant_id=tenant)

    found = entries(engine, tenant)
    assert result.assessed == 7 and result.redriven == [] and result.auto_applicable == 0
    assert {kind: found[kind].category for kind in kinds} == {
        "HttpTransportError": "transient_network",
        "HttpServerError": "target_5xx",
        "HttpClientError": "auth_4xx",
        "ExpressionError": "validation",
        "HttpTimeout": "timeout",
        "ApprovalExpired": "approval_timed_out",
        "Mystery": "unknown",
    }
    assert all(e.status == "open" and not e.auto_applicable and e.suggestion for e in found.values())
    plan = api.get("/api/guardian/healing-plan?limit=500", headers=founder_headers()).json()
    assert {p["failure_id"]: p["category"] for p in plan if p["tenant_id"] == tenant} == {
        e.id: e.category for e in found.values()
    }


async def test_apply_mode_redrives_only_transient_failures(
    client: Client, worker_queue: str, engine: Engine, target_server: TargetServer
) -> None:
    tenant = str(uuid.uuid4())
    refused = stored_run(
        engine, tenant, {"id": "call", "type": "http_request", "url": f"http://127.0.0.1:{unused_port()}/"}
    )
    rejected = stored_run(
        engine, tenant, {"id": "call", "type": "http_request", "url": target_server.url + "/status/403"}
    )
    for run in (refused, rejected):
        with pytest.raises(WorkflowFailureError):
            await (await start(client, worker_queue, run)).result()

    result = await recover(client, worker_queue, tenant_id=tenant, apply=True)

    found = entries(engine, tenant)
    transient, client_error = found["HttpTransportError"], found["HttpClientError"]
    assert result.auto_applicable == 1 and result.redriven == [transient.redriven_run_id]
    assert transient.status == "redriven" and transient.auto_applicable
    assert client_error.status == "open" and not client_error.auto_applicable
    progress = await client.get_workflow_handle(f"run-{transient.redriven_run_id}").query(UserWorkflowRun.progress)
    assert progress.trigger == "auto_recovery" and progress.resumed_from == refused.run_id


async def test_platform_schedules_are_created_once_and_follow_settings(client: Client, settings: Settings) -> None:
    first = settings.model_copy(update={"auto_recovery_interval_s": 600})
    changed = settings.model_copy(update={"auto_recovery_interval_s": 900})

    await ensure_platform_schedules(client, first)
    await ensure_platform_schedules(client, changed)

    listed = [s.id async for s in await client.list_schedules() if s.id == AUTO_RECOVERY_SCHEDULE]
    description = await client.get_schedule_handle(AUTO_RECOVERY_SCHEDULE).describe()
    assert listed == [AUTO_RECOVERY_SCHEDULE]
    assert description.schedule.spec.intervals[0].every.total_seconds() == 900


async def test_apply_mode_leaves_failures_of_a_tenant_that_may_not_run_open_and_says_why(
    client: Client, worker_queue: str, engine: Engine
) -> None:
    tenant = str(uuid.uuid4())
    run = stored_run(
        engine, tenant, {"id": "call", "type": "http_request", "url": f"http://127.0.0.1:{unused_port()}/"}
    )
    with pytest.raises(WorkflowFailureError):
        await (await start(client, worker_queue, run)).result()
    with Session(engine) as session:
        row = session.get_one(Tenant, tenant)
        row.status = "suspended"
        session.add(row)
        session.commit()

    result = await recover(client, worker_queue, tenant_id=tenant, apply=True)

    entry = entries(engine, tenant)["HttpTransportError"]
    assert result.auto_applicable == 1 and result.redriven == [] and result.redrive_errors == []
    assert result.refused == {entry.id: "tenant_suspended"}
    assert (entry.status, entry.redriven_run_id) == ("open", None)
    with Session(engine) as session:
        audits = session.exec(
            select(AuditEntry).where(AuditEntry.tenant_id == tenant, AuditEntry.action == "failure.redrive_refused")
        ).all()
    assert [a.detail["code"] for a in audits] == ["tenant_suspended"]
    running = await client.count_workflows(f"WorkflowType = 'UserWorkflowRun' AND TenantId = '{tenant}'")
    assert running.count == 1  # only the failed run; nothing was re-driven


async def test_apply_mode_reserves_the_redriven_run_against_the_plan(
    client: Client, worker_queue: str, engine: Engine
) -> None:
    tenant = str(uuid.uuid4())
    run = stored_run(
        engine, tenant, {"id": "call", "type": "http_request", "url": f"http://127.0.0.1:{unused_port()}/"}
    )
    with pytest.raises(WorkflowFailureError):
        await (await start(client, worker_queue, run)).result()
    limit = PLAN_LIMITS["free"]["runs"] or 0
    with engine.begin() as connection:
        add_usage(connection, tenant, period_of(datetime.now(UTC)), "runs", limit)

    result = await recover(client, worker_queue, tenant_id=tenant, apply=True)

    entry = entries(engine, tenant)["HttpTransportError"]
    assert result.refused == {entry.id: "usage_limit_reached"} and entry.status == "open"
    with Session(engine) as session:
        counter = session.exec(
            select(UsageCounter).where(UsageCounter.tenant_id == tenant, UsageCounter.metric == "runs")
        ).one()
    assert counter.value == limit
