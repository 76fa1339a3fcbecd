"""The founder watches the live logs in Chromium: a new tenant's run starts and fails on its own unreachable target,
the page filtered by that tenant shows both as they happen; filtered by level it hides the start; paused, new
events wait and arrive on resume; cleared, the list is empty. A log line's e-mail address and key are masked on
screen. The page is checked with axe-core and shot, light, dark and on a phone."""

import re
import uuid

import httpx
import structlog
from playwright.sync_api import Page, expect

from tests.conftest import founder_headers
from tests.fakes import unused_port
from tests.web.browser.conftest import check_page


def sign_in_as_founder(page: Page) -> None:
    page.goto("/auth/token")
    page.get_by_label("Founder token").fill(founder_headers()["Authorization"].removeprefix("Bearer "))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/app$"))


def failing_run(live_url: str) -> tuple[str, str, dict[str, str]]:
    with httpx.Client(base_url=live_url, headers=founder_headers(), timeout=10) as api:
        created = api.post("/api/tenants", json={"name": "Night Owl Bakery", "plan": "pro"}).json()
    key = {"Authorization": f"Bearer {created['api_key']['key']}"}
    step = {"id": "order", "type": "http_request", "method": "POST", "url": f"http://127.0.0.1:{unused_port()}/"}
    with httpx.Client(base_url=live_url, headers=key, timeout=10) as api:
        workflow = api.post("/api/workflows", json={"name": "Send the order", "steps": [step]}).json()
        assert api.post(f"/api/workflows/{workflow['id']}/runs", json={"input": {}}).status_code in (200, 201, 202)
    return created["tenant"]["id"], workflow["id"], key


def start_run(live_url: str, workflow_id: str, key: dict[str, str]) -> str:
    with httpx.Client(base_url=live_url, headers=key, timeout=10) as api:
        return str(api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}).json()["run_id"])


def test_the_founder_watches_a_tenants_run_fail_live_filters_pauses_and_clears(page: Page, live_url: str) -> None:
    sign_in_as_founder(page)
    tenant_id, workflow_id, key = failing_run(live_url)
    rows = page.locator("[data-live-list] > li")

    page.goto(f"/admin/power/logs?tenant={tenant_id}&level=debug")
    expect(page.get_by_role("heading", name="Live logs")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Live")
    expect(rows.filter(has_text="run started").first).to_be_visible()
    expect(rows.filter(has_text="run failed").first).to_be_visible(timeout=20_000)
    expect(rows.filter(has_text=tenant_id).first).to_be_visible()
    check_page(page, "60-live-logs")

    page.get_by_label("Level").select_option("warning")
    expect(rows.filter(has_text="run failed").first).to_be_visible()
    expect(rows.filter(has_text="run started")).to_have_count(0)
    assert "level=warning" in page.url

    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("status")).to_have_text("Paused")
    expect(page.get_by_role("button", name="Resume")).to_have_attribute("aria-pressed", "true")
    shown = rows.count()
    later = start_run(live_url, workflow_id, key)
    page.wait_for_timeout(4000)  # long enough for the run to fail (3 quick attempts)
    expect(rows).to_have_count(shown)
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_role("status")).to_have_text("Live")
    expect(rows.filter(has_text=later).first).to_be_visible(timeout=20_000)

    page.get_by_role("button", name="Clear").click()
    expect(rows).to_have_count(0)
    expect(page.get_by_text("No events yet. They appear here as they happen.")).to_be_visible()


def test_masked_values_on_screen_and_the_dark_theme(page: Page) -> None:
    sign_in_as_founder(page)
    marker = uuid.uuid4().hex[:10]
    page.goto("/admin/power/logs?source=log&level=warning")
    expect(page.get_by_role("status")).to_have_text("Live")

    structlog.get_logger().warning(
        "card declined", marker=marker, email="jane.doe@example.com", api_key="lvq_live_abcdefghijklmnop"
    )
    row = page.locator("[data-live-list] > li").filter(has_text=marker)
    expect(row).to_have_count(1)

    text = row.inner_text()
    assert "jane.doe@example.com" not in text and "abcdefghijklmnop" not in text
    assert "j***@example.com" in text and "api_key=***" in text
    page.emulate_media(color_scheme="dark")
    page.wait_for_timeout(200)
    check_page(page, "61-live-logs-dark")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    check_page(page, "62-live-logs-phone")
