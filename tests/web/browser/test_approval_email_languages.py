"""An approval e-mail in the approver's language, followed to a page in it: for English, Japanese and Hindi, a tenant
admin whose stored language is that language gets the class B gate's notice written in it, opens its link (with
the language's prefix), signs in on the sign-in page in that language and approves the run there."""

import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import Session, select

from core.i18n import render, translations
from schemas.i18n import tr
from schemas.tables import User
from tests.fakes.smtp import SmtpSink
from tests.web.browser.conftest import check_page
from tests.web.browser.test_runs_journeys import Tenant
from tests.web.conftest import mails_to, wait_for_link

GATE = {"id": "refund", "type": "approval", "class": "B", "message": "Refund {{ input.amount }} EUR to Ann?"}
DONE = {"id": "done", "type": "log", "message": "done"}
SIGN_IN_LINK = re.compile(r"(https?://\S+/auth/link\?token=\S+)")


def store_language(engine: Engine, email: str, language: str) -> None:
    with Session(engine) as session:
        user = session.exec(select(User).where(User.email == email)).one()
        user.language = language
        session.add(user)
        session.commit()


def mail_with_subject(sink: SmtpSink, email: str, subject: str, timeout_s: float = 20) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for mail in mails_to(sink, email):
            if str(mail["Subject"]) == subject:
                return str(mail.get_content())
        time.sleep(0.05)
    got = [str(mail["Subject"]) for mail in mails_to(sink, email)]
    raise AssertionError(f"no {subject!r} to {email} within {timeout_s} s; got {got}")


@pytest.mark.parametrize("language", ["en", "ja", "hi"])
def test_an_approver_gets_the_approval_email_in_their_language_and_approves_in_it(
    page: Page, live_url: str, smtp_sink: SmtpSink, engine: Engine, language: str
) -> None:
    say = translations(language).gettext
    tenant = Tenant(live_url, smtp_sink, f"Fabrikam {language}")
    admin = tenant.user("admin")
    store_language(engine, admin, language)

    run_id = tenant.run("Refunds", GATE, DONE, payload={"amount": 30})
    needed = tr("Approval needed: %(workflow)s — step %(step)s", workflow="Refunds", step="refund")
    subject = render(needed, language)
    body = mail_with_subject(smtp_sink, admin, subject)
    prefix = "" if language == "en" else f"/{language}"
    link = f"{live_url}{prefix}/app/runs/{run_id}"
    assert link in body and "Refund 30 EUR to Ann?" in body
    opening = tr("Open the run to approve or reject it (you will be asked to sign in first):")
    assert render(opening, language) in body
    assert (subject == needed.english()) == (language == "en")

    page.goto(link)
    expect(page.get_by_role("heading", name=say("Sign in to Levqor"))).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", language)
    check_page(page, f"approval-mail-{language}-1-sign-in")
    before = len(mails_to(smtp_sink, admin))
    page.get_by_label(say("E-mail address")).fill(admin)
    page.get_by_role("button", name=say("E-mail me a sign-in link")).click()
    wait_for_link(smtp_sink, admin, before + 1)
    sign_in_mail = mails_to(smtp_sink, admin)[before]
    assert str(sign_in_mail["Subject"]) == render(tr("Your Levqor sign-in link"), language)
    found = SIGN_IN_LINK.search(sign_in_mail.get_content())
    assert found
    page.goto(found.group(1))
    page.get_by_role("button", name=say("Continue to Levqor")).click()

    expect(page).to_have_url(re.compile(rf"{re.escape(prefix)}/app/runs/{run_id}$"))
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_text("Refund 30 EUR to Ann?")).to_be_visible()
    check_page(page, f"approval-mail-{language}-2-run-waiting")
    page.get_by_role("button", name=say("Approve"), exact=True).click()

    assert tenant.until(run_id, "closed_at")["status"] == "completed"
    expect(page.locator("html")).to_have_attribute("lang", language)
    check_page(page, f"approval-mail-{language}-3-approved")
    with httpx.Client(base_url=live_url, headers={"Authorization": f"Bearer {tenant.key}"}) as api:
        decided = api.get(f"/api/runs/{run_id}").json()
    assert admin in str(decided)
