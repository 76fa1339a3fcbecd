"""Platform health is the platform's: a tenant whose HTTP steps call an unreachable target of its own fails run
after run, and yet there is no platform anomaly, the health score and the heartbeat are untouched and `levqor
status` says ok, listing that tenant's failure rate apart; then a real platform fault (the API answering 500)
is a critical platform anomaly and `levqor status` says degraded. The API is served by uvicorn on a database of
its own, its runs on a worker of the test's own."""

import asyncio
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session, select

from api.deps import CallerDep
from api.main import create_app
from core.db import create_db_engine, migrate
from core.settings import Settings
from core.telemetry import TelemetryBuffer
from orchestrator.daily_report import DailyReport
from orchestrator.heartbeat import Heartbeat
from orchestrator.worker import build_worker
from schemas.daily_report import DailyReportInput
from schemas.health import HeartbeatInput
from schemas.tables import DailyReportRow, HealthRecord, TelemetryEvent
from schemas.telemetry import TENANT_STEPS
from starters.connection import connect, tenant_codec
from tests.conftest import FOUNDER_TOKEN, founder_headers, until
from tests.fakes import unused_port

ROOT = Path(__file__).resolve().parents[2]
RUNS = 6


@pytest.fixture(scope="module")
def own(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    url = f"sqlite:///{tmp_path_factory.mktemp('faults') / 'levqor.db'}"
    migrate(url)
    return settings.model_copy(
        update={
            "database_url": url,
            "task_queue": f"faults-{uuid.uuid4()}",
            "api_embedded_worker": False,
            "telemetry_flush_interval_s": 0.05,
        }
    )


@pytest.fixture(scope="module")
def served(own: Settings) -> Iterator[str]:
    """The app (with a route that breaks: our own bug) on a real socket."""
    app: FastAPI = create_app(own)

    @app.get("/api/test-boom")
    def boom(caller: CallerDep) -> None:
        raise RuntimeError("boom")

    port = unused_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest_asyncio.fixture
async def own_engine(own: Settings) -> AsyncIterator[Engine]:
    engine = create_db_engine(own.database_url)
    yield engine
    engine.dispose()


def levqor_status(url: str, cwd: Path) -> tuple[int, dict[str, list[str]], str]:
    # This checkout's CLI (`python -m api.cli` is what the `levqor` script runs), from a folder without a .env.
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(cwd), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "status", "--url", url, "--token", FOUNDER_TOKEN],
        capture_output=True, text=True, timeout=60, cwd=cwd, env=env,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    rows = {line[:16].strip(): line[16:].split() for line in lines[4:] if line.strip()}
    return done.returncode, rows, done.stdout


def start_failing_runs(url: str) -> tuple[str, list[str]]:
    """A new user's tenant whose workflow POSTs to a port nobody listens on, run RUNS times."""
    with httpx.Client(base_url=url, headers=founder_headers(), timeout=10) as api:
        created = api.post("/api/tenants", json={"name": "New User", "plan": "pro"}).json()
    step = {"id": "notify", "type": "http_request", "method": "POST", "url": f"http://127.0.0.1:{unused_port()}/"}
    key = {"Authorization": f"Bearer {created['api_key']['key']}"}
    with httpx.Client(base_url=url, headers=key, timeout=10) as api:
        workflow = api.post("/api/workflows", json={"name": "Ping my server", "steps": [step]}).json()
        runs = [
            api.post(f"/api/workflows/{workflow['id']}/runs", json={"input": {}}).json()["run_id"] for _ in range(RUNS)
        ]
    return created["tenant"]["id"], runs


async def test_a_tenants_unreachable_targets_are_not_a_platform_fault_but_our_own_500s_are(
    own: Settings, own_engine: Engine, served: str, tmp_path: Path
) -> None:
    # The tenant's data key is in this database: the worker's payload codec must read it here.
    codec = tenant_codec(own_engine, own.levqor_secrets_key, own.payload_key_cache_ttl_s)
    client = await connect(own.temporal_address, own.temporal_namespace, codec=codec)
    telemetry = TelemetryBuffer(own_engine, "worker", 0.05)
    async with build_worker(client, own, own_engine, task_queue=own.task_queue, telemetry=telemetry):
        tenant_id, runs = await asyncio.to_thread(start_failing_runs, served)

        def tenant_rows() -> list[TelemetryEvent]:
            with Session(own_engine) as session:
                return list(session.exec(select(TelemetryEvent).where(TelemetryEvent.tenant_id == tenant_id)).all())

        async def recorded() -> list[TelemetryEvent]:
            return tenant_rows()

        # Each run: 3 failed attempts (the test settings), then the failed run.
        await until(recorded, lambda rows: len(rows) >= RUNS * 4, timeout_s=60)
        heartbeat = await client.execute_workflow(
            Heartbeat.run, HeartbeatInput(), id=f"hb-{uuid.uuid4()}", task_queue=own.task_queue
        )
        report = await client.execute_workflow(
            DailyReport.run, DailyReportInput(), id=f"report-{uuid.uuid4()}", task_queue=own.task_queue
        )
    telemetry.close()

    with httpx.Client(base_url=served, headers=founder_headers()) as api:
        anomalies = api.get("/api/guardian/anomalies").json()["anomalies"]
        summary = api.get("/api/guardian/summary").json()
    code, rows, printed = await asyncio.to_thread(levqor_status, served, tmp_path)
    with Session(own_engine) as session:
        record = session.get(HealthRecord, heartbeat.record_id)
        daily = session.get(DailyReportRow, report.report_id)

    assert {row.source for row in tenant_rows()} == {TENANT_STEPS, "tenant_runs"}
    assert anomalies == [] and summary["anomalies"] == [] and summary["platform_status"] == "ok"
    (theirs,) = summary["tenant_failures"]
    assert (theirs["tenant_id"], theirs["attempts"], theirs["failed_attempts"], theirs["failed_runs"]) == (
        tenant_id,
        RUNS * 3,
        RUNS * 3,
        RUNS,
    )
    assert theirs["failure_rate"] == 1.0 and "HttpTransportError" in theirs["top_error"]
    assert record is not None and (record.status, record.error_count_recent) == ("ok", 0)
    assert daily is not None
    assert {c["name"]: c["score"] for c in daily.body["components"]} == {
        "availability": 40,
        "errors": 30,
        "anomalies": 20,
        "failure_queue": 10,
    }
    assert [t["tenant_id"] for t in daily.body["tenant_failures"]] == [tenant_id]
    assert code == 0, printed
    assert rows["overall"][0] == "ok" and rows["anomalies"][0] == "0", printed
    assert rows["tenants failed"][0] == "1", printed
    assert rows[tenant_id[:12]][:2] == ["100.0%", str(RUNS * 3)]

    with httpx.Client(base_url=served, headers=founder_headers()) as api:
        # A connection each: uvicorn closes the one whose request raised.
        broken = [httpx.get(f"{served}/api/test-boom", headers=founder_headers()).status_code for _ in range(12)]

        async def platform_anomalies() -> list[dict[str, Any]]:
            return (await asyncio.to_thread(api.get, "/api/guardian/summary")).json()["anomalies"]

        found = await until(platform_anomalies, lambda a: any(x["rule"] == "high_error_rate" for x in a))
    code, rows, printed = await asyncio.to_thread(levqor_status, served, tmp_path)

    assert set(broken) == {500}
    assert [(a["rule"], a["source"], a["severity"]) for a in found if a["rule"] == "high_error_rate"] == [
        ("high_error_rate", "api", "critical")
    ]
    assert code == 1, printed
    assert rows["overall"][0] == "degraded"
    assert rows["anomalies"][1].startswith("high_error_rate") or rows["anomalies"][1].startswith("repeated_message")
    assert rows["tenants failed"][0] == "1", printed  # still listed apart
