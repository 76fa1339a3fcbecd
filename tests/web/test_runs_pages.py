"""Run pages and the approvals inbox through the app (TestClient, real Temporal): the list and its filters, a run's
page with its timeline, live fragment and buttons, decisions from the inbox, and the walls (roles, tenants, CSRF)."""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from api.web import runs_pages
from api.web.runs_view import start_range
from domain.run_history import archive_page
from schemas.tables import RunArchiveEntry
from tests.fakes.smtp import SmtpSink
from tests.fakes.target import TargetServer
from tests.web.conftest import invite_by_founder, make_tenant, signed_in_as, unique_email, use_cookies

GATE_B = {"id": "gate", "type": "approval", "class": "B", "message": "Refund {{ input.amount }} to <b>Ann</b>?"}
DONE = {"id": "done", "type": "log", "message": "done"}


@dataclass
class Team:
    tenant_id: str
    admin: dict[str, str]
    member: dict[str, str]


@pytest.fixture(scope="module")
def team(web: TestClient, smtp_sink: SmtpSink) -> Team:
    """A tenant with a signed-in admin and member (their cookies and CSRF tokens)."""
    tenant_id = make_tenant(web, "Runs Co")
    admin_email, member_email = unique_email("admin"), unique_email("member")
    invite_by_founder(web, tenant_id, admin_email, "admin")
    invite_by_founder(web, tenant_id, member_email, "member")
    return Team(tenant_id, signed_in_as(web, smtp_sink, admin_email), signed_in_as(web, smtp_sink, member_email))


def as_user(web: TestClient, user: dict[str, str]) -> dict[str, str]:
    """Acts as `user` from now on; the CSRF header its JSON calls need."""
    return {"X-CSRF-Token": use_cookies(web, user)}


def new_workflow(web: TestClient, team: Team, *steps: dict[str, Any]) -> str:
    headers = as_user(web, team.admin)
    created = web.post("/api/workflows", json={"name": "Refunds", "steps": list(steps)}, headers=headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def start(web: TestClient, team: Team, workflow_id: str, payload: dict[str, Any] | None = None) -> str:
    headers = as_user(web, team.admin)
    started = web.post(f"/api/workflows/{workflow_id}/runs", json={"input": payload or {}}, headers=headers)
    assert started.status_code == 202, started.text
    return str(started.json()["run_id"])


def until_run(web: TestClient, run_id: str, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        body = web.get(f"/api/runs/{run_id}").json()
        if check(body) or time.monotonic() > deadline:
            assert check(body), body
            return body
        time.sleep(0.05)


def closed(body: dict[str, Any]) -> bool:
    return body.get("closed_at") is not None


def gate_waits(body: dict[str, Any]) -> bool:
    return body.get("waiting") is not None


def form(user: dict[str, str], **fields: str) -> dict[str, str]:
    return {"csrf_token": user["csrf"], **fields}


def test_a_finished_runs_page_shows_its_timeline_and_each_step(
    web: TestClient, team: Team, target_server: TargetServer
) -> None:
    workflow_id = new_workflow(
        web,
        team,
        {"id": "hello", "type": "log", "message": "hello"},
        {"id": "fetch", "type": "http_request", "url": target_server.url + "/json", "headers": {"X-Api-Key": "k-123"}},
        {
            "id": "check",
            "type": "condition",
            "expression": "steps.fetch.body.value == 42",
            "then": "end",
            "else": "end",
        },
    )
    run_id = start(web, team, workflow_id)
    until_run(web, run_id, closed)

    page = web.get(f"/app/runs/{run_id}")

    assert page.status_code == 200
    assert 'role="img"' in page.text and page.text.count("✓ done") >= 3
    for step_id in ("hello", "fetch", "check"):
        assert f'data-step="{step_id}"' in page.text
    assert "Refunds" in page.text and "k-123" not in page.text and "(hidden)" in page.text
    assert "Cancel run" not in page.text and "hx-trigger" not in page.text


def test_the_list_filters_by_status_trigger_and_date_and_pages(
    web: TestClient, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow_id = new_workflow(web, team, DONE)
    run_ids = [start(web, team, workflow_id) for _ in range(3)]
    for run_id in run_ids:
        until_run(web, run_id, closed)
    as_user(web, team.member)
    monkeypatch.setattr(runs_pages, "PAGE_SIZE", 2)

    def listed(query: str) -> str:
        deadline = time.monotonic() + 10
        while True:  # visibility is eventually consistent
            page = web.get(f"/app/runs?workflow_id={workflow_id}&{query}")
            if sum(run_id in page.text for run_id in run_ids) >= 2 or time.monotonic() > deadline:
                return page.text
            time.sleep(0.1)

    first = listed("status=completed")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    by_trigger = web.get(f"/app/runs?workflow_id={workflow_id}&trigger=api&started_from={today}").text
    yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
    before_today = web.get(f"/app/runs?workflow_id={workflow_id}&started_to={yesterday}").text
    scheduled = web.get(f"/app/runs?workflow_id={workflow_id}&trigger=schedule").text
    failed = web.get(f"/app/runs?workflow_id={workflow_id}&status=failed").text

    assert sum(f"/app/runs/{run_id}" in first for run_id in run_ids) == 2 and 'rel="next"' in first
    assert all(f"/app/runs/{run_id}" in by_trigger for run_id in run_ids)
    assert not any(run_id in before_today for run_id in run_ids)
    assert not any(run_id in scheduled for run_id in run_ids) and "No runs match" in scheduled
    assert not any(run_id in failed for run_id in run_ids)
    assert web.get("/app/runs?status=exploded").status_code == 422
    assert web.get("/app/runs?started_from=yesterday").status_code == 422
    assert web.get("/app/runs?page_token=forged").status_code == 422


def test_archived_runs_are_listed_by_start_date(engine: Engine) -> None:
    tenant_id, day = f"t-{uuid.uuid4().hex[:12]}", datetime(2025, 3, 10, tzinfo=UTC)
    with Session(engine) as session:
        for n in range(3):  # started on the 9th, 10th and 11th, each closed a minute later
            started = day + timedelta(days=n - 1, hours=12)
            session.add(RunArchiveEntry(run_id=f"{tenant_id}-{n}", tenant_id=tenant_id, definition_id="wf", version=1,
                                        status="completed", trigger="api", started_at=started,
                                        closed_at=started + timedelta(minutes=1)))  # fmt: skip
        session.commit()
    since, until = start_range(day.date(), day.date())

    listed = archive_page(engine, tenant_id, None, None, day + timedelta(days=5), None, 10, since, until)
    from_the_10th = archive_page(engine, tenant_id, None, None, day + timedelta(days=5), None, 10, since)

    assert [run.run_id for run in listed] == [f"{tenant_id}-1"]
    assert [run.run_id for run in from_the_10th] == [f"{tenant_id}-2", f"{tenant_id}-1"]


def test_a_class_b_gate_is_decided_by_an_admin_and_not_by_a_member(web: TestClient, team: Team) -> None:
    run_id = start(web, team, new_workflow(web, team, GATE_B, DONE), {"amount": 30})
    until_run(web, run_id, gate_waits)

    as_user(web, team.member)
    member_page = web.get(f"/app/runs/{run_id}").text
    forged = web.post(f"/app/runs/{run_id}/approvals/gate", data=form(team.member, decision="approve"))
    as_user(web, team.admin)
    admin_page = web.get(f"/app/runs/{run_id}").text
    decided = web.post(
        f"/app/runs/{run_id}/approvals/gate",
        data=form(team.admin, decision="approve", comment="fine"),
        follow_redirects=False,
    )

    assert "Approve" not in member_page and "A tenant admin or the founder decides" in member_page
    assert "Refund 30 to &lt;b&gt;Ann&lt;/b&gt;?" in member_page and "<b>Ann</b>" not in member_page
    assert forged.status_code == 403 and "Your role may not decide this gate" in forged.text
    assert 'value="approve"' in admin_page and 'hx-trigger="every 5s"' in admin_page
    assert decided.status_code == 303 and decided.headers["location"] == f"/app/runs/{run_id}?done=approve"
    assert until_run(web, run_id, closed)["status"] == "completed"


def test_the_inbox_lists_the_gates_a_user_may_decide_and_decides_with_a_comment(web: TestClient, team: Team) -> None:
    run_id = start(web, team, new_workflow(web, team, GATE_B, DONE), {"amount": 7})
    until_run(web, run_id, gate_waits)

    as_user(web, team.member)
    member_inbox = web.get("/app/approvals").text
    as_user(web, team.admin)
    admin_inbox = web.get("/app/approvals").text
    decided = web.post(
        f"/app/runs/{run_id}/approvals/gate",
        data=form(team.admin, decision="reject", comment="too much", back_to="inbox"),
        follow_redirects=False,
    )

    assert run_id in member_inbox and "Waiting for someone else" in member_inbox
    assert 'name="decision"' not in member_inbox.split("Waiting for someone else")[1]
    assert run_id in admin_inbox.split("Waiting for you")[1].split("Waiting for someone else")[0]
    assert decided.status_code == 303 and decided.headers["location"] == "/app/approvals?done=reject"
    assert until_run(web, run_id, closed)["status"] == "rejected"


def test_a_failed_run_shows_its_error_and_only_an_admin_may_retry_it(
    web: TestClient, team: Team, target_server: TargetServer
) -> None:
    run_id = start(
        web,
        team,
        new_workflow(web, team, DONE, {"id": "call", "type": "http_request", "url": target_server.url + "/status/404"}),
    )
    until_run(web, run_id, closed)

    as_user(web, team.member)
    member_page = web.get(f"/app/runs/{run_id}").text
    forged = web.post(f"/app/runs/{run_id}/retry", data=form(team.member))
    as_user(web, team.admin)
    admin_page = web.get(f"/app/runs/{run_id}").text
    retried = web.post(f"/app/runs/{run_id}/retry", data=form(team.admin), follow_redirects=False)

    assert "What went wrong" in member_page and "✕ failed" in member_page
    assert "Retry from the failed step" not in member_page and forged.status_code == 403
    assert "Retry from the failed step" in admin_page
    assert retried.status_code == 303 and retried.headers["location"].endswith("?done=retried")
    new_run = retried.headers["location"].split("/app/runs/")[1].split("?")[0]
    assert new_run != run_id and until_run(web, new_run, closed)["resumed_from"] == run_id
    assert "↺ reused" in web.get(f"/app/runs/{new_run}").text


def test_a_running_run_is_polled_and_cancelled(web: TestClient, team: Team) -> None:
    run_id = start(web, team, new_workflow(web, team, {"id": "wait", "type": "delay", "seconds": 3600}, DONE))
    body = until_run(web, run_id, lambda r: r["current_step"] == "wait")
    as_user(web, team.member)

    page = web.get(f"/app/runs/{run_id}").text
    same = web.get(f"/app/runs/{run_id}/live", params={"state": "running::False"})
    no_csrf = web.post(f"/app/runs/{run_id}/cancel")
    cancelled = web.post(f"/app/runs/{run_id}/cancel", data=form(team.member), follow_redirects=False)
    until_run(web, run_id, closed)
    moved = web.get(f"/app/runs/{run_id}/live", params={"state": "running::False"})

    assert body["status"] == "running" and 'hx-trigger="every 1s"' in page and "Cancel run" in page
    assert "○ queued" in page and "▶ running" in page
    assert same.status_code == 200 and "HX-Refresh" not in same.headers and 'id="run-live"' in same.text
    assert no_csrf.status_code == 403 and cancelled.status_code == 303
    assert moved.headers.get("HX-Refresh") == "true" and "hx-trigger" not in moved.text


def test_another_tenants_run_answers_the_404_page(web: TestClient, team: Team, smtp_sink: SmtpSink) -> None:
    run_id = start(web, team, new_workflow(web, team, DONE))
    other_tenant = make_tenant(web, "Elsewhere")
    stranger_email = unique_email("stranger")
    invite_by_founder(web, other_tenant, stranger_email, "admin")
    stranger = signed_in_as(web, smtp_sink, stranger_email)

    page = web.get(f"/app/runs/{run_id}")
    live = web.get(f"/app/runs/{run_id}/live")
    cancel = web.post(f"/app/runs/{run_id}/cancel", data=form(stranger))
    listed = web.get("/app/runs").text

    assert page.status_code == 404 and "Page not found" in page.text
    assert live.status_code == 204 and live.headers["HX-Refresh"] == "true"  # the reload shows the 404 page
    assert cancel.status_code == 404 and run_id not in listed
