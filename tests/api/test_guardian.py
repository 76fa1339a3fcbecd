"""Telemetry ingestion (validation, caps, tenant stamping, redaction), the founder's guardian views, the
API's own telemetry and metrics, and the heartbeat endpoint."""

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from api.deps import CallerDep
from api.main import create_app
from core.db import create_db_engine, migrate
from core.settings import Settings
from orchestrator.daily_report import DailyReport
from orchestrator.heartbeat import Heartbeat
from schemas.daily_report import DailyReportInput
from schemas.health import HeartbeatInput
from schemas.tables import HealthRecord, TelemetryEvent
from tests.api.tenancy import new_tenant
from tests.conftest import founder_headers

INGEST = "/api/guardian/telemetry/ingest"


def stored(engine: Engine, source: str) -> list[TelemetryEvent]:
    with Session(engine) as session:
        return list(session.exec(select(TelemetryEvent).where(TelemetryEvent.source == source)).all())


def new_source() -> str:
    return f"web-{uuid.uuid4().hex[:8]}"


def test_a_tenant_batch_is_stored_with_its_tenant_redacted_and_summarised_for_the_founder(
    api: TestClient, engine: Engine
) -> None:
    tenant, source = new_tenant(api), new_source()
    events = [
        {
            "kind": "error",
            "message": "checkout failed for jane.doe@example.com",
            "endpoint": "POST /checkout",
            "status": 500,
            "attributes": {"password": "hunter2", "plan": "pro"},
        },
        {"kind": "performance", "message": "page load", "endpoint": "GET /home", "duration_ms": 420.5},
        {"kind": "event", "message": "signed up", "at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()},
    ]

    accepted = api.post(INGEST, json={"source": source, "events": events}, headers=tenant.member)
    summary = api.get("/api/guardian/telemetry", headers=founder_headers())

    assert accepted.status_code == 202 and accepted.json() == {"accepted": 3}
    rows = {row.kind: row for row in stored(engine, source)}
    assert {row.tenant_id for row in rows.values()} == {tenant.id}
    assert rows["error"].message == "checkout failed for j***@example.com"
    assert rows["error"].attributes == {"password": "***", "plan": "pro"}
    assert rows["performance"].duration_ms == 420.5
    mine = next(s for s in summary.json()["sources"] if s["source"] == source)
    assert (mine["total"], mine["errors"], mine["events"], mine["performance"]) == (3, 1, 1, 1)
    assert mine["error_rate"] == pytest.approx(1 / 3, abs=1e-3) and mine["latency"]["p95_ms"] == 420.5


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (b"{not json", "invalid_json", "body"),
        (b'{"events": [{"kind": "event", "message": "x"}]}', "invalid_telemetry", "source"),
        (b'{"source": "has space", "events": [{"kind": "event", "message": "x"}]}', "invalid_telemetry", "source"),
        (b'{"source": "web", "events": []}', "invalid_telemetry", "events"),
        (b'{"source": "web", "events": [{"kind": "panic", "message": "x"}]}', "invalid_telemetry", "events[0].kind"),
        (b'{"source": "web", "events": [{"kind": "event", "message": ""}]}', "invalid_telemetry", "events[0].message"),
        (
            b'{"source": "web", "events": [{"kind": "event", "message": "x", "colour": 1}]}',
            "invalid_telemetry",
            "events[0].colour",
        ),
        (
            b'{"source": "web", "events": [{"kind": "performance", "message": "x", "duration_ms": -1}]}',
            "invalid_telemetry",
            "events[0].duration_ms",
        ),
    ],
    ids=[
        "not-json",
        "no-source",
        "bad-source",
        "no-events",
        "bad-kind",
        "empty-message",
        "unknown-field",
        "negative-duration",
    ],
)
def test_malformed_batches_are_rejected_with_the_field_and_store_nothing(
    api: TestClient, engine: Engine, body: bytes, code: str, field: str
) -> None:
    before = len(stored(engine, "web"))

    answer = api.post(INGEST, content=body, headers={**founder_headers(), "Content-Type": "application/json"})

    assert answer.status_code == 422, answer.text
    assert (answer.json()["code"], answer.json()["field"]) == (code, field)
    assert answer.json()["message"]
    assert len(stored(engine, "web")) == before


def test_long_fields_too_many_attributes_and_too_many_events_are_rejected(
    api: TestClient, engine: Engine, settings: Settings
) -> None:
    source = new_source()
    event = {"kind": "event", "message": "x"}

    long_message = api.post(
        INGEST, json={"source": source, "events": [{**event, "message": "m" * 1001}]}, headers=founder_headers()
    )
    many_attributes = api.post(
        INGEST,
        headers=founder_headers(),
        json={"source": source, "events": [{**event, "attributes": {f"k{i}": i for i in range(21)}}]},
    )
    long_attribute = api.post(
        INGEST,
        headers=founder_headers(),
        json={"source": source, "events": [{**event, "attributes": {"note": "v" * 501}}]},
    )
    too_many = api.post(
        INGEST,
        json={"source": source, "events": [event] * (settings.telemetry_max_batch + 1)},
        headers=founder_headers(),
    )

    assert (long_message.status_code, long_message.json()["field"]) == (422, "events[0].message")
    assert (many_attributes.status_code, many_attributes.json()["field"]) == (422, "events[0].attributes")
    assert (long_attribute.status_code, long_attribute.json()["field"]) == (422, "events[0].attributes")
    assert (too_many.status_code, too_many.json()["code"], too_many.json()["field"]) == (
        422,
        "batch_too_large",
        "events",
    )
    assert stored(engine, source) == []


def test_oversized_bodies_answer_413_whether_declared_or_streamed(
    api: TestClient, engine: Engine, settings: Settings
) -> None:
    source = new_source()
    padding = "p" * settings.telemetry_max_body_bytes
    body = f'{{"source": "{source}", "events": [{{"kind": "event", "message": "x", "attributes": {{"pad": "{padding}"}}}}]}}'.encode()

    declared = api.post(INGEST, content=body, headers={**founder_headers(), "Content-Type": "application/json"})
    streamed = api.post(INGEST, content=iter([body[:1024], body[1024:]]), headers=founder_headers())

    for answer in (declared, streamed):
        assert answer.status_code == 413
        assert answer.json() == {
            "code": "payload_too_large",
            "field": "body",
            "message": f"A telemetry batch may take at most {settings.telemetry_max_body_bytes} bytes",
        }
    assert stored(engine, source) == []


def test_only_the_founder_reads_guardian_views_and_tenants_cannot_pose_as_the_platform(api: TestClient) -> None:
    tenant = new_tenant(api)

    reads = [
        api.get(path, headers=tenant.admin)
        for path in (
            "/api/guardian/telemetry",
            "/api/guardian/anomalies",
            "/api/guardian/summary",
            "/api/guardian/daily-report",
        )
    ]
    posing = api.post(
        INGEST, json={"source": "api", "events": [{"kind": "error", "message": "fake"}]}, headers=tenant.admin
    )
    anonymous = api.post(INGEST, json={"source": "web", "events": [{"kind": "event", "message": "x"}]})

    assert [(r.status_code, r.json()["code"]) for r in reads] == [(403, "founder_only")] * 4
    assert (posing.status_code, posing.json()["code"], posing.json()["field"]) == (422, "reserved_source", "source")
    assert anonymous.status_code == 401


def test_anomalies_report_a_message_repeated_three_times_but_not_twice(api: TestClient) -> None:
    source = new_source()
    thrice, twice = f"payment timeout {uuid.uuid4().hex[:6]}", f"cart glitch {uuid.uuid4().hex[:6]}"
    events = [{"kind": "error", "message": thrice}] * 3 + [{"kind": "error", "message": twice}] * 2
    assert api.post(INGEST, json={"source": source, "events": events}, headers=founder_headers()).status_code == 202

    report = api.get("/api/guardian/anomalies?window_s=600", headers=founder_headers())

    assert report.status_code == 200
    mine = [a for a in report.json()["anomalies"] if a["source"] == source]
    assert {(a["rule"], a["subject"], a["count"]) for a in mine if a["rule"] == "repeated_message"} == {
        ("repeated_message", thrice, 3)
    }
    assert report.json()["rules"]["window_s"] == 600
    # 5 errors in 5 events is under the 10-event minimum for the error-rate rule
    assert all(a["rule"] != "high_error_rate" for a in mine)
    bad_window = api.get("/api/guardian/anomalies?window_s=5", headers=founder_headers())
    assert (bad_window.status_code, bad_window.json()["field"]) == (422, "query.window_s")


async def test_daily_report_and_summary_serve_what_the_workflows_wrote(
    api: TestClient, client: Client, worker_queue: str
) -> None:
    await client.execute_workflow(Heartbeat.run, HeartbeatInput(), id=f"hb-{uuid.uuid4()}", task_queue=worker_queue)
    result = await client.execute_workflow(
        DailyReport.run, DailyReportInput(), id=f"report-{uuid.uuid4()}", task_queue=worker_queue
    )

    report = api.get("/api/guardian/daily-report", headers=founder_headers())
    today = api.get(f"/api/guardian/daily-report?day={datetime.now(UTC).date()}", headers=founder_headers())
    missing = api.get("/api/guardian/daily-report?day=1999-01-01", headers=founder_headers())
    malformed = api.get("/api/guardian/daily-report?day=yesterday", headers=founder_headers())
    summary = api.get("/api/guardian/summary", headers=founder_headers())

    assert report.status_code == 200 and report.json()["score"] == result.score
    assert {c["name"] for c in report.json()["components"]} == {"availability", "errors", "anomalies", "failure_queue"}
    assert sum(c["score"] for c in report.json()["components"]) == result.score
    assert report.json()["suggestions"]
    assert today.json() == report.json()
    assert (missing.status_code, missing.json()["code"]) == (404, "report_not_found")
    assert (malformed.status_code, malformed.json()["field"]) == (422, "query.day")
    body = summary.json()
    assert summary.status_code == 200 and body["report_score"] == result.score
    assert body["heartbeat"]["db_ok"] and body["heartbeat"]["temporal_ok"]
    assert set(body["telemetry"]) >= {"total", "errors", "error_rate", "latency", "sources"}


async def test_heartbeat_endpoint_joins_live_checks_with_the_latest_record(
    api: TestClient, client: Client, worker_queue: str
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    await client.execute_workflow(Heartbeat.run, HeartbeatInput(), id=f"hb-{uuid.uuid4()}", task_queue=worker_queue)

    body = api.get("/api/system/heartbeat").json()

    assert body["status"] == "ok" and body["db_ok"] and body["temporal_ok"]
    assert (body["stripe_ok"], body["stripe"]) == (True, "ok")  # the session's fake Stripe
    assert (body["brain_ok"], body["brain"]) == (True, "ok")
    assert body["error_count_recent"] >= 0 and body["worker_count"] >= 1
    assert datetime.fromisoformat(body["last_heartbeat_at"]) >= before and body["heartbeat_stale"] is False
    assert body["uptime_seconds"] > 0 and body["version"]


@pytest.fixture
def scratch_app(settings: Settings, tmp_path: Path) -> Iterator[tuple[TestClient, Engine]]:
    """The real app on a database of its own, without a worker, that calls every request slow and has
    a route that breaks."""
    url = f"sqlite:///{tmp_path / 'api.db'}"
    migrate(url)
    own = settings.model_copy(
        update={
            "database_url": url,
            "api_embedded_worker": False,
            "telemetry_slow_request_ms": 0.001,
            "telemetry_flush_interval_s": 0.05,
        }
    )
    app: FastAPI = create_app(own)

    @app.get("/api/test-boom")
    def boom(caller: CallerDep) -> None:
        raise RuntimeError("boom")

    engine = create_db_engine(url)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client, engine
    engine.dispose()


def wait_for(probe: Any, timeout_s: float = 5) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met")
        time.sleep(0.05)
    return value


def test_the_api_records_its_own_errors_and_slow_requests_with_the_tenant(
    scratch_app: tuple[TestClient, Engine],
) -> None:
    api, engine = scratch_app
    tenant = new_tenant(api)

    broken = api.get("/api/test-boom", headers={**tenant.member, "X-Request-ID": "req-boom-1"})
    api.get("/api/system/pulse")

    assert (broken.status_code, broken.json()["code"]) == (500, "internal_error")
    wanted = {"GET /api/test-boom", "GET /api/system/pulse"}
    events = wait_for(lambda: (found := {e.endpoint: e for e in stored(engine, "api")}).keys() >= wanted and found)
    error, slow = events["GET /api/test-boom"], events["GET /api/system/pulse"]
    assert (error.kind, error.message, error.status, error.tenant_id) == (
        "error",
        "GET /api/test-boom answered 500",
        500,
        tenant.id,
    )
    assert error.attributes["request_id"] == "req-boom-1"
    assert (slow.kind, slow.message, slow.status, slow.tenant_id) == (
        "performance",
        "slow request GET /api/system/pulse",
        200,
        None,
    )
    assert slow.duration_ms is not None and slow.duration_ms > 0


def test_heartbeat_is_degraded_when_the_latest_record_failed_or_is_stale(
    scratch_app: tuple[TestClient, Engine],
) -> None:
    api, engine = scratch_app
    fresh_install = api.get("/api/system/heartbeat").json()

    def record(at: datetime, stripe: str) -> None:
        with Session(engine) as session:
            session.add(
                HealthRecord(
                    at=at,
                    status="ok" if stripe != "failed" else "degraded",
                    db_ok=True,
                    temporal_ok=True,
                    stripe_status=stripe,
                    ai_status="ok",
                    error_count_recent=4,
                    worker_count=2,
                )
            )
            session.commit()

    record(datetime.now(UTC) - timedelta(minutes=10), "ok")
    just_started = api.get("/api/system/heartbeat").json()
    api.app_state["started_at"] -= 3600  # as if the API had been up for an hour
    stale = api.get("/api/system/heartbeat").json()
    record(datetime.now(UTC), "failed")
    failing = api.get("/api/system/heartbeat").json()

    assert (fresh_install["status"], fresh_install["stripe"], fresh_install["last_heartbeat_at"]) == (
        "ok",
        "unknown",
        None,
    )
    assert (just_started["status"], just_started["heartbeat_stale"]) == ("ok", True)
    assert (stale["status"], stale["heartbeat_stale"], stale["stripe_ok"]) == ("degraded", True, True)
    assert (failing["status"], failing["heartbeat_stale"], failing["stripe_ok"], failing["stripe"]) == (
        "degraded",
        False,
        False,
        "failed",
    )
    assert (failing["error_count_recent"], failing["worker_count"]) == (4, 2)


def test_metrics_count_requests_by_route_template_and_status(api: TestClient) -> None:
    api.get("/api/system/pulse")
    api.get(f"/api/runs/{uuid.uuid4()}", headers=founder_headers())

    scraped = api.get("/metrics")

    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    assert 'levqor_http_requests_total{method="GET",route="/api/system/pulse",status="200"}' in scraped.text
    assert 'route="/api/runs/{run_id}",status="404"' in scraped.text
    assert (
        'levqor_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/system/pulse"}' in scraped.text
    )
    assert scraped.headers["x-request-id"]
