"""The cookie banner in a real browser: before a choice the browser holds only the essential cookies, and after
"Reject all" still only those; the choice is made in place (no reload), from the keyboard, without scripts too,
changed from the footer, and a new configuration version asks again."""

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import Engine
from sqlmodel import Session, select

from schemas.legal import CONSENT_COOKIE, ESSENTIAL_COOKIES
from schemas.tables import ConsentRecord
from tests.conftest import founder_headers
from tests.web.browser.conftest import check_page, shot

ESSENTIAL = {cookie.name for cookie in ESSENTIAL_COOKIES}


def publish_consent(live_url: str) -> str:
    """A configuration with two optional categories, in effect from now (after any other test's)."""
    version = f"b{uuid.uuid4().hex[:8]}"
    categories: list[dict[str, Any]] = [
        {"id": "necessary", "description": "Signing in and security", "required": True, "default_enabled": True},
        {"id": "analytics", "description": "Counting visits to improve pages"},
        {"id": "marketing", "description": "Measuring campaigns"},
    ]
    answer = httpx.put(
        f"{live_url}/api/compliance/legal/cookie_consent",
        json={"version": version, "effective_at": datetime.now(UTC).isoformat(), "config": {"categories": categories}},
        headers=founder_headers(),
    )
    assert answer.status_code == 200, answer.text
    return version


def cookie_names(context: BrowserContext) -> set[str]:
    return {cookie["name"] for cookie in context.cookies()}


def visitor_records(engine: Engine, context: BrowserContext) -> list[tuple[list[str], str]]:
    value = next(c["value"] for c in context.cookies() if c["name"] == CONSENT_COOKIE)
    with Session(engine) as session:
        rows = session.exec(select(ConsentRecord).where(ConsentRecord.visitor_id == value.split(":")[0])).all()
        return sorted(((row.categories, row.config_version) for row in rows), key=str)


def test_only_essential_cookies_before_consent_and_after_rejecting_all(
    context: BrowserContext, page: Page, live_url: str, engine: Engine
) -> None:
    version = publish_consent(live_url)
    page.goto("/sign-in")
    banner = page.get_by_role("complementary", name="Cookies on Levqor")
    expect(banner).to_be_visible()
    before = cookie_names(context)
    check_page(page, "legal-01-banner")
    page.evaluate("() => { window.notReloaded = true; }")

    banner.get_by_role("button", name="Reject all").focus()
    page.keyboard.press("Enter")
    expect(banner).to_have_count(0)
    saved = page.get_by_role("status").filter(has_text="Your cookie choice is saved")
    expect(saved).to_be_focused()
    after = cookie_names(context)

    assert before <= ESSENTIAL and CONSENT_COOKIE not in before
    assert page.evaluate("() => window.notReloaded") is True
    assert after <= ESSENTIAL and CONSENT_COOKIE in after
    assert page.evaluate("() => levqorConsent.allows('analytics')") is False
    assert visitor_records(engine, context) == [([], version)]
    page.reload()
    expect(page.get_by_role("complementary", name="Cookies on Levqor")).to_have_count(0)


def test_the_choice_changes_from_the_footer_and_a_new_version_asks_again(
    context: BrowserContext, page: Page, live_url: str, engine: Engine
) -> None:
    first = publish_consent(live_url)
    page.goto("/sign-in")
    page.get_by_role("complementary", name="Cookies on Levqor").get_by_role("button", name="Accept all").click()
    expect(page.get_by_role("status").filter(has_text="Your cookie choice is saved")).to_be_visible()

    page.get_by_role("navigation", name="Legal").get_by_role("link", name="Cookie settings").click()
    expect(page.get_by_role("heading", name="Cookie settings", level=1)).to_be_visible()
    expect(page.get_by_label("Analytics")).to_be_checked()
    check_page(page, "legal-02-cookie-settings")
    page.get_by_label("Marketing").uncheck()
    page.get_by_role("button", name="Confirm my choice").click()
    expect(page.get_by_role("status").filter(has_text="Your cookie choice is saved")).to_be_visible()
    allows = page.evaluate("() => [levqorConsent.allows('analytics'), levqorConsent.allows('marketing')]")
    second = publish_consent(live_url)
    page.goto("/sign-in")

    assert allows == [True, False]
    assert visitor_records(engine, context) == sorted(
        [(["analytics", "marketing"], first), (["analytics"], first)], key=str
    )
    expect(page.get_by_role("complementary", name="Cookies on Levqor")).to_be_visible()
    assert page.locator('input[name="version"]').first.get_attribute("value") == second


def test_the_banner_works_without_scripts_and_leaves_the_phone_layouts_buttons_free(
    browser: Browser, live_url: str, engine: Engine
) -> None:
    publish_consent(live_url)
    context = browser.new_context(
        base_url=live_url, bypass_csp=True, java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.goto("/sign-in")
    shot(page, "legal-03-banner-phone-no-js")
    button = page.get_by_role("button", name="E-mail me a sign-in link").bounding_box()
    banner = page.get_by_role("complementary", name="Cookies on Levqor").bounding_box()

    page.get_by_role("button", name="Reject all").click()
    page.wait_for_url(f"{live_url}/sign-in")
    names = cookie_names(context)
    banner_after = page.get_by_role("complementary", name="Cookies on Levqor").count()
    context.close()

    assert button and banner and banner["y"] >= button["y"] + button["height"]
    assert names <= ESSENTIAL and CONSENT_COOKIE in names
    assert banner_after == 0


def test_the_legal_pages_pass_the_accessibility_checks(page: Page, live_url: str) -> None:
    for path, name in (("/legal/terms", "legal-04-terms"), ("/legal/cookies", "legal-05-cookies")):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        check_page(page, name)
    page.goto("/ja/legal/privacy")
    check_page(page, "legal-06-privacy-ja")
