"""Browser journeys through the Admin Power Panel's operations views in Chromium, as the founder: a tenant found,
suspended through its confirmation and resumed; a failed run re-driven from the failure queue; a compliance report's
findings; an upgrade plan dragged to another column (HTML5 drag and drop) and moved with its form. axe-core on every
page, light, dark and phone; screenshots in .artifacts/screenshots (ops-*)."""

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import Engine
from sqlmodel import Session

from schemas.tables import ComplianceFinding, ComplianceReport, UpgradePlan
from tests.conftest import founder_headers
from tests.fakes.smtp import SmtpSink
from tests.fakes.target import TargetServer
from tests.web.browser.conftest import check_page
from tests.web.browser.test_journeys import sign_in_by_link
from tests.web.browser.test_runs_journeys import Tenant, suggest

FOUNDER = "founder@levqor.test"
LOG = {"id": "hello", "type": "log", "message": "hello"}


@pytest.fixture(scope="module")
def founder(browser: Browser, live_url: str, smtp_sink: SmtpSink) -> list[Any]:
    """The founder's session cookies, signed in once for the module (each journey starts a fresh profile)."""
    context = browser.new_context(base_url=live_url)
    sign_in_by_link(context.new_page(), smtp_sink, FOUNDER)
    cookies = context.cookies()
    context.close()
    return list(cookies)


def as_founder(page: Page, founder: list[Any]) -> None:
    page.context.add_cookies(founder)


def panel(page: Page) -> Locator:
    """The panel's own part of the page (the cookie banner has a status line of its own)."""
    return page.locator(".panel-body")


def tenant_status(live_url: str, tenant_id: str) -> str:
    with httpx.Client(base_url=live_url, headers=founder_headers()) as api:
        return str(api.get(f"/api/tenants/{tenant_id}").json()["status"])


def plan_status(engine: Engine, plan_id: str) -> str:
    with Session(engine) as session:
        plan = session.get(UpgradePlan, plan_id)
        assert plan is not None
        return plan.status


def test_the_founder_suspends_and_resumes_a_tenant_through_its_confirmation(
    page: Page, live_url: str, smtp_sink: SmtpSink, founder: list[Any]
) -> None:
    name = f"Contoso {uuid.uuid4().hex[:6]}"
    tenant = Tenant(live_url, smtp_sink, name)
    tenant.user("admin")
    as_founder(page, founder)

    page.goto("/admin/power/tenants")
    page.get_by_label("Name or id").fill(name)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=name)).to_be_visible()
    check_page(page, "ops-01-tenants")
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=re.compile(name))).to_be_visible()
    check_page(page, "ops-02-tenant")

    page.get_by_role("link", name=f"Suspend {name}").click()
    expect(page.get_by_role("heading", name=f"Suspend {name}?")).to_be_visible()
    check_page(page, "ops-03-tenant-suspend-confirm")
    page.get_by_label("Reason (optional)").fill("unpaid invoice")
    page.get_by_role("button", name=f"Suspend {name}").click()

    expect(panel(page).get_by_role("status")).to_contain_text("Suspended.")
    expect(page.get_by_text("unpaid invoice").first).to_be_visible()
    assert tenant_status(live_url, tenant.id) == "suspended"
    check_page(page, "ops-04-tenant-suspended")
    page.get_by_role("link", name=f"Resume {name}").click()
    page.get_by_role("button", name=f"Resume {name}").click()
    expect(panel(page).get_by_role("status")).to_contain_text("Resumed.")
    assert tenant_status(live_url, tenant.id) == "active"
    page.get_by_role("link", name=f"Delete {name}").click()
    check_page(page, "ops-05-tenant-delete-confirm")


def test_the_founder_redrives_a_failed_run_from_the_failure_queue(
    page: Page, live_url: str, smtp_sink: SmtpSink, target_server: TargetServer, engine: Engine, founder: list[Any]
) -> None:
    tenant = Tenant(live_url, smtp_sink, f"Fabrikam {uuid.uuid4().hex[:6]}")
    failed = tenant.run(
        "Charge card", LOG, {"id": "charge", "type": "http_request", "url": target_server.url + "/status/404"}
    )
    tenant.until(failed, "closed_at")
    suggest(engine, failed)
    as_founder(page, founder)

    page.goto(f"/admin/power/failures?tenant={tenant.id}")
    expect(page.get_by_text("Check the endpoint's URL")).to_be_visible()
    check_page(page, "ops-06-failures")
    page.get_by_role("button", name=re.compile("Re-drive from charge")).click()

    expect(panel(page).get_by_role("status")).to_contain_text("Re-driven: a new run resumes at the failed step.")
    new_run = page.get_by_role("link", name="Open the new run").get_attribute("href") or ""
    assert new_run.startswith("/app/runs/") and failed not in new_run
    check_page(page, "ops-07-failures-redriven")


def test_the_founder_reads_a_compliance_reports_findings(page: Page, engine: Engine, founder: list[Any]) -> None:
    now = datetime.now(UTC)
    title = f"An erasure request is past its deadline ({uuid.uuid4().hex[:6]})"
    with Session(engine) as session:
        report = ComplianceReport(
            status="completed", trigger="founder", started_at=now, finished_at=now, score=64,
            counts={"critical": 1, "medium": 1, "low": 1},
        )  # fmt: skip
        session.add(report)
        session.flush()
        report_id = report.id
        session.add_all([
            ComplianceFinding(report_id=report_id, check="dsar_overdue", severity="critical", penalty=25, title=title,
                              remediation="Complete the erasure today.", detail={"request_id": "dr-1", "days_late": 3}),
            ComplianceFinding(report_id=report_id, check="cookie_config", severity="medium", penalty=5,
                              title="The cookie configuration is missing", remediation="Publish one."),
            ComplianceFinding(report_id=report_id, check="key_unused", severity="low", penalty=2,
                              title="An API key is unused", remediation="Revoke it."),
        ])  # fmt: skip
        session.commit()
    as_founder(page, founder)

    page.goto("/admin/power/compliance")
    expect(page.get_by_role("img", name="Compliance score of the latest reports")).to_be_visible()
    check_page(page, "ops-08-compliance")
    page.goto(f"/admin/power/compliance/{report_id}")
    expect(page.get_by_role("heading", name=re.compile(re.escape(title)))).to_be_visible()
    expect(page.get_by_role("img", name="Findings by severity")).to_be_visible()
    check_page(page, "ops-09-compliance-report")
    page.get_by_role("link", name=re.compile("^Critical")).click()
    expect(page.get_by_text("The cookie configuration is missing")).to_have_count(0)
    expect(page.get_by_role("heading", name=re.compile(re.escape(title)))).to_be_visible()

    page.goto("/admin/power/compliance")
    page.get_by_role("button", name="Run the audit now").click()
    expect(panel(page).get_by_role("status")).to_contain_text("The audit is running.")
    expect(page.get_by_text("out of 100")).to_be_visible(timeout=30_000)  # filled in by htmx, without a reload
    check_page(page, "ops-10-compliance-audit-finished")


def drag(page: Page, card: str, column: str) -> None:
    """Drags `card` onto `column` with the browser's drag events, one DataTransfer from dragstart to drop (a mouse
    drag's geometry is unsteady on a board as long as the shared test database makes it: it scrolls mid-drag)."""
    transfer = page.evaluate_handle("() => new DataTransfer()")
    page.locator(card).dispatch_event("dragstart", {"dataTransfer": transfer})
    page.locator(column).dispatch_event("dragover", {"dataTransfer": transfer})
    page.locator(column).dispatch_event("drop", {"dataTransfer": transfer})
    page.locator(card).dispatch_event("dragend", {"dataTransfer": transfer})


def test_the_founder_drags_a_plan_to_another_column_and_moves_one_with_its_form(
    page: Page, engine: Engine, founder: list[Any]
) -> None:
    tag = uuid.uuid4().hex[:6]
    with Session(engine) as session:
        plans = [
            UpgradePlan(fingerprint=f"journey:{tag}:{i}", title=title, description=f"Why: {title.lower()}.",
                        priority=priority, category=category, risk_level=risk, source="journey")
            for i, (title, priority, category, risk) in enumerate([
                (f"Cache the pricing table {tag}", 2, "performance", "low"),
                (f"Translate the invoices {tag}", 3, "i18n", "medium"),
            ])
        ]  # fmt: skip
        session.add_all(plans)
        session.commit()
        dragged_id, formed_id = plans[0].id, plans[1].id
    as_founder(page, founder)

    page.goto("/admin/power/upgrades")
    card = page.locator(f"#plan-{dragged_id}")
    expect(card).to_be_visible()
    check_page(page, "ops-11-upgrade-board")
    drag(page, f"#plan-{dragged_id}", "#column-in_progress")

    expect(panel(page).get_by_role("status")).to_contain_text(f"Cache the pricing table {tag} moved to In progress.")
    expect(page.locator(f'[data-column="in_progress"] #plan-{dragged_id}')).to_be_visible()
    assert plan_status(engine, dragged_id) == "in_progress"
    check_page(page, "ops-12-upgrade-board-dragged")

    page.locator(f"#plan-{formed_id}").get_by_label("Move to").select_option("applied")
    page.locator(f"#plan-{formed_id}").get_by_role("button", name=re.compile("^Move")).click()
    expect(panel(page).get_by_role("status")).to_contain_text("Moved to Applied.")
    expect(page.locator(f'[data-column="applied"] #plan-{formed_id}')).to_be_visible()
    assert plan_status(engine, formed_id) == "applied"

    drag(page, f"#plan-{formed_id}", "#column-open")
    expect(panel(page).get_by_role("alert")).to_contain_text(
        "A plan goes back to open only when a rebuild proposes it anew"
    )
    assert plan_status(engine, formed_id) == "applied"
    page.emulate_media(color_scheme="dark")
    page.wait_for_timeout(200)  # buttons ease their colours (120 ms); shoot the settled theme
    check_page(page, "ops-13-upgrade-board-dark")
    page.set_viewport_size({"width": 390, "height": 844})
    check_page(page, "ops-14-upgrade-board-phone-dark")
