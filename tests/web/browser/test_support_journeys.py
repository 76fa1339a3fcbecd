"""Browser journeys through the support desk in Chromium: a visitor writes through the contact form with the keyboard
alone (the honeypot is never reached), the founder finds the message in the panel's support section with its AI
triage and the suggested reply in the reply box, edits and sends it, and the reply reaches the visitor's mailbox
(the SMTP sink); a customer opens a ticket in the app, closes it and rates it. axe-core on every page, light, dark
and phone; screenshots in .artifacts/screenshots (support-*)."""

import re
import time
import uuid
from email.message import EmailMessage
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine
from sqlmodel import Session, select

from schemas.tables import SupportTicket
from tests.fakes.openai import FakeOpenAI, Reply
from tests.fakes.smtp import SmtpSink
from tests.web.browser.conftest import check_page
from tests.web.browser.test_journeys import sign_in_by_link
from tests.web.browser.test_runs_journeys import Tenant
from tests.web.conftest import mails_to, unique_email

FOUNDER = "founder@levqor.test"


@pytest.fixture(scope="module")
def founder(browser: Browser, live_url: str, smtp_sink: SmtpSink) -> list[Any]:
    """The founder's session cookies, signed in once for the module."""
    context = browser.new_context(base_url=live_url)
    sign_in_by_link(context.new_page(), smtp_sink, FOUNDER)
    cookies = context.cookies()
    context.close()
    return list(cookies)


def mail_containing(sink: SmtpSink, email: str, text: str, timeout_s: float = 15) -> EmailMessage:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for mail in mails_to(sink, email):
            if text in mail.get_content():
                return mail
        time.sleep(0.05)
    raise AssertionError(f"no e-mail to {email} with {text!r} within {timeout_s} s")


def wait_for_triage(engine: Engine, subject: str, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with Session(engine) as session:
            found = session.exec(select(SupportTicket).where(SupportTicket.subject == subject)).first()
        if found is not None and found.triage_source is not None:
            return
        time.sleep(0.05)
    raise AssertionError(f"ticket {subject!r} not triaged within {timeout_s} s")


def test_a_visitors_message_reaches_the_founder_with_its_triage_and_the_reply_reaches_the_visitor(
    page: Page, founder: list[Any], smtp_sink: SmtpSink, fake_openai: FakeOpenAI, engine: Engine
) -> None:
    marker = f"Quokkaledger{uuid.uuid4().hex[:6]}"
    subject = f"Invoice charged twice {marker}"
    suggested = "Hello Grace, we refunded the second charge; it reaches your card within five days."
    triage = {"category": "billing", "priority": "high", "sentiment": "negative", "suggested_reply": suggested}
    fake_openai.script(Reply(content=triage), match=marker)
    visitor = unique_email("grace")

    page.goto("/sign-in")
    page.get_by_role("link", name="Contact us").first.click()
    expect(page.get_by_role("heading", name="Contact us")).to_be_visible()
    check_page(page, "support-01-contact-form")
    page.get_by_label("Your name").focus()
    page.keyboard.type("Grace Hopper")
    for text in (visitor, subject, "You charged my card twice this month. Please refund one."):
        page.keyboard.press("Tab")
        page.keyboard.type(text)
    page.keyboard.press("Tab")  # past the message: the send button, never the hidden honeypot
    expect(page.get_by_role("button", name="Send message")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Thank you for writing")).to_be_visible()
    check_page(page, "support-02-contact-sent")

    wait_for_triage(engine, subject)
    page.context.clear_cookies()
    page.context.add_cookies(founder)
    page.goto("/admin/power/support")
    ticket_link = page.get_by_role("link", name=subject)
    expect(ticket_link).to_be_visible()
    check_page(page, "support-03-panel-queue")
    ticket_link.click()
    expect(page.get_by_role("heading", name=subject)).to_be_visible()
    triage_card = page.locator("section.triage")
    expect(triage_card).to_contain_text("Billing")
    expect(triage_card).to_contain_text("High")
    expect(triage_card).to_contain_text("Negative")
    expect(page.locator('[data-triage="source"]')).to_have_text("AI")
    reply_box = page.get_by_label("Reply to the customer (sent by e-mail)")
    expect(reply_box).to_have_value(suggested)
    check_page(page, "support-04-panel-ticket")
    page.emulate_media(color_scheme="dark")
    page.set_viewport_size({"width": 390, "height": 844})
    check_page(page, "support-05-panel-ticket-phone-dark")
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 1280, "height": 800})

    reply_box.press("End")
    reply_box.type(" Sorry for the trouble.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status").filter(has_text="Reply sent")).to_be_visible()
    expect(page.locator(".conversation")).to_contain_text("Sorry for the trouble.")

    mail = mail_containing(smtp_sink, visitor, "Sorry for the trouble.")
    assert suggested in mail.get_content()
    assert re.search(re.escape(subject), str(mail["Subject"]))


def test_a_customer_opens_a_ticket_closes_it_and_rates_it(page: Page, live_url: str, smtp_sink: SmtpSink) -> None:
    tenant = Tenant(live_url, smtp_sink, f"Fabrikam {uuid.uuid4().hex[:6]}")
    member = tenant.user("member")
    sign_in_by_link(page, smtp_sink, member)

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Support").click()
    expect(page.get_by_role("heading", name="Support", exact=True)).to_be_visible()
    page.get_by_label("Subject").fill("Where do I see my invoices?")
    page.get_by_label("How can we help?").fill("I cannot find last month's invoice.")
    check_page(page, "support-06-app-support")
    page.get_by_role("button", name="Open ticket").click()
    expect(page.get_by_role("status").filter(has_text="Your ticket is open")).to_be_visible()
    expect(page.locator(".conversation")).to_contain_text("I cannot find last month's invoice.")
    check_page(page, "support-07-app-ticket")

    page.get_by_role("button", name="Close ticket").click()
    expect(page.get_by_role("heading", name="Rate our help")).to_be_visible()
    page.get_by_label("4 — happy").check()
    page.get_by_label("Anything you want to tell us? (optional)").fill("Found it, thanks.")
    check_page(page, "support-08-app-rate")
    page.get_by_role("button", name="Send my rating").click()

    expect(page.get_by_role("status").filter(has_text="Thank you for your rating.")).to_be_visible()
    expect(page.get_by_role("heading", name="Your rating")).to_be_visible()
    page.get_by_role("link", name="All tickets").click()
    expect(page.get_by_role("cell", name="Closed", exact=True)).to_be_visible()
    check_page(page, "support-10-app-tickets")


def test_the_triage_card_fills_in_by_itself_once_the_ticket_is_sorted(
    page: Page, founder: list[Any], engine: Engine
) -> None:
    with Session(engine) as session:  # a ticket its workflow has not sorted yet
        row = SupportTicket(origin="contact", subject="Sorted later", body="Hello", reply_token=uuid.uuid4().hex)
        session.add(row)
        session.commit()
        ticket_id = row.id
    page.context.add_cookies(founder)
    page.goto(f"/admin/power/support/{ticket_id}")
    expect(page.locator("#ticket-triage")).to_contain_text("Not sorted yet")

    with Session(engine) as session:
        row = session.get_one(SupportTicket, ticket_id)
        row.category, row.priority, row.sentiment, row.status = "account", "normal", "neutral", "open"
        row.suggested_reply, row.triage_source, row.fallback_reason = "Try a new link.", "fallback", "not_configured"
        session.add(row)
        session.commit()

    expect(page.locator('[data-triage="category"]')).to_have_text("Account", timeout=8_000)
    expect(page.locator('[data-triage="fallback-reason"]')).to_have_text("no AI provider is set up")
    check_page(page, "support-09-triage-arrived")
    page.get_by_role("link", name="Sorted: reload the page to fill in the suggested reply").click()
    expect(page.get_by_label("Reply to the customer (sent by e-mail)")).to_have_value("Try a new link.")
