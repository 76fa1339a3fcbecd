"""The founder's journey through the Admin Power Panel in Chromium, in English and under the Japanese and Hindi
prefixes (`/ja/admin/power`, `/hi/admin/power`): the overview's tiles and score trend, the cost monitor, and the
approval queue, where a class C gate of a tenant is approved with a comment and the run goes on. Every page is
checked with axe-core and shot (light, and the queue dark and on a phone)."""

import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, delete
from sqlmodel import Session, col

from core.i18n import translations
from rules.usage import period_of
from schemas.tables import DailyReportRow, SpendSample, Tenant, UsageCounter
from tests.conftest import founder_headers
from tests.fakes.smtp import SmtpSink
from tests.web.browser.conftest import check_page
from tests.web.browser.test_journeys import sign_in_by_link
from tests.web.test_admin_panel import report

FOUNDER = "founder@levqor.test"
GATE_C = {
    "id": "wire_funds",
    "type": "approval",
    "class": "C",
    "message": "Wire {{ input.amount }} EUR to the supplier?",
}
DONE = {"id": "done", "type": "log", "message": "paid"}


def say(tag: str, message: str, **params: Any) -> str:
    """`message` as the panel shows it in `tag` (from the catalogs the app reads)."""
    return translations(tag).gettext(message) % params


def gated_run(live_url: str, tenant_name: str) -> tuple[str, dict[str, str]]:
    """A tenant (made with the founder token) whose run waits at a class C gate; its id and the tenant's key."""
    with httpx.Client(base_url=live_url, headers=founder_headers()) as api:
        created = api.post("/api/tenants", json={"name": tenant_name, "plan": "pro"}).json()
    key = {"Authorization": f"Bearer {created['api_key']['key']}"}
    with httpx.Client(base_url=live_url, headers=key) as api:
        workflow = api.post("/api/workflows", json={"name": "Pay supplier", "steps": [GATE_C, DONE]}).json()
        run_id = str(
            api.post(f"/api/workflows/{workflow['id']}/runs", json={"input": {"amount": 1200}}).json()["run_id"]
        )
        deadline = time.monotonic() + 20
        while api.get(f"/api/runs/{run_id}").json().get("waiting") is None:
            assert time.monotonic() < deadline, "the gate never waited"
            time.sleep(0.1)
    return run_id, key


@pytest.fixture(scope="module")
def history(engine: Engine) -> Iterator[None]:
    """A month of daily reports with two missing days, and a month's spend for two tenants, so that the overview's
    and the cost monitor's pictures have something to draw; the reports are removed again afterwards."""
    today = datetime.now(UTC).date()
    now = datetime.now(UTC)
    suggestions = ["Raise the Stripe timeout: 3 probes timed out", "Archive runs more often"]
    reports = [
        report(today - timedelta(days=back), now - timedelta(days=back), 70 + (back * 7) % 29, suggestions)
        for back in range(30)
        if back not in (4, 11)
    ]
    with Session(engine, expire_on_commit=False) as session:
        session.add_all(reports)
        for name, credits in (("Acme Robotics", 9_000), ("Northwind Traders", 2_500)):
            tenant = Tenant(name=name, plan="pro")
            session.add(tenant)
            session.flush()
            session.add(UsageCounter(tenant_id=tenant.id, period=period_of(now), metric="ai_credits", value=credits))
            rate = credits * 400
            session.add(SpendSample(tenant_id=tenant.id, at=now, period=period_of(now), spend_micros=credits * 2000,
                                    rate_micros_per_hour=rate))  # fmt: skip
        session.commit()
    yield
    with Session(engine) as session:
        session.execute(delete(DailyReportRow).where(col(DailyReportRow.id).in_([r.id for r in reports])))
        session.commit()


def on_a_phone_in_the_dark(page: Page, name: str) -> None:
    page.emulate_media(color_scheme="dark")
    page.set_viewport_size({"width": 390, "height": 844})
    check_page(page, name)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.emulate_media(color_scheme="light")


def wait_for_notice(sink: SmtpSink, run_id: str) -> None:
    deadline = time.monotonic() + 15
    while not any(run_id in mail.message.get_content() for mail in list(sink.messages)):
        assert time.monotonic() < deadline, "no approval notice to the founders"
        time.sleep(0.05)


@pytest.mark.parametrize("tag", ["en", "ja", "hi"])
def test_the_founder_watches_the_panel_and_approves_a_class_c_gate(
    page: Page, live_url: str, smtp_sink: SmtpSink, history: None, tag: str
) -> None:
    prefix = "" if tag == "en" else f"/{tag}"
    run_id, key = gated_run(live_url, f"Supplier Bank {uuid.uuid4().hex[:6]}")
    wait_for_notice(smtp_sink, run_id)  # before signing in, which reads the founder's next e-mail
    sign_in_by_link(page, smtp_sink, FOUNDER)

    page.goto(f"{prefix}/admin/power")
    expect(page.get_by_role("heading", name=say(tag, "Overview"), exact=True)).to_be_visible()
    expect(page.locator('[data-tile="database"] .stat-value')).to_have_text(say(tag, "OK"))
    chart_name = re.compile("^" + re.escape(say(tag, "Health score over the last %(days)s days", days=30)))
    expect(page.get_by_role("img", name=chart_name)).to_be_visible()  # named by its title and description
    expect(page.locator(".health-chart polyline")).to_have_count(3)  # two missing days break the line twice
    check_page(page, f"panel-{tag}-01-overview")
    if tag == "en":
        on_a_phone_in_the_dark(page, "panel-en-01b-overview-phone-dark")
    with page.expect_response(lambda r: r.url.endswith(f"{prefix}/admin/power/tiles"), timeout=20_000) as polled:
        pass  # the tiles refresh themselves without reloading the page
    assert polled.value.status == 200

    page.get_by_role("navigation", name=say(tag, "Admin Power Panel")).get_by_role(
        "link", name=say(tag, "Cost monitor")
    ).click()
    expect(page).to_have_url(re.compile(rf"{prefix}/admin/power/costs$"))
    expect(page.get_by_role("heading", name=say(tag, "Spend per tenant this month"), exact=True)).to_be_visible()
    expect(page.locator(".cost-chart .cc-row").first).to_have_attribute("data-tenant", re.compile(".+"))
    check_page(page, f"panel-{tag}-02-costs")

    page.goto(f"{prefix}/admin/power/approvals")
    card = page.locator(f'.queue-gate[data-run="{run_id}"]')
    expect(card).to_contain_text("Wire 1200 EUR to the supplier?")
    check_page(page, f"panel-{tag}-03-queue")
    with page.expect_response(lambda r: "/admin/power/approvals/live?state=" in r.url, timeout=20_000) as polled:
        pass  # the queue polls, and leaves the list (and a comment being typed) alone while the same gates wait
    assert polled.value.status == 204
    if tag == "en":
        on_a_phone_in_the_dark(page, "panel-en-03b-queue-phone-dark")
    card.get_by_label(say(tag, "Comment (optional, kept with the decision)")).fill("Invoice checked")
    card.get_by_role("button", name=say(tag, "Approve")).click()

    expect(page.get_by_role("status").first).to_contain_text(say(tag, "Approved: the run goes on."))
    expect(page).to_have_url(re.compile(rf"{prefix}/admin/power/approvals\?done=approve$"))
    expect(page.locator(f'.queue-gate[data-run="{run_id}"]')).to_have_count(0)
    check_page(page, f"panel-{tag}-04-approved")
    with httpx.Client(base_url=live_url, headers=key) as api:
        gate = next(s for s in api.get(f"/api/runs/{run_id}").json()["steps"] if s["step_id"] == "wire_funds")
    assert gate["result"]["approved"] is True and gate["result"]["comment"] == "Invoice checked"
