"""Heartbeat and DailyReport on the real dev server, triggered on demand: the records they write, Stripe
checked with the official SDK against a local fake, the worker's own failure telemetry and its metrics."""

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, ScheduleOverlapPolicy

from core.db import create_db_engine, migrate
from core.settings import Settings
from core.telemetry import TelemetryBuffer
from orchestrator.daily_report import DailyReport
from orchestrator.heartbeat import Heartbeat
from orchestrator.worker import build_worker, metrics_runtime
from schemas.daily_report import DailyReportInput
from schemas.health import HeartbeatInput
from schemas.tables import DailyReportRow, FailureEntry, HealthRecord, TelemetryEvent
from schemas.telemetry import TENANT_RUNS, TENANT_STEPS
from starters.connection import connect
from starters.platform_schedules import (
    DAILY_REPORT_SCHEDULE,
    HEARTBEAT_SCHEDULE,
    ensure_platform_schedules,
)
from tests.conftest import until
from tests.fakes import JsonHandler, LocalHttpServer, unused_port
from tests.fakes.openai import FakeOpenAI
from tests.orchestrator.runs import make_run, start

GOOD_STRIPE_KEY = "sk_test_levqor_good_key_123"


class _StripeHandler(JsonHandler):
    server: Any

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != "/v1/balance":
            self.send_json(404, {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}})
        elif self.headers.get("Authorization") != f"Bearer {GOOD_STRIPE_KEY}":
            self.send_json(401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})
        else:
            self.send_json(
                200,
                {
                    "object": "balance",
                    "livemode": False,
                    "available": [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}],
                    "pending": [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}],
                },
            )


class FakeStripe(LocalHttpServer):
    """Stripe's `GET /v1/balance`: 200 for GOOD_STRIPE_KEY, Stripe's 401 error body for any other key."""

    handler = _StripeHandler


@pytest_asyncio.fixture
async def scratch_engine(tmp_path: Path) -> AsyncIterator[Engine]:
    """A database of the test's own, for records the shared database's readers must not see."""
    url = f"sqlite:///{tmp_path / 'health.db'}"
    migrate(url)
    engine = create_db_engine(url)
    yield engine
    engine.dispose()


async def heartbeat_on(client: Client, settings: Settings, engine: Engine) -> HealthRecord:
    queue = f"health-{uuid.uuid4()}"
    async with build_worker(client, settings, engine, task_queue=queue):
        result = await client.execute_workflow(
            Heartbeat.run, HeartbeatInput(), id=f"hb-{uuid.uuid4()}", task_queue=queue
        )
    with Session(engine) as session:
        row = session.get(HealthRecord, result.record_id)
    assert row is not None and row.status == result.status
    return row


def plant_errors(engine: Engine, source: str, message: str, count: int, at: datetime | None = None) -> None:
    with Session(engine) as session:
        session.add_all(
            [
                TelemetryEvent(source=source, kind="error", message=message, at=at or datetime.now(UTC))
                for _ in range(count)
            ]
        )
        session.commit()


async def test_heartbeat_records_database_temporal_ai_workers_and_recent_errors(
    client: Client, worker_queue: str, engine: Engine
) -> None:
    plant_errors(engine, f"web-{uuid.uuid4().hex[:8]}", "checkout failed", 2)

    result = await client.execute_workflow(
        Heartbeat.run, HeartbeatInput(), id=f"hb-{uuid.uuid4()}", task_queue=worker_queue
    )

    with Session(engine) as session:
        row = session.get(HealthRecord, result.record_id)
    assert row is not None and result.status == row.status == "ok"
    assert row.db_ok and row.temporal_ok
    assert (row.stripe_status, row.ai_status) == ("ok", "ok")  # the test settings point Stripe at the session's fake
    assert row.worker_count is not None and row.worker_count >= 1
    assert row.error_count_recent >= 2
    assert set(row.checks) == {"database", "temporal", "stripe", "ai", "backup"}


async def test_stripe_is_checked_with_the_sdk_and_a_wrong_key_fails_without_leaking_it(
    client: Client, settings: Settings, scratch_engine: Engine
) -> None:
    with FakeStripe() as stripe_fake:
        good = settings.model_copy(
            update={"stripe_api_key": SecretStr(GOOD_STRIPE_KEY), "stripe_api_base": stripe_fake.url}
        )
        wrong = good.model_copy(update={"stripe_api_key": SecretStr("sk_test_wrong_key_456")})

        healthy = await heartbeat_on(client, good, scratch_engine)
        refused = await heartbeat_on(client, wrong, scratch_engine)

    assert (healthy.stripe_status, healthy.status) == ("ok", "ok")
    assert (refused.stripe_status, refused.status) == ("failed", "degraded")
    assert "AuthenticationError" in refused.checks["stripe"]["detail"]
    assert "sk_test_wrong_key_456" not in json.dumps(refused.checks)


async def test_unreachable_ai_and_stripe_degrade_and_no_keys_mean_not_configured(
    client: Client, settings: Settings, scratch_engine: Engine
) -> None:
    with FakeOpenAI() as ai:
        ai.models_failure = 500
        broken = settings.model_copy(
            update={
                "openai_base_url": ai.base_url,
                "stripe_api_key": SecretStr(GOOD_STRIPE_KEY),
                "stripe_api_base": f"http://127.0.0.1:{unused_port()}",
            }
        )
        failing = await heartbeat_on(client, broken, scratch_engine)
    unconfigured = await heartbeat_on(
        client, settings.model_copy(update={"openai_api_key": None, "stripe_api_key": None}), scratch_engine
    )

    assert (failing.ai_status, failing.stripe_status, failing.status) == ("failed", "failed", "degraded")
    assert failing.db_ok and failing.temporal_ok
    assert (unconfigured.ai_status, unconfigured.stripe_status, unconfigured.status) == (
        "not_configured",
        "not_configured",
        "ok",
    )


async def test_the_heartbeat_schedule_triggered_on_demand_writes_a_record(
    client: Client, settings: Settings, engine: Engine, api: Any
) -> None:
    names = await ensure_platform_schedules(client, settings)  # the API did it at start-up; again changes nothing
    before = datetime.now(UTC)

    await client.get_schedule_handle(HEARTBEAT_SCHEDULE).trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)

    def newest() -> HealthRecord | None:
        with Session(engine) as session:
            return session.exec(select(HealthRecord).order_by(col(HealthRecord.at).desc()).limit(1)).first()

    async def probe() -> HealthRecord | None:
        return newest()

    row = await until(probe, lambda r: r is not None and r.at >= before - timedelta(seconds=1))
    assert {HEARTBEAT_SCHEDULE, DAILY_REPORT_SCHEDULE} <= set(names)
    assert row is not None and row.db_ok and row.temporal_ok
    described = await client.get_schedule_handle(HEARTBEAT_SCHEDULE).describe()
    assert described.schedule.spec.intervals[0].every == timedelta(seconds=60)


async def test_daily_report_scores_the_day_suggests_and_leaves_pruning_to_the_retention_enforcer(
    client: Client, settings: Settings, scratch_engine: Engine
) -> None:
    now = datetime.now(UTC)
    checks_ok = {"stripe": {"status": "ok"}}
    with Session(scratch_engine) as session:
        for minutes, status in ((10, "ok"), (20, "ok"), (30, "ok"), (40, "degraded")):
            failed = status != "ok"
            session.add(
                HealthRecord(
                    at=now - timedelta(minutes=minutes),
                    status=status,
                    db_ok=True,
                    temporal_ok=True,
                    stripe_status="failed" if failed else "ok",
                    ai_status="ok",
                    error_count_recent=0,
                    checks={"stripe": {"status": "failed"}} if failed else checks_ok,
                )
            )
        session.add_all(
            [
                TelemetryEvent(source="web", kind="event", message="page viewed", at=now - timedelta(hours=1))
                for _ in range(7)
            ]
        )
        for error_type, message in (("OperationalError", "database unreachable"), ("HttpServerError", "503")):
            session.add(
                FailureEntry(
                    tenant_id="t",
                    run_id=f"r-{uuid.uuid4()}",
                    definition_id="d",
                    version=1,
                    step_id="s",
                    error_type=error_type,
                    message=message,
                    attempts=3,
                    first_failed_at=now,
                    last_failed_at=now,
                )
            )
        # A tenant whose own target fails: 40 failed step attempts of 50 count for nothing in the score.
        session.add_all(
            [
                TelemetryEvent(
                    source=TENANT_STEPS,
                    kind="error" if i < 40 else "event",
                    message="activity http_request failed: HttpTransportError" if i < 40 else "answered",
                    tenant_id="t-own-target",
                    at=now - timedelta(minutes=5),
                )
                for i in range(50)
            ]
        )
        session.commit()
    plant_errors(scratch_engine, "web", "checkout failed", 3, now - timedelta(hours=2))
    plant_errors(scratch_engine, "web", "ancient", 1, now - timedelta(days=40))
    queue = f"report-{uuid.uuid4()}"

    async with build_worker(client, settings, scratch_engine, task_queue=queue):
        result = await client.execute_workflow(
            DailyReport.run, DailyReportInput(), id=f"report-{uuid.uuid4()}", task_queue=queue
        )

    with Session(scratch_engine) as session:
        row = session.get(DailyReportRow, result.report_id)
        left = session.exec(select(TelemetryEvent).where(TelemetryEvent.message == "ancient")).all()
    assert row is not None
    components = {c["name"]: c["score"] for c in row.body["components"]}
    # 3 of 4 heartbeats ok → 30/40; 30% errors → 0/30; a critical error rate and a repeated message → 5/20;
    # one open failure of the platform's → 9/10 (the tenant's HttpServerError is not counted).
    assert components == {"availability": 30, "errors": 0, "anomalies": 5, "failure_queue": 9}
    assert result.score == row.score == 44
    assert row.body["top_errors"][0] == {"source": "web", "message": "checkout failed", "count": 3}
    assert row.body["top_events"][0]["message"] == "page viewed"
    assert {a["rule"] for a in row.body["anomalies"]} == {"high_error_rate", "repeated_message"}
    assert any("stripe check failed in 1 of 4" in s for s in row.body["suggestions"])
    assert any("failure queue" in s for s in row.body["suggestions"])
    (tenant,) = row.body["tenant_failures"]
    assert (tenant["tenant_id"], tenant["attempts"], tenant["failed_attempts"], tenant["failure_rate"]) == (
        "t-own-target",
        50,
        40,
        0.8,
    )
    assert any("t-own-target" in s and "not a platform fault" in s for s in row.body["suggestions"])
    assert len(left) == 1  # old telemetry is the RetentionEnforcer's to delete


async def test_a_tenants_failed_steps_are_its_own_telemetry_not_the_workers(
    client: Client, worker_queue: str, engine: Engine, target_server: Any
) -> None:
    # A POST: only regular activities, numbered 1, 2, 3 (a GET's local first attempt is numbered apart).
    broken = {"id": "broken", "type": "http_request", "method": "POST", "url": target_server.url + "/status/503"}
    run = make_run(broken, tenant_id=f"tenant-{uuid.uuid4().hex[:8]}")

    handle = await start(client, worker_queue, run)
    try:
        await handle.result()
    except Exception:
        pass  # the run fails on purpose

    def events() -> list[TelemetryEvent]:
        with Session(engine) as session:
            return list(session.exec(select(TelemetryEvent).where(TelemetryEvent.tenant_id == run.tenant_id)).all())

    async def probe() -> list[TelemetryEvent]:
        return events()

    recorded = await until(probe, lambda found: len(found) >= 4)  # one per attempt (3 in the test settings), the run
    steps = [e for e in recorded if e.source == TENANT_STEPS]
    assert {(e.kind, e.message) for e in steps} == {("error", "activity http_request failed: HttpServerError")}
    assert {e.attributes["attempt"] for e in steps} >= {1, 2, 3}
    assert {e.attributes["workflow_id"] for e in steps} == {handle.id}
    (failed_run,) = [e for e in recorded if e.source == TENANT_RUNS]
    assert (failed_run.message, failed_run.attributes["run_id"]) == ("run failed: HttpServerError", run.run_id)
    assert not [e for e in recorded if e.source == "worker"]


async def test_an_activity_of_ours_raising_unexpectedly_is_a_platform_error(
    client: Client, settings: Settings, engine: Engine, target_server: Any
) -> None:
    # Its secrets are read from a database that is not there: the step's own target is never the cause.
    down = create_db_engine(f"postgresql+psycopg://nobody:nothing@127.0.0.1:{unused_port()}/gone")
    step = {
        "id": "call",
        "type": "http_request",
        "method": "POST",
        "url": target_server.url + "/status/200",
        "headers": {"Authorization": "Bearer {{ secrets.API_TOKEN }}"},
    }
    run = make_run(step, tenant_id=f"tenant-{uuid.uuid4().hex[:8]}")
    queue = f"down-{uuid.uuid4()}"

    async with build_worker(
        client, settings, down, task_queue=queue, telemetry=TelemetryBuffer(engine, "worker", 0.05)
    ):
        handle = await start(client, queue, run)

        def worker_errors() -> list[TelemetryEvent]:
            with Session(engine) as session:
                rows = session.exec(select(TelemetryEvent).where(TelemetryEvent.tenant_id == run.tenant_id)).all()
            return [e for e in rows if e.attributes.get("workflow_id") == handle.id]

        async def probe() -> list[TelemetryEvent]:
            return worker_errors()

        recorded = await until(probe, lambda found: len(found) >= 1)
        await handle.terminate("the test is over")
    down.dispose()

    assert {e.source for e in recorded} == {"worker"}
    assert all(e.kind == "error" and "OperationalError" in e.message for e in recorded)


async def test_the_worker_serves_the_sdk_prometheus_metrics(client: Client, settings: Settings, engine: Engine) -> None:
    address = f"127.0.0.1:{unused_port()}"
    metered = await connect(
        client.service_client.config.target_host, client.namespace, runtime=metrics_runtime(address)
    )
    queue = f"metrics-{uuid.uuid4()}"

    async with build_worker(metered, settings, engine, task_queue=queue):
        await metered.execute_workflow(Heartbeat.run, HeartbeatInput(), id=f"hb-{uuid.uuid4()}", task_queue=queue)
        async with httpx.AsyncClient() as http:
            scraped = await http.get(f"http://{address}/metrics")

    assert scraped.status_code == 200
    assert "temporal_workflow_completed" in scraped.text
    assert "temporal_activity_execution_latency" in scraped.text
    assert metrics_runtime(None) is None
