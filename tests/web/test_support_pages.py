"""The support desk's pages through the app (TestClient, real Temporal, SupportTicket workflows, the fake OpenAI for
the triage and the SMTP sink): the public contact form (its honeypot, its errors, its limit), a customer's ticket
from opening to its score, the walls (another tenant's ticket and the panel's section answer 404), and the
founders' section: the queue with its filters and summary, a ticket's AI triage with the suggested reply in the
reply box, the reply e-mailed to the visitor, closing, and the public rating page the closing e-mail links to."""

import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from api.web.support_chart import DayVolume, volume_svg
from api.web.support_view import sla_state
from schemas.support import TicketPublic
from schemas.tables import SupportTicket
from tests.fakes.openai import FakeOpenAI, Reply
from tests.fakes.smtp import SmtpSink
from tests.web.conftest import FOUNDER_EMAIL, csrf_of, mails_to, signed_in_as, unique_email, use_cookies
from tests.web.test_workspace_pages import Team, form, new_team

RATE_LINK = re.compile(r"https?://\S+(/support/tickets/([A-Za-z0-9-]+)/rate\?token=([A-Za-z0-9_\-]+))")


@pytest.fixture(scope="module")
def founder(web: TestClient, smtp_sink: SmtpSink) -> dict[str, str]:
    return signed_in_as(web, smtp_sink, FOUNDER_EMAIL)


@pytest.fixture(scope="module")
def team(web: TestClient, smtp_sink: SmtpSink) -> Team:
    return new_team(web, smtp_sink, f"Help Seekers {uuid.uuid4().hex[:6]}")


@pytest.fixture(scope="module")
def other(web: TestClient, smtp_sink: SmtpSink) -> Team:
    return new_team(web, smtp_sink, f"Other Desk {uuid.uuid4().hex[:6]}")


def contact(web: TestClient, email: str, subject: str, **extra: str) -> tuple[int, str]:
    """Posts the contact form as a signed-out visitor; (status, the redirect's location or the page)."""
    web.cookies.clear()
    page = web.get("/contact")
    fields = {"name": "Ada Visitor", "email": email, "subject": subject, "message": f"Hello about {subject}"}
    answer = web.post("/contact", data={**fields, "csrf_token": csrf_of(page), **extra}, follow_redirects=False)
    return answer.status_code, answer.headers.get("location", answer.text)


def tickets_from(engine: Engine, email: str) -> list[SupportTicket]:
    with Session(engine) as session:
        return list(session.exec(select(SupportTicket).where(SupportTicket.requester_email == email)).all())


def wait_for(check: Callable[[], object], timeout_s: float = 15) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"not true within {timeout_s} s")


def triaged(engine: Engine, ticket_id: str) -> SupportTicket | None:
    with Session(engine) as session:
        ticket = session.get(SupportTicket, ticket_id)
        return ticket if ticket is not None and ticket.triage_source is not None else None


def textarea(page: str, name: str) -> str:
    found = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, page[:2000]
    return unescape(found.group(1))


def test_the_contact_page_is_linked_from_sign_in_and_the_footer_and_hides_its_honeypot(web: TestClient) -> None:
    web.cookies.clear()

    sign_in_page, contact_page = web.get("/sign-in").text, web.get("/contact").text

    assert sign_in_page.count('href="/contact"') == 2  # the card's "Need help?" and the footer
    trap = re.search(r'<div class="contact-trap" aria-hidden="true">.*?</div>', contact_page, re.S)
    assert trap is not None
    assert re.search(r'<input[^>]*name="website"[^>]*tabindex="-1"[^>]*autocomplete="off"', trap.group(0))
    assert 'name="email"' in contact_page and 'name="message"' in contact_page


def test_a_visitors_message_opens_a_ticket_and_answers_the_thank_you_page(web: TestClient, engine: Engine) -> None:
    email = unique_email("visitor")

    status, location = contact(web, email, "Question about plans")

    assert (status, location) == (303, "/contact/sent")
    assert "Thank you for writing" in web.get(location).text
    [ticket] = tickets_from(engine, email)
    assert (ticket.origin, ticket.subject, ticket.tenant_id, ticket.requester_name) == (
        "contact", "Question about plans", None, "Ada Visitor",
    )  # fmt: skip


def test_a_filled_honeypot_gets_the_same_thank_you_and_opens_no_ticket(web: TestClient, engine: Engine) -> None:
    email = unique_email("bot")

    status, location = contact(web, email, "Cheap pills", website="http://spam.example")

    assert (status, location) == (303, "/contact/sent")
    assert "Thank you for writing" in web.get(location).text
    assert tickets_from(engine, email) == []


def test_a_wrong_contact_form_says_what_to_fix_keeps_what_was_typed_and_opens_nothing(
    web: TestClient, engine: Engine
) -> None:
    status, page = contact(web, "not-an-address", "Typo <b>subject</b>")

    assert status == 422
    assert "Enter a valid e-mail address." in page
    assert 'value="Typo &lt;b&gt;subject&lt;/b&gt;"' in page and 'value="not-an-address"' in page
    assert tickets_from(engine, "not-an-address") == []


def test_too_many_messages_from_one_address_are_refused_with_a_clear_message(web: TestClient, engine: Engine) -> None:
    email = unique_email("eager")
    for n in range(3):
        assert contact(web, email, f"Attempt {n}")[0] == 303

    status, page = contact(web, email, "One too many")

    assert status == 429
    assert "Too many messages were sent from here" in page
    assert len(tickets_from(engine, email)) == 3


def test_a_customer_opens_a_ticket_replies_closes_and_rates_it(web: TestClient, team: Team, engine: Engine) -> None:
    use_cookies(web, team.member)
    assert "No tickets yet" in web.get("/app/support").text

    opened = web.post(
        "/app/support", data=form(team.member, subject="Export <stuck>", message="My export is stuck"),
        follow_redirects=False,
    )  # fmt: skip
    assert opened.status_code == 303
    ticket_id = opened.headers["location"].split("/app/support/")[1].split("?")[0]
    page = web.get(opened.headers["location"]).text
    assert "Your ticket is open" in page and "Export &lt;stuck&gt;" in page and "My export is stuck" in page
    listing = web.get("/app/support").text
    assert f'href="/app/support/{ticket_id}"' in listing

    replied = web.post(f"/app/support/{ticket_id}/reply", data=form(team.member, message="Any news?"))
    assert replied.status_code == 200 and "Your reply was added." in replied.text and "Any news?" in replied.text
    closed = web.post(f"/app/support/{ticket_id}/close", data=form(team.member))
    assert closed.status_code == 200 and "Tell us how we did" in closed.text and 'name="score"' in closed.text
    late = web.post(f"/app/support/{ticket_id}/reply", data=form(team.member, message="One more thing"))
    assert late.status_code == 409 and "This ticket is closed" in late.text

    rated = web.post(f"/app/support/{ticket_id}/rate", data=form(team.member, score="4", comment="Quick, thanks"))

    assert rated.status_code == 200 and "Thank you for your rating." in rated.text and "4 — happy" in rated.text
    with Session(engine) as session:
        row = session.get_one(SupportTicket, ticket_id)
        assert (row.status, row.csat_score, row.csat_comment) == ("closed", 4, "Quick, thanks")
    again = web.post(f"/app/support/{ticket_id}/rate", data=form(team.member, score="1"))
    assert again.status_code == 409 and "rated already" in again.text and 'name="score"' not in again.text
    with Session(engine) as session:
        assert session.get_one(SupportTicket, ticket_id).csat_score == 4


def test_a_ticket_without_a_subject_is_refused_on_the_form(web: TestClient, team: Team) -> None:
    use_cookies(web, team.admin)

    refused = web.post("/app/support", data=form(team.admin, subject="  ", message="Words"), follow_redirects=False)

    assert refused.status_code == 422 and "Give your ticket a subject and a message." in refused.text


def test_another_tenants_ticket_answers_404_on_every_customer_page(
    web: TestClient, team: Team, other: Team, engine: Engine
) -> None:
    use_cookies(web, team.admin)
    opened = web.post(
        "/app/support", data=form(team.admin, subject="Private matter", message="Ours only"), follow_redirects=False
    )
    ticket_id = opened.headers["location"].split("/app/support/")[1].split("?")[0]

    use_cookies(web, other.admin)
    answers = [
        web.get(f"/app/support/{ticket_id}").status_code,
        web.post(f"/app/support/{ticket_id}/reply", data=form(other.admin, message="Peek")).status_code,
        web.post(f"/app/support/{ticket_id}/close", data=form(other.admin)).status_code,
        web.post(f"/app/support/{ticket_id}/rate", data=form(other.admin, score="1")).status_code,
    ]

    assert answers == [404, 404, 404, 404]
    assert "Private matter" not in web.get("/app/support").text
    with Session(engine) as session:
        row = session.get_one(SupportTicket, ticket_id)
        assert (row.status != "closed", row.csat_score) == (True, None)


def test_the_panels_support_section_is_404_for_tenant_users(web: TestClient, team: Team, engine: Engine) -> None:
    use_cookies(web, team.admin)
    opened = web.post("/app/support", data=form(team.admin, subject="Panel wall", message="Hi"), follow_redirects=False)
    ticket_id = opened.headers["location"].split("/app/support/")[1].split("?")[0]

    for user in (team.admin, team.member):
        use_cookies(web, user)
        assert web.get("/admin/power/support").status_code == 404
        assert web.get(f"/admin/power/support/{ticket_id}").status_code == 404
        forged = web.post(f"/admin/power/support/{ticket_id}/reply", data=form(user, message="Fake founder"))
        assert forged.status_code == 404

    with Session(engine) as session:
        assert session.get_one(SupportTicket, ticket_id).first_response_at is None


def test_the_founder_at_the_workspace_support_page_is_sent_to_the_panel(
    web: TestClient, founder: dict[str, str]
) -> None:
    use_cookies(web, founder)

    answer = web.get("/app/support", follow_redirects=False)

    assert (answer.status_code, answer.headers["location"]) == (303, "/admin/power/support")


def test_the_founder_sees_the_ai_triage_replies_with_the_suggested_text_and_the_visitor_gets_it_by_mail(
    web: TestClient, founder: dict[str, str], engine: Engine, smtp_sink: SmtpSink, fake_openai: FakeOpenAI
) -> None:
    marker = f"Zanzibarquery{uuid.uuid4().hex[:8]}"
    suggested = "Hello Ada, your invoice was corrected & a refund is on its way."
    triage = {"category": "billing", "priority": "high", "sentiment": "negative", "suggested_reply": suggested}
    fake_openai.script(Reply(content=triage), match=marker)
    email = unique_email("payer")
    assert contact(web, email, f"Charged twice {marker}")[0] == 303
    [ticket] = tickets_from(engine, email)
    wait_for(lambda: triaged(engine, ticket.id))

    use_cookies(web, founder)
    queue = web.get("/admin/power/support?category=billing&priority=high").text
    page = web.get(f"/admin/power/support/{ticket.id}").text

    assert f'href="/admin/power/support/{ticket.id}"' in queue
    assert 'data-triage="category">Billing<' in page and 'data-triage="priority">High<' in page
    assert 'data-triage="sentiment">Negative<' in page and 'data-triage="source">AI<' in page
    assert email in page and "Public contact (no account)" in page
    assert textarea(page, "message") == suggested
    assert f'href="/admin/power/support/{ticket.id}"' not in web.get("/admin/power/support?category=bug").text

    sent = web.post(
        f"/admin/power/support/{ticket.id}/reply", data=form(founder, message=suggested + " Sorry!"),
        follow_redirects=False,
    )  # fmt: skip
    assert (sent.status_code, sent.headers["location"]) == (303, f"/admin/power/support/{ticket.id}?done=replied")
    mail = wait_for(lambda: [m for m in mails_to(smtp_sink, email) if "refund is on its way" in m.get_content()])
    assert "Sorry!" in mail[0].get_content()  # type: ignore[index]
    after = web.get(sent.headers["location"]).text
    assert "Reply sent" in after and textarea(after, "message") == ""  # answered: no suggestion any more

    closed = web.post(f"/admin/power/support/{ticket.id}/close", data=form(founder), follow_redirects=False)
    assert closed.status_code == 303
    assert "Ticket closed" in web.get(closed.headers["location"]).text
    with Session(engine) as session:
        row = session.get_one(SupportTicket, ticket.id)
        assert (row.status, row.first_response_at is not None) == ("closed", True)
    rating_mail = wait_for(lambda: [m for m in mails_to(smtp_sink, email) if RATE_LINK.search(m.get_content())])
    found = RATE_LINK.search(rating_mail[0].get_content())  # type: ignore[index]
    assert found is not None and found.group(2) == ticket.id

    web.cookies.clear()
    rate_page = web.get(found.group(1))
    wrong = web.post(
        f"/support/tickets/{ticket.id}/rate", data={"csrf_token": csrf_of(rate_page), "token": "nope", "score": "5"}
    )
    assert wrong.status_code == 404 and "This link is not valid" in wrong.text
    rated = web.post(
        f"/support/tickets/{ticket.id}/rate",
        data={"csrf_token": csrf_of(rate_page), "token": found.group(3), "score": "5", "comment": "Great"},
    )
    assert rated.status_code == 200 and "Thank you for your rating" in rated.text
    with Session(engine) as session:
        assert session.get_one(SupportTicket, ticket.id).csat_score == 5
    twice = web.post(
        f"/support/tickets/{ticket.id}/rate",
        data={"csrf_token": csrf_of(rate_page), "token": found.group(3), "score": "1"},
    )
    assert twice.status_code == 409 and "rated already" in twice.text


def test_the_queue_filters_escalated_tickets_and_shows_the_summary(
    web: TestClient, founder: dict[str, str], engine: Engine
) -> None:
    email = unique_email("late")
    assert contact(web, email, "Nobody answered me")[0] == 303
    [ticket] = tickets_from(engine, email)
    wait_for(lambda: triaged(engine, ticket.id))
    with Session(engine) as session:  # as the workflow records a passed deadline
        row = session.get_one(SupportTicket, ticket.id)
        row.escalations, row.last_escalated_at = 1, datetime.now(UTC)
        row.first_response_due = datetime.now(UTC) - timedelta(hours=2)
        session.add(row)
        session.commit()
    use_cookies(web, founder)

    escalated = web.get("/admin/power/support?sla=escalated").text
    on_time = web.get("/admin/power/support?sla=on_time").text

    link = f'href="/admin/power/support/{ticket.id}"'
    assert link in escalated and link not in on_time
    assert "escalated once" in escalated and "First reply overdue by 2 hours" in escalated
    assert "First replies on time" in escalated and 'class="support-chart"' in escalated
    assert web.get("/admin/power/support?priority=bogus").status_code == 422
    assert web.get("/admin/power/support/no-such-ticket").status_code == 404


def test_a_ticket_waits_on_its_first_reply_then_its_resolution() -> None:
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    ticket = TicketPublic(
        id="t", tenant_id=None, origin="contact", subject="s", status="open", language="en", plan="free",
        created_at=now - timedelta(hours=1), first_response_due=now + timedelta(hours=3),
        resolution_due=now + timedelta(days=2),
    )  # fmt: skip

    waiting = sla_state(ticket, now)
    late = sla_state(ticket, now + timedelta(hours=5))
    answered = sla_state(ticket.model_copy(update={"first_response_at": now}), now)
    closed = sla_state(ticket.model_copy(update={"status": "closed"}), now)

    assert (waiting.kind, waiting.breached, waiting.seconds) == ("first_response", False, 3 * 3600)
    assert (late.kind, late.breached, late.seconds) == ("first_response", True, 2 * 3600)
    assert (answered.kind, answered.due) == ("resolution", now + timedelta(days=2))
    assert closed.kind == "none"


def test_the_volume_chart_draws_a_pair_of_columns_per_day_and_says_its_figures() -> None:
    days = [DayVolume("12/1", 3, 1), DayVolume("12/2", 0, 2)]

    svg = volume_svg(days, "Tickets <per day>", "3 opened, 3 closed.")

    assert svg.count('class="sc-bar sc-opened"') == 2 and svg.count('class="sc-bar sc-closed"') == 2
    assert '<title id="sc-title">Tickets &lt;per day&gt;</title>' in svg and "3 opened, 3 closed." in svg
    assert ">3</text>" in svg and ">2</text>" in svg


def test_a_visitor_writes_in_japanese_and_the_founder_reads_the_panel_in_german(
    web: TestClient, founder: dict[str, str], engine: Engine
) -> None:
    email = unique_email("kenji")
    web.cookies.clear()
    form_page = web.get("/ja/contact")
    answer = web.post(
        "/ja/contact",
        data={"csrf_token": csrf_of(form_page), "name": "山田", "email": email, "subject": "請求書について",
              "message": "請求書が見つかりません。"},
        follow_redirects=False,
    )  # fmt: skip

    assert "お問い合わせ" in form_page.text and "メッセージを送信" in form_page.text
    assert (answer.status_code, answer.headers["location"]) == (303, "/ja/contact/sent")
    assert "お問い合わせありがとうございます" in web.get(answer.headers["location"]).text
    [ticket] = tickets_from(engine, email)
    assert ticket.language == "ja"
    use_cookies(web, founder)
    panel = web.get("/de/admin/power/support").text
    assert "Die letzten 7 Tage" in panel and "Tickets filtern" in panel and "Öffentlicher Kontakt" in panel


def test_the_triage_card_asks_again_until_the_ticket_is_sorted_and_says_why_not_the_ai(
    web: TestClient, founder: dict[str, str], engine: Engine
) -> None:
    with Session(engine) as session:  # a ticket whose workflow has not sorted it yet
        row = SupportTicket(origin="contact", subject="Unsorted", body="Hi", reply_token=uuid.uuid4().hex)
        session.add(row)
        session.commit()
        ticket_id = row.id
    use_cookies(web, founder)

    waiting = web.get(f"/admin/power/support/{ticket_id}")
    polled = web.get(f"/admin/power/support/{ticket_id}/triage").text
    with Session(engine) as session:
        row = session.get_one(SupportTicket, ticket_id)
        row.category, row.priority, row.sentiment, row.status = "how_to", "low", "neutral", "open"
        row.suggested_reply, row.triage_source, row.fallback_reason = "Here is how.", "fallback", "ai_off"
        session.add(row)
        session.commit()
    sorted_card = web.get(f"/admin/power/support/{ticket_id}/triage").text

    assert "Not sorted yet" in waiting.text and f'hx-get="/admin/power/support/{ticket_id}/triage"' in waiting.text
    assert textarea(waiting.text, "message") == ""
    assert "<html" not in polled and 'hx-trigger="every 2s"' in polled
    assert "hx-trigger" not in sorted_card and 'data-triage="category">How to<' in sorted_card
    assert 'data-triage="source">Keyword rules (fallback)<' in sorted_card
    assert (
        "AI features are switched off" in sorted_card
        and "reload the page to fill in the suggested reply" in sorted_card
    )
    assert textarea(web.get(f"/admin/power/support/{ticket_id}").text, "message") == "Here is how."


def test_the_contact_form_needs_its_csrf_token_and_takes_a_signed_in_users_own(
    web: TestClient, team: Team, engine: Engine
) -> None:
    forged_email, member_email = unique_email("forged"), unique_email("signed-in")
    web.cookies.clear()
    web.get("/contact")
    fields = {"name": "Eve", "subject": "Hi", "message": "Hello"}

    forged = web.post("/contact", data={**fields, "email": forged_email, "csrf_token": "x" * 43})
    use_cookies(web, team.member)
    page = web.get("/contact")
    signed_in = web.post(
        "/contact", data={**fields, "email": member_email, "csrf_token": csrf_of(page)}, follow_redirects=False
    )

    assert forged.status_code == 403 and tickets_from(engine, forged_email) == []
    assert "open a ticket from Support" in page.text
    assert signed_in.status_code == 303 and len(tickets_from(engine, member_email)) == 1
