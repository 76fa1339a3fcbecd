"""The Admin Power Panel's operations views through the app (TestClient, real Temporal and TenantLifecycle): every
page 404 for a tenant's admin and member and 200 for the founder; each lifecycle action through its confirmation
changes the tenant's state and is audited as the founder, an illegal one answered with its message; the failure
queue's suggestion and a re-drive from the page, refused by admission while the tenant is suspended; a report's
findings and running the audit now; a plan card moved by its form (and by the board's JSON answer), an illegal
move refused, each move audited."""

import time
import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from schemas.tables import AuditEntry, ComplianceFinding, ComplianceReport, FailureEntry, UpgradePlan, User
from tests.conftest import founder_headers
from tests.fakes.smtp import SmtpSink
from tests.fakes.target import TargetServer
from tests.web.conftest import FOUNDER_EMAIL, signed_in_as, use_cookies
from tests.web.test_workspace_pages import LOG, Team, failure_entry, form, new_team, run_to_end

PAGES = ("/admin/power/tenants", "/admin/power/failures", "/admin/power/compliance", "/admin/power/upgrades")


@pytest.fixture(scope="module")
def founder(web: TestClient, smtp_sink: SmtpSink) -> dict[str, str]:
    return signed_in_as(web, smtp_sink, FOUNDER_EMAIL)


@pytest.fixture(scope="module")
def team(web: TestClient, smtp_sink: SmtpSink) -> Team:
    return new_team(web, smtp_sink, f"Ops <Co> {uuid.uuid4().hex[:6]}")


def founder_actor(engine: Engine) -> str:
    with Session(engine) as session:
        user = session.exec(select(User).where(User.email == FOUNDER_EMAIL)).one()
    return f"user:{user.id}"


def audit_actions(engine: Engine, tenant_id: str | None, action_prefix: str) -> list[AuditEntry]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(AuditEntry)
                .where(AuditEntry.tenant_id == tenant_id, col(AuditEntry.action).startswith(action_prefix))
                .order_by(col(AuditEntry.at))
            ).all()
        )


def add_plan(engine: Engine, title: str, status: str = "open") -> str:
    with Session(engine) as session:
        plan = UpgradePlan(
            fingerprint=f"test:{uuid.uuid4()}", title=title, description="Why it matters", status=status,
            priority=2, category="reliability", risk_level="medium", source="test",
        )  # fmt: skip
        session.add(plan)
        session.commit()
        return plan.id


def test_every_ops_page_is_404_for_tenant_users_and_200_for_the_founder(
    web: TestClient, team: Team, founder: dict[str, str], engine: Engine
) -> None:
    plan_id = add_plan(engine, "Cache the pricing table")
    tenant_pages = (f"/admin/power/tenants/{team.tenant_id}", f"/admin/power/tenants/{team.tenant_id}/suspend")

    for user in (team.admin, team.member):
        use_cookies(web, user)
        for path in (*PAGES, *tenant_pages):
            assert web.get(path).status_code == 404, path
        forged = web.post(f"/admin/power/tenants/{team.tenant_id}/suspend", data=form(user))
        moved = web.post(f"/admin/power/upgrades/{plan_id}/move", data=form(user, status="applied"))
        assert (forged.status_code, moved.status_code) == (404, 404)
    use_cookies(web, founder)
    for path in (*PAGES, *tenant_pages):
        page = web.get(path)
        assert page.status_code == 200, path
        assert 'aria-label="Admin Power Panel"' in page.text
    assert web.get("/admin/power/tenants?status=bogus").status_code == 422
    assert web.get("/admin/power/tenants/no-such-tenant").status_code == 404
    assert web.get(f"/api/tenants/{team.tenant_id}", headers=founder_headers()).json()["status"] == "active"


def test_each_lifecycle_action_through_its_confirmation_changes_the_tenant_and_is_audited(
    web: TestClient, smtp_sink: SmtpSink, founder: dict[str, str], engine: Engine
) -> None:
    doomed = new_team(web, smtp_sink, f"Lifecycle Ltd {uuid.uuid4().hex[:6]}")
    base = f"/admin/power/tenants/{doomed.tenant_id}"
    csrf = use_cookies(web, founder)

    def state() -> str:
        return str(web.get(f"/api/tenants/{doomed.tenant_id}", headers=founder_headers()).json()["status"])

    asked = web.get(f"{base}/suspend")
    suspended = web.post(
        f"{base}/suspend", data={"csrf_token": csrf, "reason": "unpaid invoice"}, follow_redirects=False
    )
    assert "Suspend " + doomed.name + "?" in asked.text and "Its runs in flight are cancelled" in asked.text
    assert suspended.status_code == 303 and suspended.headers["location"] == f"{base}?done=suspend"
    assert state() == "suspended"
    assert "Suspended. Its runs in flight were cancelled" in web.get(suspended.headers["location"]).text

    again = web.post(f"{base}/suspend", data={"csrf_token": csrf})
    assert again.status_code == 409 and "Only an active tenant can be suspended." in again.text
    assert state() == "suspended"

    assert web.post(f"{base}/resume", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert state() == "active"

    asked = web.get(f"{base}/delete")
    wrong = web.post(f"{base}/delete", data={"csrf_token": csrf, "confirm_name": "lifecycle"})
    assert f"Type {doomed.name} to confirm" in asked.text and "grace period" in asked.text
    assert wrong.status_code == 422 and "Nothing was deleted" in wrong.text and state() == "active"
    deleted = web.post(f"{base}/delete", data={"csrf_token": csrf, "confirm_name": doomed.name}, follow_redirects=False)
    assert deleted.status_code == 303 and state() == "deleted"
    page = web.get(base).text
    assert "Erased for good" in page and f"Active to Suspended by {FOUNDER_EMAIL}" in page

    assert web.post(f"{base}/restore", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert state() == "active"

    throttled = web.post(
        f"{base}/throttle", data={"csrf_token": csrf, "reason": "spend spike", "max_concurrent_runs": "1"},
        follow_redirects=False,
    )  # fmt: skip
    assert throttled.status_code == 303
    assert (
        web.get(f"/api/tenants/{doomed.tenant_id}", headers=founder_headers()).json()["throttle"]["max_concurrent_runs"]
        == 1
    )
    assert "At most 1 runs at once" in web.get(base).text
    assert web.post(f"{base}/lift", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    not_throttled = web.post(f"{base}/lift", data={"csrf_token": csrf})
    assert not_throttled.status_code == 409 and "This tenant is not throttled." in not_throttled.text

    actor = founder_actor(engine)
    changes = audit_actions(engine, doomed.tenant_id, "tenant.")
    assert [(e.action, e.actor) for e in changes] == [
        ("tenant.suspended", actor), ("tenant.resumed", actor), ("tenant.deleted", actor), ("tenant.restored", actor),
        ("tenant.throttled", actor), ("tenant.throttle_lifted", actor),
    ]  # fmt: skip
    assert changes[0].detail["reason"] == "unpaid invoice"
    assert web.post(f"{base}/suspend", data={"csrf_token": "wrong"}).status_code == 403
    assert state() == "active"
    assert web.post(f"{base}/explode", data={"csrf_token": csrf}).status_code in (404, 405, 422)


def test_the_tenants_list_shows_status_usage_and_throttle_and_filters_by_status(
    web: TestClient, team: Team, founder: dict[str, str]
) -> None:
    run_to_end(web, team, LOG)
    use_cookies(web, founder)

    listed = web.get("/admin/power/tenants", params={"q": team.name})
    suspended_only = web.get("/admin/power/tenants", params={"status": "suspended", "q": team.name})

    assert listed.status_code == 200 and "Ops &lt;Co&gt;" in listed.text and "Ops <Co>" not in listed.text
    assert f'href="/admin/power/tenants/{team.tenant_id}"' in listed.text
    assert "1 of 20,000" in listed.text and "<meter" in listed.text and "tenant-status-active" in listed.text
    assert team.tenant_id not in suspended_only.text and "No tenant matches" in suspended_only.text
    detail = web.get(f"/admin/power/tenants/{team.tenant_id}").text
    assert 'class="usage-chart"' in detail and "user.invited" in detail and "Suspend<span" in detail
    keys = web.get(f"/api/tenants/{team.tenant_id}/api-keys", headers=founder_headers()).json()
    assert f"<code>{keys[0]['prefix']}…</code>" in detail and "first key" in detail
    assert '<input type="hidden" name="tenant" value="' + team.tenant_id + '">' in detail


def test_the_failure_queue_shows_the_suggestion_and_redrives_a_run_once_admission_lets_it(
    web: TestClient, smtp_sink: SmtpSink, founder: dict[str, str], target_server: TargetServer, engine: Engine
) -> None:
    team = new_team(web, smtp_sink, f"Failing Inc {uuid.uuid4().hex[:6]}")
    run_id = run_to_end(
        web, team, LOG, {"id": "charge", "type": "http_request", "url": target_server.url + "/status/404"}
    )
    entry = failure_entry(engine, run_id)
    with Session(engine) as session:
        row = session.get(FailureEntry, entry.id)
        assert row is not None
        row.category, row.suggestion, row.assessed_at = "auth_4xx", "Check the <URL>.", datetime.now(UTC)
        session.add(row)
        session.commit()
    csrf = use_cookies(web, founder)

    queue = web.get("/admin/power/failures", params={"tenant": team.tenant_id})
    web.post(f"/api/tenants/{team.tenant_id}/suspend", json={}, headers=founder_headers())
    refused = web.post(f"/admin/power/failures/{run_id}/redrive", data={"csrf_token": csrf})
    web.post(f"/api/tenants/{team.tenant_id}/resume", json={}, headers=founder_headers())
    redriven = web.post(f"/admin/power/failures/{run_id}/redrive", data={"csrf_token": csrf}, follow_redirects=False)

    assert "Check the &lt;URL&gt;." in queue.text and "Refused by the target (4xx)</span>" in queue.text
    assert team.name in queue.text
    assert 'class="failures-chart"' in queue.text and "1 run failed in these 14 days." in queue.text
    assert f'action="/admin/power/failures/{run_id}/redrive"' in queue.text and "HttpClientError" in queue.text
    assert refused.status_code == 403 and "The run was not re-driven." in refused.text
    assert redriven.status_code == 303 and "redriven=" in redriven.headers["location"]
    new_run = redriven.headers["location"].split("redriven=")[1]
    shown = web.get(redriven.headers["location"]).text
    assert "Re-driven: a new run resumes at the failed step." in shown and f'href="/app/runs/{new_run}"' in shown
    assert web.get(f"/app/runs/{new_run}").status_code == 200
    assert web.get("/admin/power/failures", params={"redriven": "../x"}).status_code == 422
    assert run_id not in web.get("/admin/power/failures", params={"tenant": team.tenant_id}).text
    assert [(e.actor, e.detail["new_run_id"]) for e in audit_actions(engine, team.tenant_id, "run.redriven")] == [
        (founder_actor(engine), new_run)
    ]


def test_compliance_shows_reports_with_findings_and_runs_the_audit_now(
    web: TestClient, founder: dict[str, str], engine: Engine
) -> None:
    now = datetime.now(UTC)
    with Session(engine) as session:
        report = ComplianceReport(
            status="completed", trigger="schedule", started_at=now, finished_at=now, score=73,
            counts={"critical": 1, "low": 1},
        )  # fmt: skip
        session.add(report)
        session.flush()
        report_id = report.id
        session.add_all([
            ComplianceFinding(report_id=report_id, check="dsar_overdue", severity="critical", penalty=25,
                              title="An erasure request is past its deadline", remediation="Complete it <today>",
                              detail={"request_id": "r-1"}),
            ComplianceFinding(report_id=report_id, check="key_unused", severity="low", penalty=2,
                              title="An API key is unused", remediation="Revoke it"),
        ])  # fmt: skip
        session.commit()
    csrf = use_cookies(web, founder)

    listing = web.get("/admin/power/compliance")
    detail = web.get(f"/admin/power/compliance/{report_id}")
    critical_only = web.get(f"/admin/power/compliance/{report_id}", params={"severity": "critical"})

    assert f'href="/admin/power/compliance/{report_id}"' in listing.text and 'class="compliance-chart"' in listing.text
    assert "score-fair" in listing.text and "Critical: 1" in listing.text
    assert "An erasure request is past its deadline" in detail.text and "Complete it &lt;today&gt;" in detail.text
    assert "2 findings" in detail.text and 'class="severity-chart"' in detail.text and "r-1" in detail.text
    assert "An API key is unused" not in critical_only.text
    assert web.get("/admin/power/compliance/nope").status_code == 404
    assert web.get(f"/admin/power/compliance/{report_id}", params={"severity": "dire"}).status_code == 422

    started = web.post("/admin/power/compliance/run", data={"csrf_token": csrf}, follow_redirects=False)
    assert started.status_code == 303
    new_report = started.headers["location"].split("/compliance/")[1].split("?")[0]
    assert 'hx-trigger="every 2s"' in web.get(started.headers["location"]).text
    deadline = time.monotonic() + 60
    while "out of 100" not in (page := web.get(f"/admin/power/compliance/{new_report}").text):
        assert time.monotonic() < deadline, "the audit did not finish"
        time.sleep(0.5)
    assert "hx-trigger" not in page
    assert [e.detail["report_id"] for e in audit_actions(engine, None, "compliance.audit_started")][-1] == new_report


def test_a_plan_card_moves_by_its_form_or_the_boards_json_and_an_illegal_move_is_refused(
    web: TestClient, founder: dict[str, str], engine: Engine
) -> None:
    plan_id = add_plan(engine, "Retry the <flaky> webhook")
    archived_id = add_plan(engine, "An old idea", status="archived")
    csrf = use_cookies(web, founder)

    board = web.get("/admin/power/upgrades")
    moved = web.post(f"/admin/power/upgrades/{plan_id}/move", data={"csrf_token": csrf, "status": "in_progress"},
                     follow_redirects=False)  # fmt: skip
    by_script = web.post(
        f"/admin/power/upgrades/{plan_id}/move", data={"csrf_token": csrf, "status": "applied"},
        headers={"Accept": "application/json"},
    )  # fmt: skip
    refused = web.post(f"/admin/power/upgrades/{archived_id}/move", data={"csrf_token": csrf, "status": "applied"})
    refused_json = web.post(
        f"/admin/power/upgrades/{plan_id}/move", data={"csrf_token": csrf, "status": "open"},
        headers={"Accept": "application/json"},
    )  # fmt: skip

    assert 'data-column="in_progress"' in board.text and "Retry the &lt;flaky&gt; webhook" in board.text
    assert f'action="/admin/power/upgrades/{plan_id}/move"' in board.text and "upgrade-board.js" in board.text
    assert moved.status_code == 303 and "Moved to In progress." in web.get(moved.headers["location"]).text
    assert by_script.status_code == 200 and by_script.json()["status"] == "applied"
    assert by_script.json()["message"] == "Retry the <flaky> webhook moved to Applied."
    assert refused.status_code == 409 and "An archived plan stays archived" in refused.text
    assert (refused_json.status_code, refused_json.json()["code"]) == (409, "plan_not_reopenable")
    with Session(engine) as session:
        assert [session.get(UpgradePlan, i).status for i in (plan_id, archived_id)] == ["applied", "archived"]  # type: ignore[union-attr]
    moves = [e.detail for e in audit_actions(engine, None, "upgrade_plan.moved") if e.detail["plan_id"] == plan_id]
    assert [(m["from"], m["to"]) for m in moves] == [("open", "in_progress"), ("in_progress", "applied")]
    assert (
        web.post(f"/admin/power/upgrades/{plan_id}/move", data={"csrf_token": csrf, "status": "done"}).status_code
        == 422
    )


def test_the_ops_pages_speak_the_readers_language(web: TestClient, team: Team, founder: dict[str, str]) -> None:
    use_cookies(web, founder)

    tenants = web.get("/ja/admin/power/tenants", params={"q": team.name})
    confirm = web.get(f"/hi/admin/power/tenants/{team.tenant_id}/delete")
    board = web.get("/de/admin/power/upgrades")
    failures = web.get("/zh-CN/admin/power/failures")

    assert tenants.status_code == 200 and "名前または ID" in tenants.text and "Name or id" not in tenants.text
    assert f'href="/ja/admin/power/tenants/{team.tenant_id}"' in tenants.text
    assert (
        "छूट अवधि" in confirm.text
        and f"पुष्टि करने के लिए {team.name.replace('<', '&lt;').replace('>', '&gt;')} लिखें" in confirm.text
    )
    assert "Planer jetzt ausführen" in board.text and "In Arbeit" in board.text
    assert "所有租户中步骤在全部重试后仍失败的运行" in failures.text
