"""The workspace's other sections through the app (TestClient, real Temporal): home's figures and usage picture,
the failure queue, secrets, usage & billing (checkout and portal through the fake Stripe), and data requests
(export, download, delete); the walls: members without admin controls whose forged posts are refused, CSRF, another
tenant's ids answering the 404 page, and state never changing on GET."""

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from api.main import create_app
from api.web.home_pages import action_words, actor_name
from api.web.usage_chart import describe, usage_svg
from core.settings import Settings
from schemas.audit import AuditEntryPublic
from schemas.tables import FailureEntry, TenantSecret
from schemas.usage import MetricUsage, UsagePublic
from tests.conftest import founder_headers
from tests.fakes.smtp import SmtpSink
from tests.fakes.target import TargetServer
from tests.web.conftest import invite_by_founder, make_tenant, signed_in_as, unique_email, use_cookies

LOG = {"id": "hello", "type": "log", "message": "hello"}


@dataclass
class Team:
    tenant_id: str
    name: str
    admin: dict[str, str]
    member: dict[str, str]


def new_team(web: TestClient, sink: SmtpSink, name: str) -> Team:
    tenant_id = make_tenant(web, name)
    admin_email, member_email = unique_email("admin"), unique_email("member")
    invite_by_founder(web, tenant_id, admin_email, "admin")
    invite_by_founder(web, tenant_id, member_email, "member")
    return Team(tenant_id, name, signed_in_as(web, sink, admin_email), signed_in_as(web, sink, member_email))


@pytest.fixture(scope="module")
def team(web: TestClient, smtp_sink: SmtpSink) -> Team:
    return new_team(web, smtp_sink, "Workspace <Co>")


@pytest.fixture(scope="module")
def other(web: TestClient, smtp_sink: SmtpSink) -> Team:
    return new_team(web, smtp_sink, "Other Co")


def act_as(web: TestClient, user: dict[str, str]) -> dict[str, str]:
    return {"X-CSRF-Token": use_cookies(web, user)}


def form(user: dict[str, str], **fields: str) -> dict[str, str]:
    return {"csrf_token": user["csrf"], **fields}


def run_to_end(web: TestClient, team: Team, *steps: dict[str, Any]) -> str:
    headers = act_as(web, team.admin)
    workflow = web.post("/api/workflows", json={"name": "Nightly sync", "steps": list(steps)}, headers=headers)
    assert workflow.status_code == 201, workflow.text
    started = web.post(f"/api/workflows/{workflow.json()['id']}/runs", json={"input": {}}, headers=headers)
    assert started.status_code == 202, started.text
    run_id = str(started.json()["run_id"])
    deadline = time.monotonic() + 20
    while web.get(f"/api/runs/{run_id}").json().get("closed_at") is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return run_id


def failure_entry(engine: Engine, run_id: str) -> FailureEntry:
    deadline = time.monotonic() + 15
    with Session(engine) as session:
        while (entry := session.exec(select(FailureEntry).where(FailureEntry.run_id == run_id)).first()) is None:
            assert time.monotonic() < deadline, "the failed run left no failure-queue entry"
            time.sleep(0.1)
        return entry


def test_home_shows_the_figures_the_usage_picture_with_its_limit_line_and_recent_activity(
    web: TestClient, team: Team
) -> None:
    run_to_end(web, team, LOG)
    run_to_end(web, team, LOG)
    act_as(web, team.member)

    deadline = time.monotonic() + 10
    while True:  # today's runs are a visibility count, which follows the runs' starts within moments
        home = web.get("/app")
        today = re.search(r'Runs today</h3>\s*<p class="stat-value">(\d+)</p>', home.text)
        if (today and int(today.group(1)) >= 2) or time.monotonic() > deadline:
            break
        time.sleep(0.1)

    assert home.status_code == 200
    assert today and int(today.group(1)) >= 2
    assert 'class="usage-chart"' in home.text and 'class="uc-limit"' in home.text and 'role="img"' in home.text
    assert "2 of 20,000 · 0%" in home.text  # the pro plan's runs, in words beside the bar
    assert "User invited" in home.text  # the founder's invitations, from the audit log
    assert "Workspace &lt;Co&gt;" in home.text and "Workspace <Co>" not in home.text
    assert 'href="/app/failures"' in home.text and "Coming soon" not in home.text.split("All sections")[1]


def test_the_usage_picture_draws_each_metric_against_its_limit_and_says_it_in_words() -> None:
    usage = UsagePublic(
        tenant_id="t", plan="free", period="2026-12", resets_at=datetime(2027, 1, 1, tzinfo=UTC), spend_usd=0.0,
        metrics={"runs": MetricUsage(used=120, limit=100), "steps": MetricUsage(used=850, limit=1000),
                 "api_calls": MetricUsage(used=3, limit=10_000), "ai_credits": MetricUsage(used=0, limit=100)},
    )  # fmt: skip

    svg = usage_svg(usage, "t")

    widths = [float(w) for w in re.findall(r'class="uc-bar uc-bar-\w+" x="\d+" y="[\d.]+" width="([\d.]+)"', svg)]
    assert widths == [460.8, 326.4, 0.0]  # 120% passes the limit line (at 384 of 480); 85% stops short of it
    assert svg.count('class="uc-limit" x1="384.0"') == 3 and "uc-bar-over" in svg and "uc-bar-near" in svg
    assert describe(usage).startswith("Runs: 120 of 100 · 120%, limit reached; Steps: 850 of 1,000 · 85%, near")
    unlimited = usage.model_copy(update={"metrics": {m: MetricUsage(used=5, limit=None) for m in usage.metrics}})
    assert "uc-limit" not in usage_svg(unlimited).split("</desc>")[1].replace("uc-limit-label", "")


def test_activity_reads_as_people_say_it() -> None:
    entry = AuditEntryPublic(id="1", actor="user:u1", action="user.role_changed", at=datetime.now(UTC))

    assert (str(actor_name(entry, {"u1": "ann@example.com"})), str(action_words(entry))) == (
        "ann@example.com",
        "User role changed",
    )
    assert str(actor_name(entry.model_copy(update={"actor": "key:k1"}), {})) == "an API key"
    assert str(action_words(entry.model_copy(update={"action": "api_key.created"}))) == "API key created"


def test_the_failure_queue_lists_a_failure_with_its_suggestion_and_retries_it_for_admins_only(
    web: TestClient, team: Team, target_server: TargetServer, engine: Engine
) -> None:
    run_id = run_to_end(
        web, team, LOG, {"id": "charge", "type": "http_request", "url": target_server.url + "/status/404"}
    )
    entry = failure_entry(engine, run_id)
    with Session(engine) as session:
        row = session.get(FailureEntry, entry.id)
        assert row is not None
        row.category, row.suggestion, row.assessed_at = "client_error", "Check the <URL>.", datetime.now(UTC)
        session.add(row)
        session.commit()

    act_as(web, team.member)
    as_member = web.get("/app/failures").text
    forged = web.post(f"/app/runs/{run_id}/retry", data=form(team.member), follow_redirects=False)
    act_as(web, team.admin)
    as_admin = web.get("/app/failures?status=open&priority=any").text
    retried = web.post(f"/app/runs/{run_id}/retry", data=form(team.admin), follow_redirects=False)

    assert f'href="/app/runs/{run_id}"' in as_member and "Check the &lt;URL&gt;." in as_member
    assert "Retry from charge" not in as_member and forged.status_code == 403
    assert f'action="/app/runs/{run_id}/retry"' in as_admin and "Retry from charge" in as_admin
    assert retried.status_code == 303 and retried.headers["location"].endswith("done=retried")
    assert run_id not in web.get("/app/failures").text
    assert f'href="/app/runs/{run_id}"' in web.get("/app/failures?status=redriven").text
    assert web.get("/app/failures?status=bogus").status_code == 422


def test_an_admin_sets_and_deletes_a_secret_whose_value_is_never_shown(web: TestClient, team: Team) -> None:
    act_as(web, team.admin)

    saved = web.post(
        "/app/secrets", data=form(team.admin, name="CRM_TOKEN", value="s3cr3t-value"), follow_redirects=False
    )
    listed = web.get(saved.headers["location"])
    confirm = web.get("/app/secrets/CRM_TOKEN/delete")
    deleted = web.post("/app/secrets/CRM_TOKEN/delete", data=form(team.admin), follow_redirects=False)

    assert saved.status_code == 303
    assert "<code>CRM_TOKEN</code>" in listed.text and "s3cr3t-value" not in listed.text
    assert 'type="password"' in listed.text and "Secret CRM_TOKEN saved." in listed.text
    assert confirm.status_code == 200 and "SecretNotFound" in confirm.text
    assert deleted.status_code == 303 and "<code>CRM_TOKEN</code>" not in web.get("/app/secrets").text
    bad = web.post("/app/secrets", data=form(team.admin, name="lower case", value="x"))
    assert bad.status_code == 422 and "UPPER_SNAKE_CASE" in bad.text
    assert web.post("/app/secrets/NEVER_SET/delete", data=form(team.admin)).status_code == 404


def test_a_member_sees_secret_names_only_and_forged_or_csrf_less_posts_change_nothing(
    web: TestClient, team: Team, other: Team, engine: Engine
) -> None:
    act_as(web, team.admin)
    assert web.post("/app/secrets", data=form(team.admin, name="KEEP_ME", value="v1")).status_code == 200
    act_as(web, other.admin)
    assert web.post("/app/secrets", data=form(other.admin, name="THEIRS", value="v")).status_code == 200

    act_as(web, team.member)
    page = web.get("/app/secrets").text
    forged_set = web.post("/app/secrets", data=form(team.member, name="KEEP_ME", value="evil"))
    forged_delete = web.post("/app/secrets/KEEP_ME/delete", data=form(team.member))
    act_as(web, team.admin)
    no_csrf = web.post("/app/secrets/KEEP_ME/delete", data={"csrf_token": "wrong"})
    foreign = web.post("/app/secrets/THEIRS/delete", data=form(team.admin))
    on_get = web.get("/app/secrets/KEEP_ME/delete")

    assert "<code>KEEP_ME</code>" in page and "Save secret" not in page and "/delete" not in page
    assert "THEIRS" not in page
    assert (forged_set.status_code, forged_delete.status_code, no_csrf.status_code) == (403, 403, 403)
    assert foreign.status_code == 404 and "We could not find that page" in foreign.text
    assert on_get.status_code == 200
    with Session(engine) as session:
        names = {s.name for s in session.exec(select(TenantSecret).where(TenantSecret.tenant_id == team.tenant_id))}
        assert "KEEP_ME" in names
    assert "THEIRS" in {s.name for s in Session(engine).exec(select(TenantSecret))}


def test_usage_and_billing_shows_the_plan_and_sends_an_admin_to_stripe(web: TestClient, team: Team) -> None:
    act_as(web, team.member)
    member_page = web.get("/app/usage")
    forged = web.post("/app/usage/checkout", data=form(team.member, item="pro"), follow_redirects=False)
    act_as(web, team.admin)
    admin_page = web.get("/app/usage")
    no_email = web.post("/app/usage/checkout", data=form(team.admin, item="starter"), follow_redirects=False)
    checkout = web.post(
        "/app/usage/checkout", data=form(team.admin, item="dfy_growth", billing_email="ap@ws.example"),
        follow_redirects=False,
    )  # fmt: skip
    portal = web.post("/app/usage/portal", data=form(team.admin), follow_redirects=False)

    assert member_page.status_code == 200 and "Continue to payment" not in member_page.text
    assert 'class="usage-chart"' in member_page.text and "Billable steps" in member_page.text
    assert forged.status_code == 403
    assert "Continue to payment" in admin_page.text and "Open the billing portal" in admin_page.text
    assert no_email.status_code == 422 and "billing e-mail" in no_email.text
    assert checkout.status_code == 303 and "cs_test_" in checkout.headers["location"], checkout.text
    assert portal.status_code == 409 and "Buy a plan or package first" in portal.text


def test_without_stripe_a_checkout_says_payments_are_not_set_up(
    web: TestClient, team: Team, settings: Settings
) -> None:
    keyless = settings.model_copy(update={"stripe_api_key": None, "api_embedded_worker": False})
    with TestClient(create_app(keyless)) as app:
        for name, value in team.admin.items():
            if name != "csrf":
                app.cookies.set(name, value)

        answer = app.post("/app/usage/checkout", data=form(team.admin, item="pro", billing_email="a@ws.example"))

    assert answer.status_code == 503 and "Payments are not set up on this platform yet" in answer.text


def test_an_admin_exports_the_data_and_downloads_it_when_ready(web: TestClient, team: Team, other: Team) -> None:
    act_as(web, team.admin)

    requested = web.post("/app/data/export", data=form(team.admin), follow_redirects=False)
    deadline = time.monotonic() + 20
    while (
        request_id := re.search(r"/app/data/exports/([0-9a-f-]+)/download", page := web.get("/app/data").text)
    ) is None:
        assert time.monotonic() < deadline, page
        time.sleep(0.2)
    download = web.get(f"/app/data/exports/{request_id.group(1)}/download")

    assert requested.status_code == 303
    assert download.status_code == 200 and download.headers["content-type"].startswith("application/json")
    assert download.headers["content-disposition"].startswith('attachment; filename="levqor-export-')
    archive = json.loads(download.text)
    assert archive["id"] == request_id.group(1) and archive["status"] == "completed" and archive["archive"]
    act_as(web, other.admin)
    assert web.get(f"/app/data/exports/{request_id.group(1)}/download").status_code == 404
    act_as(web, team.member)
    member = web.get("/app/data").text
    assert "Data export" in member and "Request an export" not in member and "/download" not in member
    assert web.get(f"/app/data/exports/{request_id.group(1)}/download").status_code == 403
    assert web.post("/app/data/export", data=form(team.member)).status_code == 403


@pytest.fixture
def doomed(web: TestClient, smtp_sink: SmtpSink) -> Iterator[Team]:
    yield new_team(web, smtp_sink, "Doomed Ltd")


def test_deleting_the_account_needs_its_name_typed_and_signs_out(web: TestClient, doomed: Team) -> None:
    act_as(web, doomed.member)
    assert web.post("/app/data/delete", data=form(doomed.member, confirm_name="Doomed Ltd")).status_code == 403
    act_as(web, doomed.admin)
    confirm = web.get("/app/data/delete")

    wrong = web.post("/app/data/delete", data=form(doomed.admin, confirm_name="doomed"))
    deleted = web.post("/app/data/delete", data=form(doomed.admin, confirm_name="Doomed Ltd"))

    assert confirm.status_code == 200 and "Type <strong>Doomed Ltd</strong> to confirm" in confirm.text
    assert wrong.status_code == 422 and "Nothing was deleted" in wrong.text
    assert deleted.status_code == 200 and "Doomed Ltd is deleted" in deleted.text
    assert web.get("/app", follow_redirects=False).headers["location"] == "/sign-in"
    assert web.get(f"/api/tenants/{doomed.tenant_id}", headers=founder_headers()).json()["status"] == "deleted"


def test_the_founder_sees_every_tenants_figures_and_a_word_on_tenant_sections(
    web: TestClient, smtp_sink: SmtpSink
) -> None:
    signed_in_as(web, smtp_sink, "founder@levqor.test")

    pages = {path: web.get(path) for path in ("/app", "/app/failures", "/app/secrets", "/app/usage", "/app/data")}

    assert all(page.status_code == 200 for page in pages.values()), {p: r.status_code for p, r in pages.items()}
    assert "Figures below count every tenant" in pages["/app"].text
    assert "Secrets belong to a tenant" in pages["/app/secrets"].text
    assert "Usage and billing belong to a tenant" in pages["/app/usage"].text


def test_a_suspended_tenants_admin_may_pay_and_export_but_change_nothing_else(
    web: TestClient, smtp_sink: SmtpSink
) -> None:
    team = new_team(web, smtp_sink, "Paused Co")
    suspended = web.post(f"/api/tenants/{team.tenant_id}/suspend", json={"reason": "unpaid"}, headers=founder_headers())
    assert suspended.status_code == 200, suspended.text
    act_as(web, team.admin)

    pay = web.post(
        "/app/usage/checkout", data=form(team.admin, item="dfy_growth", billing_email="ap@paused.example"),
        follow_redirects=False,
    )  # fmt: skip
    export = web.post("/app/data/export", data=form(team.admin), follow_redirects=False)
    secret = web.post("/app/secrets", data=form(team.admin, name="NOPE", value="v"))

    assert pay.status_code == 303 and "cs_test_" in pay.headers["location"]
    assert export.status_code == 303
    assert secret.status_code == 403 and "suspended" in secret.text
