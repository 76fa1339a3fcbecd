"""The web app in Japanese and in Hindi, in Chromium: the editor switches language live with unsaved work kept
(no reload: the typed step, the form's value and the page's own state survive), the choice persists (cookie,
localStorage, the account), a workflow is built and saved in the new language, and the phone layout's top bar
holds the switcher without overflowing. A first visit follows the browser's language."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fakes.smtp import SmtpSink
from tests.web.browser.conftest import check_page, shot
from tests.web.browser.test_editor import checked
from tests.web.browser.test_journeys import sign_in_by_link, tenant_with_admin

# What each language calls things the journey looks for.
WORDS = {
    "ja": {"log": "ログ", "save": "保存", "saved": "バージョン 1 を保存しました。", "home": "ホーム",
           "sign_in": "Levqor にサインイン", "second": "二つ目"},
    "hi": {"log": "लॉग", "save": "सहेजें", "saved": "संस्करण 1 सहेजा गया।", "home": "होम",
           "sign_in": "Levqor में साइन इन करें", "second": "दूसरा"},
}  # fmt: skip
STILL_CHECKING = re.compile("Checking|確認中|जाँच हो रही")


@pytest.mark.parametrize("tag", ["ja", "hi"])
def test_the_editor_switches_language_live_keeping_unsaved_work_and_saves_in_it(
    page: Page, live_url: str, smtp_sink: SmtpSink, tag: str
) -> None:
    words = WORDS[tag]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _tenant, email = tenant_with_admin(live_url, smtp_sink)
    sign_in_by_link(page, smtp_sink, email)
    page.goto("/app/workflows/new")
    expect(page.locator("#wf-editor.is-ready")).to_be_visible()
    page.locator('[data-step-type="log"]').click()
    page.get_by_label("Message (required)").fill("Unsaved words")
    page.evaluate("() => { window.__kept = 'this page was not reloaded'; }")

    page.get_by_label("Language").select_option(tag)

    expect(page.locator("html")).to_have_attribute("lang", tag)
    expect(page).to_have_url(re.compile(rf"/{tag}/app/workflows/new$"))
    expect(page.locator(".wf-palette-label").first).to_have_text(words["log"])
    expect(page.get_by_role("link", name=words["home"], exact=True)).to_be_visible()
    assert page.evaluate("() => window.__kept") == "this page was not reloaded"
    assert page.locator("#wf-step-message").input_value() == "Unsaved words"
    expect(page.locator(".wf-node-item")).to_have_count(1)
    checked_in(page)
    assert page.evaluate("() => localStorage.getItem('levqor-lang')") == tag
    assert {c["name"]: c["value"] for c in page.context.cookies()}["levqor_lang"] == tag
    check_page(page, f"languages-{tag}-01-editor-switched-live")

    page.locator('[data-step-type="log"]').click()
    page.locator("#wf-step-message").fill(words["second"])
    checked_in(page)
    page.get_by_role("button", name=words["save"], exact=True).click()
    expect(page.locator("#wf-save-note")).to_contain_text(words["saved"])
    expect(page).to_have_url(re.compile(rf"/{tag}/app/workflows/[0-9a-f-]+/edit$"))
    check_page(page, f"languages-{tag}-02-saved")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/{tag}/app")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, f"languages-{tag}-03-phone-home", full_page=False)
    page.context.clear_cookies()
    page.goto("/")  # signed out, no cookie: this browser's localStorage brings the language back
    expect(page.locator("html")).to_have_attribute("lang", tag)
    expect(page.get_by_role("heading", name=words["sign_in"])).to_be_visible()
    assert errors == []


def checked_in(page: Page) -> None:
    """Waits for the validator's answer, in the page's language."""
    checked(page)
    expect(page.locator("#wf-check")).not_to_have_text(STILL_CHECKING)


def test_a_first_visit_follows_the_browsers_language_and_the_switcher_works_without_script(
    browser: Browser, live_url: str
) -> None:
    context = browser.new_context(base_url=live_url, locale="pt-BR", java_script_enabled=False)
    page = context.new_page()

    page.goto("/sign-in")
    expect(page).to_have_url(re.compile(r"/pt-BR/sign-in$"))
    expect(page.get_by_role("heading", name="Entrar na Levqor")).to_be_visible()
    page.get_by_label("Idioma").select_option("de")
    page.get_by_role("button", name="Trocar").click()

    expect(page).to_have_url(re.compile(r"/de/sign-in$"))
    expect(page.get_by_role("heading", name="Bei Levqor anmelden")).to_be_visible()
    shot(page, "languages-no-script-de")
    context.close()
