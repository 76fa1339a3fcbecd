"""The RetentionEnforcer on Temporal's time-skipping test server with the real activities and database:
records older than their tenant's policy go, newer ones stay, per tenant and per class; a second pass deletes
nothing; the report says what went per class and tenant; the daily schedule runs a full pass."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest_asyncio
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.retention import RetentionActivities
from core.settings import Settings
from orchestrator.retention_enforcer import RetentionEnforcer
from orchestrator.worker import WORKFLOW_RUNNER
from schemas.retention import PlatformRetention, RetentionEnforcerInput, RetentionEnforcerResult
from schemas.tables import (
    AuditEntry,
    DataRequest,
    FailureEntry,
    HealthRecord,
    RetentionOverride,
    RetentionReport,
    RetentionReportEntry,
    RunArchiveEntry,
    TelemetryEvent,
    Tenant,
)
from starters.platform_schedules import RETENTION_ENFORCER_SCHEDULE, ensure_platform_schedules
from tests.conftest import until

PLATFORM = PlatformRetention(health_records=14, platform_telemetry=30, platform_audit_log=365)


@pytest_asyncio.fixture
async def queue(skipping_env: WorkflowEnvironment, engine: Engine) -> AsyncIterator[str]:
    """A worker running the RetentionEnforcer and its real activities on the time-skipping server."""
    name, retention = f"retention-{uuid.uuid4()}", RetentionActivities(engine)
    async with Worker(
        skipping_env.client,
        task_queue=name,
        workflows=[RetentionEnforcer],
        workflow_runner=WORKFLOW_RUNNER,
        activities=[retention.open_report, retention.list_policies, retention.expire_records, retention.close_report],
        activity_executor=ThreadPoolExecutor(4),
    ):
        yield name


async def enforce(env: WorkflowEnvironment, queue: str, params: RetentionEnforcerInput) -> RetentionEnforcerResult:
    """One pass. The server's clock runs at its normal pace meanwhile: left to skip, it jumps years ahead once
    the pass has ended, and the records planted for the next pass would all be past their time."""
    with env.auto_time_skipping_disabled():
        return await env.client.execute_workflow(
            RetentionEnforcer.run, params, id=f"retention-{uuid.uuid4()}", task_queue=queue
        )


def tenant(engine: Engine, plan: str, **overrides: int) -> str:
    row = Tenant(name=f"retention {plan}", plan=plan)
    with Session(engine) as session:
        session.add(row)
        session.flush()
        session.add_all(
            RetentionOverride(tenant_id=row.id, data_class=name, days=days, set_by="founder")
            for name, days in overrides.items()
        )
        session.commit()
        return row.id


def archived_run(tenant_id: str, closed_at: datetime) -> RunArchiveEntry:
    return RunArchiveEntry(
        run_id=f"run-{uuid.uuid4()}",
        tenant_id=tenant_id,
        definition_id=str(uuid.uuid4()),
        version=1,
        status="completed",
        trigger="api",
        started_at=closed_at - timedelta(seconds=5),
        closed_at=closed_at,
    )


def failure(tenant_id: str, last_failed_at: datetime) -> FailureEntry:
    return FailureEntry(
        tenant_id=tenant_id,
        run_id=f"run-{uuid.uuid4()}",
        definition_id=str(uuid.uuid4()),
        version=1,
        step_id="call",
        error_type="HttpTimeout",
        message="timed out",
        attempts=5,
        first_failed_at=last_failed_at,
        last_failed_at=last_failed_at,
    )


def export(tenant_id: str, completed_at: datetime) -> DataRequest:
    return DataRequest(
        tenant_id=tenant_id,
        kind="export",
        status="completed",
        requested_at=completed_at,
        deadline_at=completed_at + timedelta(days=30),
        completed_at=completed_at,
        archive={"tenant": {"id": tenant_id}},
    )


def plant(engine: Engine, *rows: Any) -> None:
    with Session(engine) as session:
        session.add_all(rows)
        session.commit()


def run_ages(engine: Engine, tenant_id: str, now: datetime) -> list[int]:
    with Session(engine) as session:
        rows = session.exec(select(RunArchiveEntry).where(RunArchiveEntry.tenant_id == tenant_id)).all()
    return sorted(round((now - r.closed_at) / timedelta(days=1)) for r in rows)


def entries(engine: Engine, report_id: str) -> dict[tuple[str, str | None], int]:
    with Session(engine) as session:
        rows = session.exec(select(RetentionReportEntry).where(RetentionReportEntry.report_id == report_id)).all()
    return {(r.data_class, r.tenant_id): r.deleted for r in rows}


async def test_each_tenant_loses_only_what_is_older_than_its_own_policy(
    skipping_env: WorkflowEnvironment, queue: str, engine: Engine
) -> None:
    now = await skipping_env.get_current_time()
    free, longer, pro = tenant(engine, "free"), tenant(engine, "free", run_history=20), tenant(engine, "pro")
    days = [3, 10, 10, 10, 10, 10, 25]
    plant(engine, *(archived_run(t, now - timedelta(days=d)) for t in (free, longer, pro) for d in days))
    plant(engine, archived_run(pro, now - timedelta(days=100)))

    result = await enforce(
        skipping_env, queue, RetentionEnforcerInput(platform=PLATFORM, batch_size=2, tenant_ids=[free, longer, pro])
    )

    assert run_ages(engine, free, now) == [3]  # free plan: 7 days
    assert run_ages(engine, longer, now) == [3, 10, 10, 10, 10, 10]  # the founder's 20 days
    assert run_ages(engine, pro, now) == days  # pro plan: 90 days
    assert entries(engine, result.report_id) == {
        ("run_history", free): 6,
        ("run_history", longer): 1,
        ("run_history", pro): 1,
    }
    assert result.totals == {"run_history": 8}


async def test_every_class_is_enforced_by_its_own_clock_and_a_second_pass_deletes_nothing(
    skipping_env: WorkflowEnvironment, queue: str, engine: Engine
) -> None:
    now = await skipping_env.get_current_time()
    free, audited = tenant(engine, "free"), tenant(engine, "enterprise", audit_log=200)
    ago = lambda d: now - timedelta(days=d)  # noqa: E731
    plant(
        engine,
        failure(free, ago(20)),
        failure(free, ago(5)),
        AuditEntry(tenant_id=free, actor="founder", action="old", at=ago(400)),
        AuditEntry(tenant_id=free, actor="founder", action="recent", at=ago(300)),
        AuditEntry(tenant_id=audited, actor="founder", action="old", at=ago(300)),
        TelemetryEvent(source="web", kind="event", message="old", tenant_id=free, at=ago(8)),
        TelemetryEvent(source="web", kind="event", message="new", tenant_id=free, at=ago(6)),
        export(free, ago(10)),
        export(free, ago(2)),
    )
    params = RetentionEnforcerInput(platform=PLATFORM, tenant_ids=[free, audited])

    first = await enforce(skipping_env, queue, params)
    second = await enforce(skipping_env, queue, params)

    with Session(engine) as session:
        failures = session.exec(select(FailureEntry.last_failed_at).where(FailureEntry.tenant_id == free)).all()
        actions = session.exec(select(AuditEntry.action).where(col(AuditEntry.tenant_id).in_([free, audited]))).all()
        events = session.exec(select(TelemetryEvent.message).where(TelemetryEvent.tenant_id == free)).all()
        exports = session.exec(
            select(DataRequest).where(DataRequest.tenant_id == free).order_by(col(DataRequest.completed_at))
        ).all()
    assert [round((now - at) / timedelta(days=1)) for at in failures] == [5]
    assert sorted(actions) == ["recent"]  # free: 365 days; the enterprise tenant's override: 200
    assert events == ["new"]
    assert [(e.status, e.archive is None) for e in exports] == [("completed", True), ("completed", False)]
    assert entries(engine, first.report_id) == {
        ("failure_queue", free): 1,
        ("audit_log", free): 1,
        ("audit_log", audited): 1,
        ("telemetry", free): 1,
        ("export_archive", free): 1,
    }
    assert second.totals == {} and entries(engine, second.report_id) == {}


async def test_a_full_pass_enforces_the_platform_classes_and_leaves_the_latest_report(
    skipping_env: WorkflowEnvironment, queue: str, engine: Engine
) -> None:
    now = await skipping_env.get_current_time()
    marker = str(uuid.uuid4())
    plant(
        engine,
        HealthRecord(
            at=now - timedelta(days=15),
            status="ok",
            db_ok=True,
            temporal_ok=True,
            stripe_status="ok",
            ai_status="ok",
            error_count_recent=0,
            checks={"marker": marker},
        ),  # fmt: skip
        TelemetryEvent(source=marker, kind="event", message="old", at=now - timedelta(days=31)),
        TelemetryEvent(source=marker, kind="event", message="new", at=now - timedelta(days=29)),
    )

    result = await enforce(skipping_env, queue, RetentionEnforcerInput(platform=PLATFORM))

    with Session(engine) as session:
        messages = session.exec(select(TelemetryEvent.message).where(TelemetryEvent.source == marker)).all()
        old_health = session.exec(select(HealthRecord).where(col(HealthRecord.at) < now - timedelta(days=14))).all()
        latest = session.exec(select(RetentionReport).order_by(col(RetentionReport.as_of).desc())).first()
    assert messages == ["new"] and old_health == []
    assert result.totals["health_records"] >= 1 and result.totals["platform_telemetry"] >= 1
    assert entries(engine, result.report_id)[("health_records", None)] >= 1
    assert latest is not None and latest.id == result.report_id and latest.status == "completed"
    assert latest.tenant_ids is None and latest.totals == result.totals


async def test_the_daily_schedule_exists_and_its_trigger_completes_a_full_pass(
    client: Client, settings: Settings, engine: Engine, api: TestClient
) -> None:
    await ensure_platform_schedules(client, settings)
    schedule = client.get_schedule_handle(RETENTION_ENFORCER_SCHEDULE)
    with Session(engine) as session:
        before = set(session.exec(select(RetentionReport.id)).all())

    await schedule.trigger()

    def new_reports() -> list[RetentionReport]:
        with Session(engine) as session:
            return [r for r in session.exec(select(RetentionReport)).all() if r.id not in before]

    async def probe() -> list[RetentionReport]:
        return await asyncio.to_thread(new_reports)

    reports = await until(probe, lambda rs: any(r.status == "completed" for r in rs), timeout_s=60)
    calendar = (await schedule.describe()).schedule.spec.calendars[0]
    assert [(r.start, r.end) for r in calendar.hour] == [(settings.retention_enforcer_hour_utc,) * 2]
    assert reports[0].tenant_ids is None and reports[0].finished_at is not None
