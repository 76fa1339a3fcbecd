"""Themes, the phone layout and the keyboard: dark by the system or the toggle (kept across reloads), the shell on a
phone, and signing in without a mouse."""

import re

from playwright.sync_api import BrowserContext, Page, expect

from tests.fakes.smtp import SmtpSink
from tests.web.browser.conftest import check_page, shot
from tests.web.browser.test_journeys import LINK, sign_in_by_link, tenant_with_admin
from tests.web.conftest import mails_to, wait_for_link


def test_dark_theme_phone_layout_and_the_theme_toggle(
    context: BrowserContext, page: Page, live_url: str, smtp_sink: SmtpSink
) -> None:
    _tenant_id, email = tenant_with_admin(live_url, smtp_sink)
    sign_in_by_link(page, smtp_sink, email)

    page.emulate_media(color_scheme="dark")
    page.goto("/app/users")
    check_page(page, "07-users-dark")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/app")
    check_page(page, "08-home-phone-dark")
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name=re.compile("Theme")).click()  # auto → light
    page.get_by_role("button", name=re.compile("Theme")).click()  # light → dark
    page.reload()

    assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
    expect(page.get_by_role("button", name="Theme: dark")).to_be_visible()
    shot(page, "09-home-dark-by-toggle")


def test_sign_in_works_from_the_keyboard_alone(page: Page, live_url: str, smtp_sink: SmtpSink) -> None:
    _tenant_id, email = tenant_with_admin(live_url, smtp_sink)
    before = len(mails_to(smtp_sink, email))
    page.goto("/sign-in")
    autofocused = page.evaluate("() => document.activeElement.id")

    page.keyboard.type(email)
    backwards = []
    for _ in range(4):  # from the e-mail field back through the header to the skip link
        page.keyboard.press("Shift+Tab")
        backwards.append(page.evaluate("() => document.activeElement.textContent.trim()"))
    page.get_by_label("E-mail address").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    wait_for_link(smtp_sink, email, before + 1)
    link = LINK.search(mails_to(smtp_sink, email)[before].get_content())
    assert link
    page.goto(link.group(1))
    while page.evaluate("() => document.activeElement.textContent.trim()") != "Continue to Levqor":
        page.keyboard.press("Tab")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).boxShadow")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/app$"))
    assert autofocused == "email" and "Skip to content" in backwards
    assert outline != "none"  # focus is visible
