"""Browser journeys through the run pages in Chromium: a 3-step run watched live until its timeline shows every step
done, a class B gate approved from the inbox, a member without retry/approve controls whose forged POSTs are refused,
and another tenant's run answering the 404 page; every page checked with axe-core, light and dark."""

import re
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import Session, select

from schemas.tables import FailureEntry
from tests.conftest import founder_headers
from tests.fakes.smtp import SmtpSink
from tests.fakes.target import TargetServer
from tests.web.browser.conftest import check_page
from tests.web.browser.test_journeys import sign_in_by_link
from tests.web.conftest import unique_email, wait_for_link

GATE_B = {"id": "approve_refund", "type": "approval", "class": "B", "message": "Refund {{ input.amount }} EUR to Ann?"}
DONE = {"id": "notify", "type": "log", "message": "done"}
FORGE = """async ([path, body]) => (await fetch(path, {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/x-www-form-urlencoded'},
    body: body + '&csrf_token=' + encodeURIComponent(JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'])
})).status"""


class Tenant:
    """A tenant made with the founder token, its admin key for the JSON API, and users invited by e-mail."""

    def __init__(self, live_url: str, sink: SmtpSink, name: str) -> None:
        self.live_url, self.sink = live_url, sink
        with httpx.Client(base_url=live_url, headers=founder_headers()) as api:
            created = api.post("/api/tenants", json={"name": name, "plan": "pro"}).json()
        self.id, self.key = created["tenant"]["id"], created["api_key"]["key"]

    def user(self, role: str) -> str:
        email = unique_email(role)
        with httpx.Client(base_url=self.live_url, headers=founder_headers()) as api:
            assert api.post(f"/api/tenants/{self.id}/users", json={"email": email, "role": role}).status_code == 201
        wait_for_link(self.sink, email)
        return email

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        with httpx.Client(base_url=self.live_url, headers={"Authorization": f"Bearer {self.key}"}) as api:
            answer = api.request(method, path, json=body)
        assert answer.status_code < 300, answer.text
        return answer.json()

    def run(self, name: str, *steps: dict[str, Any], payload: dict[str, Any] | None = None) -> str:
        workflow_id = self.api("POST", "/api/workflows", {"name": name, "steps": list(steps)})["id"]
        return str(self.api("POST", f"/api/workflows/{workflow_id}/runs", {"input": payload or {}})["run_id"])

    def until(self, run_id: str, key: str, timeout_s: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while (body := self.api("GET", f"/api/runs/{run_id}"))[key] is None:
            assert time.monotonic() < deadline, body
            time.sleep(0.1)
        return dict(body)


def test_a_run_is_watched_live_until_its_timeline_shows_every_step_done(
    page: Page, live_url: str, smtp_sink: SmtpSink, target_server: TargetServer
) -> None:
    tenant = Tenant(live_url, smtp_sink, "Northwind Traders")
    admin = tenant.user("admin")
    sign_in_by_link(page, smtp_sink, admin)
    run_id = tenant.run(
        "Sync orders",
        {"id": "hello", "type": "log", "message": "syncing"},
        {"id": "fetch_orders", "type": "http_request", "url": target_server.url + "/slow?seconds=6"},
        {
            "id": "check",
            "type": "condition",
            "expression": "steps.fetch_orders.status == 200",
            "then": "end",
            "else": "end",
        },
    )

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Runs").click()
    expect(page.get_by_role("heading", name="Runs", exact=True)).to_be_visible()
    check_page(page, "runs-01-list")
    page.get_by_role("link", name=re.compile(f"open run {run_id}")).click()
    expect(page.get_by_role("img", name=re.compile("Timeline of run"))).to_be_visible()
    expect(page.locator(".tl-status-running")).to_be_visible()
    check_page(page, "runs-02-running")
    expect(page.get_by_role("status")).to_contain_text("completed", timeout=20_000)

    statuses = page.locator("svg.timeline .tl-status").all_text_contents()
    assert [s.split(" · ")[0] for s in statuses] == ["✓ done"] * 3
    assert page.get_by_role("button", name="Cancel run").count() == 0
    check_page(page, "runs-03-completed")
    page.emulate_media(color_scheme="dark")
    check_page(page, "runs-04-completed-dark")
    page.set_viewport_size({"width": 390, "height": 844})
    check_page(page, "runs-04b-completed-phone-dark")


def test_a_class_b_gate_is_approved_from_the_inbox_by_an_admin(page: Page, live_url: str, smtp_sink: SmtpSink) -> None:
    tenant = Tenant(live_url, smtp_sink, "Contoso")
    admin = tenant.user("admin")
    sign_in_by_link(page, smtp_sink, admin)  # first: the gate's notice to admins is mailed to them too
    run_id = tenant.run("Refunds", DONE | {"id": "log_request"}, GATE_B, DONE, payload={"amount": 30})
    tenant.until(run_id, "waiting")
    page.goto(f"/app/runs/{run_id}")
    expect(page.get_by_role("button", name="Approve")).to_be_visible()
    check_page(page, "runs-05a-gate-waiting")

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Approvals").click()
    expect(page.get_by_text("Refund 30 EUR to Ann?")).to_be_visible()
    check_page(page, "runs-05-inbox")
    page.get_by_label("Comment on approve_refund").fill("Checked the order, fine.")
    page.get_by_role("button", name="Approve").click()

    expect(page.get_by_role("status")).to_contain_text("Approved")
    assert tenant.until(run_id, "closed_at")["status"] == "completed"
    page.goto(f"/app/runs/{run_id}")
    expect(page.locator(".tl-status-approved")).to_contain_text("approved")
    check_page(page, "runs-06-approved-run")


def test_a_member_sees_no_retry_or_approve_controls_and_forged_posts_are_refused(
    page: Page, live_url: str, smtp_sink: SmtpSink, target_server: TargetServer, engine: Engine
) -> None:
    tenant = Tenant(live_url, smtp_sink, "Fabrikam")
    member = tenant.user("member")
    failed = tenant.run(
        "Charge card",
        DONE | {"id": "prepare"},
        {
            "id": "charge",
            "type": "http_request",
            "url": target_server.url + "/status/404?why=<script>alert(1)</script>",
        },
    )
    gated = tenant.run("Refunds", GATE_B, DONE, payload={"amount": 99})
    tenant.until(failed, "closed_at")
    tenant.until(gated, "waiting")
    suggest(engine, failed)
    sign_in_by_link(page, smtp_sink, member)

    page.goto(f"/app/runs/{failed}")
    expect(page.get_by_role("heading", name="What went wrong")).to_be_visible()
    expect(page.get_by_text("Check the endpoint's URL")).to_be_visible()
    check_page(page, "runs-07-failed-member")
    page.emulate_media(color_scheme="dark")
    check_page(page, "runs-08-failed-member-dark")
    retry_controls = page.get_by_role("button", name=re.compile("Retry")).count()
    forged_retry = page.evaluate(FORGE, [f"/app/runs/{failed}/retry", ""])
    page.goto(f"/app/runs/{gated}")
    approve_controls = page.get_by_role("button", name="Approve").count()
    forged_decision = page.evaluate(FORGE, [f"/app/runs/{gated}/approvals/approve_refund", "decision=approve"])

    assert retry_controls == 0 and approve_controls == 0
    assert forged_retry == 403 and forged_decision == 403
    assert tenant.api("GET", f"/api/runs/{gated}")["waiting"] is not None


def test_another_tenants_run_id_answers_the_404_page(page: Page, live_url: str, smtp_sink: SmtpSink) -> None:
    owner = Tenant(live_url, smtp_sink, "Owner Ltd")
    run_id = owner.run("Private", DONE)
    stranger = Tenant(live_url, smtp_sink, "Stranger Ltd").user("admin")
    sign_in_by_link(page, smtp_sink, stranger)

    page.goto(f"/app/runs/{run_id}")

    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert run_id not in page.content()
    check_page(page, "runs-09-foreign-run-404")


def suggest(engine: Engine, run_id: str) -> None:
    """What AutoRecovery's assessment leaves on a failure-queue entry (its schedule does not run in tests)."""
    deadline = time.monotonic() + 15
    with Session(engine) as session:
        while (entry := session.exec(select(FailureEntry).where(FailureEntry.run_id == run_id)).first()) is None:
            assert time.monotonic() < deadline, "the failed run left no failure-queue entry"
            time.sleep(0.1)
        entry.category, entry.assessed_at = "client_error", datetime.now(UTC)
        entry.suggestion = "Check the endpoint's URL: it answered 404, which retrying will not heal."
        session.add(entry)
        session.commit()
