"""In Chromium: the founder turns maintenance mode on from the system toggles page (a reason, a message, the
confirmation step), a team that signed up from the sign-in page sees the banner, its admin gets 404 for the panel,
and the founder turns it off again. Every page is checked with axe-core and shot (light, dark and on a phone)."""

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from schemas.toggles import SystemToggles
from tests.conftest import founder_headers
from tests.fakes.smtp import SmtpSink
from tests.web.browser.conftest import check_page
from tests.web.browser.test_journeys import sign_in_by_link
from tests.web.conftest import LINK, mails_to, wait_for_link

FOUNDER = "founder@levqor.test"


@pytest.fixture(autouse=True)
def toggles_back(live_url: str) -> Iterator[None]:
    yield
    body = {**SystemToggles().model_dump(), "reason": "the journey is over"}
    with httpx.Client(base_url=live_url, headers=founder_headers()) as api:
        assert api.put("/api/admin/toggles", json=body).status_code == 200


def test_the_founder_puts_the_platform_in_maintenance_and_a_new_team_sees_the_banner(
    page: Page, live_url: str, smtp_sink: SmtpSink
) -> None:
    sign_in_by_link(page, smtp_sink, FOUNDER)
    page.goto("/admin/power/toggles")
    expect(page.get_by_role("heading", name="System toggles", level=1)).to_be_visible()
    check_page(page, "toggles-01-page")

    maintenance = page.locator('[data-toggle="maintenance"]')
    maintenance.get_by_text("Change Maintenance mode").click()
    maintenance.get_by_label("Message to show (optional)").fill("Upgrading the database; back at 10:00 UTC")
    maintenance.get_by_label("Reason").fill("Database upgrade")
    maintenance.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Turn maintenance mode on?")).to_be_visible()
    check_page(page, "toggles-02-confirm-maintenance")
    page.get_by_role("button", name="Yes, change it").click()

    expect(page.get_by_text("Saved: the platform follows the change within seconds.")).to_be_visible()
    expect(maintenance.locator("[data-value]")).to_have_text("On")
    expect(maintenance.get_by_text("Database upgrade")).to_be_visible()
    expect(page.locator(".toggle-history")).to_contain_text("Database upgrade")
    expect(page.locator(".maintenance-banner")).to_contain_text("back at 10:00 UTC")
    check_page(page, "toggles-03-maintenance-on")
    page.emulate_media(color_scheme="dark")
    page.set_viewport_size({"width": 390, "height": 844})
    check_page(page, "toggles-04-maintenance-on-phone-dark")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.emulate_media(color_scheme="light")

    page.context.clear_cookies()
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    page.goto("/sign-in")
    page.get_by_role("link", name="Sign up your team").click()
    expect(page.get_by_role("heading", name="Sign up for Levqor")).to_be_visible()
    check_page(page, "toggles-05-sign-up")
    page.get_by_label("Company or team name").fill("Blue Harbor Logistics")
    page.get_by_label("Work e-mail address").fill(email)
    page.get_by_role("button", name="Create my team").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    wait_for_link(smtp_sink, email)
    link = LINK.search(mails_to(smtp_sink, email)[0].get_content())
    assert link
    page.goto(link.group(1))
    page.get_by_role("button", name="Continue to Levqor").click()
    expect(page).to_have_url(re.compile(r"/app$"))
    expect(page.locator(".maintenance-banner")).to_contain_text("Maintenance in progress.")
    check_page(page, "toggles-06-new-team-home-with-banner")
    panel = page.goto("/admin/power/toggles")
    assert panel is not None and panel.status == 404

    page.context.clear_cookies()
    sign_in_by_link(page, smtp_sink, FOUNDER)
    page.goto("/admin/power/toggles")
    maintenance.get_by_text("Change Maintenance mode").click()
    maintenance.get_by_label("Reason").fill("Upgrade done")
    maintenance.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Turn maintenance mode off?")).to_be_visible()
    page.get_by_role("button", name="Yes, change it").click()
    expect(maintenance.locator("[data-value]")).to_have_text("Off")
    expect(page.locator(".maintenance-banner")).to_have_count(0)
