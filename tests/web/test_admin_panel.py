"""The Admin Power Panel's overview, cost monitor and approval queue through the app (TestClient, real Temporal and
PostgreSQL): founders only (404 for a tenant's admin and member), tiles from the live probes and the stored
heartbeats, the score trend's gaps, spend after usage, throttle and lift from the page (audited), and class C gates
of two tenants, masked, decided from the queue (the run goes on, the comment and the audit keep the decision)."""

import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete
from sqlmodel import Session, SQLModel, col, select

from api.web.health_chart import health_svg, runs_of_days
from core.i18n import translations
from rules.usage import period_of
from schemas.daily_report import DailyReportBody
from schemas.panel import HealthTrend, ScorePoint
from schemas.tables import AuditEntry, DailyReportRow, HealthRecord, SpendSample, TelemetryEvent, UsageCounter
from tests.conftest import founder_headers
from tests.fakes.smtp import SmtpSink
from tests.web.conftest import FOUNDER_EMAIL, invite_by_founder, make_tenant, signed_in_as, unique_email, use_cookies

PAGES = ("/admin/power", "/admin/power/tiles", "/admin/power/costs", "/admin/power/approvals")
GATE_C = {
    "id": "wire_funds",
    "type": "approval",
    "class": "C",
    "message": "Wire {{ input.amount }} EUR to {{ input.to }}?",
}
PAY = {
    "id": "pay",
    "type": "http_request",
    "method": "POST",
    "url": "https://bank.example/pay?key={{ secrets.BANK_KEY }}",
    "headers": {"Authorization": "Bearer {{ secrets.BANK_TOKEN }}"},
}
LOG = {"id": "done", "type": "log", "message": "paid"}
SECRET_INPUT = {
    "amount": 900,
    "to": "ann.smith@example.com",
    "password": "hunter2-very-secret",
    "note": "sk_live_abcdefghijklmnop",
}


@pytest.fixture(scope="module")
def founder(web: TestClient, smtp_sink: SmtpSink) -> dict[str, str]:
    return signed_in_as(web, smtp_sink, FOUNDER_EMAIL)


@pytest.fixture
def planted(engine: Engine) -> Iterator[list[SQLModel]]:
    """Rows a test puts in the shared database (heartbeats, reports) that would mislead later tests (a heartbeat a
    minute ahead is everyone's latest): removed again when the test ends."""
    rows: list[SQLModel] = []
    yield rows
    with Session(engine) as session:
        for row in rows:
            found = session.get(type(row), row.id)  # type: ignore[attr-defined]
            if found is not None:
                session.delete(found)
        session.commit()


@pytest.fixture
def probe_source(engine: Engine) -> Iterator[str]:
    """A telemetry source of the test's own, whose events are removed when it ends (its errors would read as the
    platform's for the next 24 hours)."""
    source = f"probe-{uuid.uuid4().hex[:8]}"
    yield source
    with Session(engine) as session:
        session.execute(delete(TelemetryEvent).where(col(TelemetryEvent.source) == source))
        session.commit()


def plant(engine: Engine, planted: list[SQLModel], *rows: SQLModel) -> None:
    with Session(engine, expire_on_commit=False) as session:
        session.add_all(rows)
        session.commit()
    planted.extend(rows)


def report(day: date, at: datetime, score: int, suggestions: list[str]) -> DailyReportRow:
    """A daily report as the DailyReport workflow stores it (its body readable by GET /api/guardian/daily-report)."""
    body = DailyReportBody(
        day=day.isoformat(), generated_at=at, window_hours=24, score=score, components=[], top_errors=[],
        top_events=[], anomalies=[], suggestions=suggestions,
    )  # fmt: skip
    return DailyReportRow(day=day.isoformat(), generated_at=at, score=score, body=body.model_dump(mode="json"))


def tenant_users(web: TestClient, sink: SmtpSink, name: str) -> tuple[str, dict[str, str], dict[str, str]]:
    tenant_id = make_tenant(web, name)
    admin, member = unique_email("admin"), unique_email("member")
    invite_by_founder(web, tenant_id, admin, "admin")
    invite_by_founder(web, tenant_id, member, "member")
    return tenant_id, signed_in_as(web, sink, admin), signed_in_as(web, sink, member)


def test_every_panel_page_is_the_founders_alone(web: TestClient, smtp_sink: SmtpSink, founder: dict[str, str]) -> None:
    tenant_id, admin, member = tenant_users(web, smtp_sink, "Walled Co")

    for user in (admin, member):
        csrf = use_cookies(web, user)
        for path in PAGES:
            assert web.get(path).status_code == 404, path
        assert web.get("/admin/power/approvals/live").status_code == 404
        forged = {"csrf_token": csrf, "reason": "mine now", "decision": "approve"}
        assert web.post(f"/admin/power/costs/{tenant_id}/throttle", data=forged).status_code == 404
        assert web.post(f"/admin/power/costs/{tenant_id}/lift", data=forged).status_code == 404
        assert web.post("/admin/power/costs/check", data=forged).status_code == 404
        assert web.post(f"/admin/power/approvals/{uuid.uuid4()}/gate", data=forged).status_code == 404
    use_cookies(web, founder)
    for path in PAGES:
        assert web.get(path).status_code == 200, path
    web.cookies.clear()
    assert web.get("/admin/power", follow_redirects=False).status_code == 303  # signed out: sign in first


def test_the_tiles_show_the_live_probes_the_latest_heartbeat_and_uptime(
    web: TestClient, engine: Engine, founder: dict[str, str], planted: list[SQLModel], probe_source: str
) -> None:
    now = datetime.now(UTC)
    checks = {
        "database": {"name": "database", "status": "ok", "latency_ms": 1.5},
        "temporal": {"name": "temporal", "status": "ok", "latency_ms": 2.0, "workers": 7},
        "stripe": {"name": "stripe", "status": "failed", "latency_ms": 3000.0, "detail": "stripe timed out after 3 s"},
        "ai": {"name": "ai", "status": "not_configured", "latency_ms": 0.0},
    }
    ahead = HealthRecord(  # a minute ahead, so the Heartbeat schedule's own records stay older
        at=now + timedelta(minutes=1), status="degraded", db_ok=True, temporal_ok=True, stripe_status="failed",
        ai_status="not_configured", error_count_recent=0, worker_count=7, checks=checks,
    )  # fmt: skip
    plant(engine, planted, ahead)
    source = probe_source
    events = [{"kind": "error", "message": f"disk {n} almost full"} for n in range(40)]  # no repeated message
    ingested = web.post(
        "/api/guardian/telemetry/ingest", json={"source": source, "events": events}, headers=founder_headers()
    )
    assert ingested.status_code == 202, ingested.text
    use_cookies(web, founder)

    tiles = web.get("/admin/power/tiles")

    assert tiles.status_code == 200
    stripe = tile(tiles.text, "stripe")
    assert "Failed" in stripe and "stripe timed out after 3 s" in stripe
    assert "OK" in tile(tiles.text, "database") and "OK" in tile(tiles.text, "temporal")
    assert "7 pollers on the task queue" in tile(tiles.text, "temporal")
    assert "Not configured" in tile(tiles.text, "ai")
    assert "heartbeats healthy" in tile(tiles.text, "uptime") and "this process up" in tile(tiles.text, "uptime")
    assert source in tile(tiles.text, "errors")
    assert "Run archive" in tile(tiles.text, "run-archive")
    assert 'hx-trigger="every 5s"' in tiles.text  # the fragment keeps polling itself


def test_the_score_trend_draws_the_last_30_days_with_gaps_and_the_latest_suggestions(
    web: TestClient, engine: Engine, founder: dict[str, str], planted: list[SQLModel]
) -> None:
    today = datetime.now(UTC).date()
    for back, score in ((0, 91), (1, 77), (3, 64)):  # two days ago has no report
        day = today - timedelta(days=back)
        at = datetime.now(UTC) + timedelta(minutes=5 - back)  # today's is the latest generated
        plant(engine, planted, report(day, at, score, [f"Check the backup schedule ({day.isoformat()})"]))
    use_cookies(web, founder)

    page = web.get("/admin/power")

    assert page.status_code == 200
    assert 'class="health-chart"' in page.text and "<title" in page.text and "<desc" in page.text
    assert f"Check the backup schedule ({today.isoformat()})" in page.text
    assert f"<td>{(today - timedelta(days=2)).isoformat()}</td><td>no report</td>" in page.text
    assert f"<td>{today.isoformat()}</td><td>91</td>" in page.text


def test_a_day_without_a_report_breaks_the_line() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC).date()
    scores = [80, 82, None, 70, None, None, 90]
    trend = HealthTrend(points=[ScorePoint(day=start + timedelta(days=i), score=s) for i, s in enumerate(scores)])

    svg = health_svg(trend, "en")

    assert runs_of_days(trend.points) == [[(0, 80), (1, 82)], [(3, 70)], [(6, 90)]]
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 4
    assert "Nov 3, 2026: no report" in svg and "Nov 1, 2026: 80 of 100" in svg


def tile(html: str, name: str) -> str:
    found = re.search(rf'data-tile="{name}">(.*?)</li>', html, re.S)
    assert found, f"no tile {name}"
    return found.group(1)


def test_the_cost_table_shows_spend_and_throttle_and_lift_work_from_the_page_audited(
    web: TestClient, smtp_sink: SmtpSink, engine: Engine, founder: dict[str, str]
) -> None:
    name = f"Spendy {uuid.uuid4().hex[:6]}"
    tenant_id = make_tenant(web, name)
    now = datetime.now(UTC)
    with Session(engine) as session:
        session.add(UsageCounter(tenant_id=tenant_id, period=period_of(now), metric="ai_credits", value=6_170))
        session.add(
            SpendSample(
                tenant_id=tenant_id,
                at=now,
                period=period_of(now),
                spend_micros=12_340_000,
                rate_micros_per_hour=2_500_000,
            )
        )
        session.commit()
    csrf = use_cookies(web, founder)

    page = web.get("/admin/power/costs")

    row = re.search(rf'<tr data-tenant="{tenant_id}">(.*?)</tr>', page.text, re.S)
    assert row and "$12.34" in row.group(1) and "$2.50" in row.group(1)
    assert name in page.text.split('class="cost-chart"')[1]  # drawn in the picture too

    blank = web.post(f"/admin/power/costs/{tenant_id}/throttle", data={"csrf_token": csrf, "reason": "  "})
    assert blank.status_code == 422
    throttled = web.post(
        f"/admin/power/costs/{tenant_id}/throttle",
        data={"csrf_token": csrf, "reason": "runaway AI spend", "max_concurrent_runs": "1"},
        follow_redirects=False,
    )
    assert throttled.status_code == 303 and throttled.headers["location"] == "/admin/power/costs?done=throttled"
    after = web.get("/admin/power/costs")
    throttled_list = after.text.split('id="throttled-title"')[1].split("</section>")[0]
    assert name in throttled_list and "at most 1 run at a time" in throttled_list
    lifted = web.post(f"/admin/power/costs/{tenant_id}/lift", data={"csrf_token": csrf}, follow_redirects=False)
    assert lifted.status_code == 303
    assert name not in web.get("/admin/power/costs").text.split('id="throttled-title"')[1].split("</section>")[0]

    entries = audit(engine, tenant_id, "tenant.throttle")
    assert [e.action for e in entries] == ["tenant.throttled", "tenant.throttle_lifted"]
    assert all(e.actor.startswith("user:") for e in entries)  # the founder, as the audit log names users
    assert FOUNDER_EMAIL in after.text.split('id="actions-title"')[1]  # and as the actions table shows them
    assert entries[0].detail["reason"] == "runaway AI spend" and entries[0].detail["max_concurrent_runs"] == 1
    again = web.post(f"/admin/power/costs/{tenant_id}/lift", data={"csrf_token": csrf}, follow_redirects=False)
    assert again.status_code == 409 and "not throttled" in again.text


def test_the_autopilot_runs_from_the_cost_monitor_and_says_what_it_did(
    web: TestClient, founder: dict[str, str]
) -> None:
    csrf = use_cookies(web, founder)

    checked = web.post("/admin/power/costs/check", data={"csrf_token": csrf}, follow_redirects=False)

    assert checked.status_code == 303
    found = re.fullmatch(
        r"/admin/power/costs\?done=checked&scanned=(\d+)&spikes=(\d+)&throttled=(\d+)", checked.headers["location"]
    )
    assert found and int(found.group(1)) >= 1
    page = web.get(checked.headers["location"])
    assert f"The autopilot checked {found.group(1)} tenants:" in page.text
    assert web.get("/admin/power/costs?done=checked&scanned=-1").status_code == 422


def audit(engine: Engine, tenant_id: str, prefix: str) -> list[AuditEntry]:
    with Session(engine) as session:
        rows = session.exec(
            select(AuditEntry)
            .where(AuditEntry.tenant_id == tenant_id, col(AuditEntry.action).startswith(prefix))
            .order_by(col(AuditEntry.at))
        ).all()
        return list(rows)


def start_gated_run(web: TestClient, tenant_id: str, gate: dict[str, Any]) -> str:
    """Starts a run of a gate then a payment, as the tenant's admin on the JSON API; waits until the gate waits."""
    key = web.post(f"/api/tenants/{tenant_id}/api-keys", json={"role": "admin"}, headers=founder_headers())
    headers = {"Authorization": f"Bearer {key.json()['key']}"}
    created = web.post("/api/workflows", json={"name": "Pay supplier", "steps": [gate, PAY, LOG]}, headers=headers)
    assert created.status_code == 201, created.text
    started = web.post(f"/api/workflows/{created.json()['id']}/runs", json={"input": SECRET_INPUT}, headers=headers)
    assert started.status_code == 202, started.text
    run_id = str(started.json()["run_id"])
    deadline = time.monotonic() + 15
    while web.get(f"/api/runs/{run_id}", headers=founder_headers()).json().get("waiting") is None:
        assert time.monotonic() < deadline, "the gate never waited"
        time.sleep(0.1)
    return run_id


def test_the_queue_shows_class_c_gates_of_two_tenants_masked_and_deciding_approves_the_run(
    web: TestClient, smtp_sink: SmtpSink, engine: Engine, founder: dict[str, str]
) -> None:
    first, second = f"Gatekeepers {uuid.uuid4().hex[:6]}", f"Second Bank {uuid.uuid4().hex[:6]}"
    first_id, second_id = make_tenant(web, first), make_tenant(web, second)
    run_a = start_gated_run(web, first_id, GATE_C)
    run_b = start_gated_run(web, second_id, GATE_C)
    run_tenant_b = start_gated_run(web, second_id, {**GATE_C, "class": "B"})
    csrf = use_cookies(web, founder)

    page = web.get("/admin/power/approvals")

    assert page.status_code == 200
    card_a, card_b = gate_card(page.text, run_a), gate_card(page.text, run_b)
    assert first in card_a and second in card_b
    assert "Pay supplier, version 1" in card_a and "wire_funds" in card_a
    assert "Wire 900 EUR to a***@example.com?" in card_a  # the step's rendered message, its address shortened
    assert "🔒 secrets.BANK_KEY" in card_a and "BANK_TOKEN" not in card_a  # a reference named; an auth header hidden
    for secret in ("hunter2-very-secret", "sk_live_abcdefghijklmnop", "ann.smith@example.com"):
        assert secret not in page.text
    assert run_tenant_b not in page.text  # class B waits for the tenant's admins, not here

    state = re.search(r"/admin/power/approvals/live\?state=([0-9a-f]+)", page.text)
    assert state and web.get(f"/admin/power/approvals/live?state={state.group(1)}").status_code == 204
    assert web.get("/admin/power/approvals/live?state=other").status_code == 200
    too_long = {"csrf_token": csrf, "decision": "approve", "comment": "x" * 2001}
    assert web.post(f"/admin/power/approvals/{run_a}/wire_funds", data=too_long).status_code == 422

    decided = web.post(
        f"/admin/power/approvals/{run_a}/wire_funds",
        data={"csrf_token": csrf, "decision": "approve", "comment": "Invoice 4711 checked"},
        follow_redirects=False,
    )

    assert decided.status_code == 303 and decided.headers["location"] == "/admin/power/approvals?done=approve"
    run = wait_past_gate(web, run_a)
    gate = next(step for step in run["steps"] if step["step_id"] == "wire_funds")
    assert gate["result"]["approved"] is True and gate["result"]["comment"] == "Invoice 4711 checked"
    assert FOUNDER_EMAIL in gate["result"]["decided_by"]
    assert run_a not in web.get("/admin/power/approvals").text
    entries = audit(engine, first_id, "approval.")
    assert [(e.action, e.detail["run_id"], e.detail.get("comment")) for e in entries] == [
        ("approval.approved", run_a, "Invoice 4711 checked")
    ]
    again = web.post(f"/admin/power/approvals/{run_a}/wire_funds", data={"csrf_token": csrf, "decision": "reject"})
    assert again.status_code == 409
    rejected = web.post(
        f"/admin/power/approvals/{run_b}/wire_funds",
        data={"csrf_token": csrf, "decision": "reject", "comment": "Unknown supplier"},
        follow_redirects=False,
    )
    assert rejected.status_code == 303
    gate_b = next(s for s in wait_past_gate(web, run_b)["steps"] if s["step_id"] == "wire_funds")
    assert gate_b["result"]["approved"] is False and gate_b["result"]["comment"] == "Unknown supplier"
    assert [e.action for e in audit(engine, second_id, "approval.")] == ["approval.rejected"]
    cancel(web, run_tenant_b)


def cancel(web: TestClient, run_id: str) -> None:
    """Ends a run the test left waiting (a gated run whose worker is gone slows every later listing of gates)."""
    assert web.post(f"/api/runs/{run_id}/cancel", headers=founder_headers()).status_code == 202


def gate_card(html: str, run_id: str) -> str:
    found = re.search(rf'<li class="card gate-card queue-gate" data-run="{run_id}".*?</li>', html, re.S)
    assert found, f"no gate of run {run_id} in the queue"
    return found.group(0)


def wait_past_gate(web: TestClient, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        body = web.get(f"/api/runs/{run_id}", headers=founder_headers()).json()
        if any(s["step_id"] == "wire_funds" and s["status"] != "waiting" for s in body["steps"]):
            return dict(body)
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


def test_a_class_c_gate_emails_the_founders_a_link_to_the_panels_queue(
    web: TestClient, smtp_sink: SmtpSink, founder: dict[str, str]
) -> None:
    tenant_id = make_tenant(web, "Noticed Co")

    run_id = start_gated_run(web, tenant_id, GATE_C)

    deadline = time.monotonic() + 15
    while not (mails := [m.message for m in list(smtp_sink.messages) if run_id in m.message.get_content()]):
        assert time.monotonic() < deadline, "no approval notice"
        time.sleep(0.05)
    body = mails[0].get_content()
    assert FOUNDER_EMAIL in [a for m in smtp_sink.messages if run_id in m.message.get_content() for a in m.rcpt_tos]
    assert "http://testserver/admin/power/approvals" in body and f"/app/runs/{run_id}" in body
    cancel(web, run_id)
    web.cookies.clear()
    opened = web.get("/admin/power/approvals", follow_redirects=False)
    assert (
        opened.status_code == 303 and (opened.cookies.get("levqor_next") or "").strip('"') == "/admin/power/approvals"
    )


@pytest.mark.parametrize("tag", ["ja", "hi"])
def test_the_panel_speaks_japanese_and_hindi_under_their_prefixes(
    web: TestClient, founder: dict[str, str], tag: str
) -> None:
    use_cookies(web, founder)

    queue, costs = web.get(f"/{tag}/admin/power/approvals"), web.get(f"/{tag}/admin/power/costs")
    tiles = web.get(f"/{tag}/admin/power/tiles")

    catalog = translations(tag)
    assert queue.status_code == costs.status_code == tiles.status_code == 200
    assert catalog.gettext("Waiting for a founder") in queue.text and "Waiting for a founder" not in queue.text
    assert f'hx-get="/{tag}/admin/power/approvals/live?state=' in queue.text  # the polling keeps the language
    assert catalog.gettext("Spend per tenant this month") in costs.text
    assert catalog.gettext("Uptime, 24 hours") in tiles.text and f'hx-get="/{tag}/admin/power/tiles"' in tiles.text
