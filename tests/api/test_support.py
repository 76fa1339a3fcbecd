"""The support desk on the JSON API: tickets triaged by the AI or by the keyword rules, the public contact form
(honeypot, limits), founders' replies in the panel and by e-mail reaching the customer, closing, the satisfaction
score, tenants walled off, and the summary."""

import re
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from api.main import create_app
from core.settings import Settings
from schemas.tables import AuditEntry, SupportTicket
from tests.api.tenancy import ApiTenant, new_tenant
from tests.conftest import founder_headers
from tests.fakes.openai import FakeOpenAI, Reply
from tests.fakes.smtp import SmtpSink

FOUNDER = "founder-desk@levqor.test"
INBOUND_SECRET = "inbound-secret-for-tests"
RATING_LINK = re.compile(r"/support/tickets/([0-9a-f-]+)/rate\?token=([A-Za-z0-9_\-]+)")


@pytest.fixture(scope="module")
def desk(settings: Settings) -> Iterator[TestClient]:
    """The app (with its embedded worker) as a deployment with a founder address and replies by e-mail set up."""
    own = settings.model_copy(
        update={
            "task_queue": f"support-{uuid.uuid4()}",
            "founder_email": FOUNDER,
            "support_inbound_secret": SecretStr(INBOUND_SECRET),
            "support_reply_domain": "reply.levqor.test",
            "support_contact_per_ip": 10_000,
        }
    )
    with TestClient(create_app(own)) as client:
        yield client


def mails_to(sink: SmtpSink, address: str) -> list[EmailMessage]:
    return [mail.message for mail in list(sink.messages) if address in mail.rcpt_tos]


def wait_for_mail(sink: SmtpSink, address: str, count: int = 1, timeout_s: float = 20) -> EmailMessage:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        mails = mails_to(sink, address)
        if len(mails) >= count:
            return mails[count - 1]
        time.sleep(0.05)
    raise AssertionError(f"no e-mail #{count} to {address} within {timeout_s} s")


def founder_mail(sink: SmtpSink, subject: str, timeout_s: float = 20) -> EmailMessage:
    """The founders' e-mail with `subject` (a new ticket's notice, an escalation)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for mail in mails_to(sink, FOUNDER):
            if mail["Subject"] == subject:
                return mail
        time.sleep(0.05)
    raise AssertionError(f"no e-mail {subject!r} to the founder within {timeout_s} s")


def triaged(desk: TestClient, ticket_id: str, timeout_s: float = 20) -> dict:
    """The founder's view of the ticket once its triage is recorded."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = desk.get(f"/api/support/tickets/{ticket_id}", headers=founder_headers())
        assert answer.status_code == 200, answer.text
        if answer.json()["triage"] is not None:
            return answer.json()
        time.sleep(0.1)
    raise AssertionError(f"ticket {ticket_id} was not triaged within {timeout_s} s")


def contact(desk: TestClient, marker: str, **extra: str) -> dict:
    body = {"name": "Dana", "email": f"{marker}@customer.test", "subject": f"Exports {marker}",
            "body": f"How do I export my runs? {marker}", **extra}  # fmt: skip
    answer = desk.post("/api/support/contact", json=body)
    assert answer.status_code == 202, answer.text
    return answer.json()


def tenant_ticket(desk: TestClient, tenant: ApiTenant, subject: str, body: str, language: str = "en") -> str:
    answer = desk.post(
        "/api/support/tickets", json={"subject": subject, "body": body, "language": language}, headers=tenant.admin
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["ticket_id"])


def test_a_tenants_ticket_is_triaged_by_the_ai_with_addresses_masked(desk: TestClient, fake_openai: FakeOpenAI) -> None:
    marker = f"triageai{uuid.uuid4().hex[:8]}"
    triage = {"category": "bug", "priority": "high", "sentiment": "negative",
              "suggested_reply": "Lo siento, lo estamos revisando."}  # fmt: skip
    fake_openai.script(Reply(content=triage), match=marker)
    tenant = new_tenant(desk, plan="pro")

    ticket_id = tenant_ticket(desk, tenant, "Runs fail", f"{marker} my runs fail; write to ops@acme.test", "es")
    ticket = triaged(desk, ticket_id)

    assert ticket["triage"] == {
        **triage,
        "source": "ai",
        "fallback_reason": None,
        "credits": ticket["triage"]["credits"],
    }
    assert ticket["category"] == "bug" and ticket["priority"] == "high"
    assert ticket["plan"] == "pro" and ticket["language"] == "es"
    sent = fake_openai.requests_matching(marker)
    assert len(sent) == 1
    assert "ops@acme.test" not in str(sent[0])
    assert "write to [email]" in sent[0]["messages"][1]["content"]
    assert "Español" in sent[0]["messages"][0]["content"]


def test_a_refused_triage_falls_back_to_the_keyword_rules_in_the_customers_language(
    desk: TestClient, fake_openai: FakeOpenAI
) -> None:
    marker = f"triagerefused{uuid.uuid4().hex[:8]}"
    fake_openai.script(Reply(refusal="I cannot help with that."), match=marker)
    tenant = new_tenant(desk, plan="starter")

    ticket_id = tenant_ticket(desk, tenant, "Charged twice", f"{marker} I was charged twice on my invoice", "de")
    ticket = triaged(desk, ticket_id)

    assert ticket["triage"]["source"] == "fallback"
    assert ticket["triage"]["fallback_reason"] == "refused"
    assert ticket["category"] == "billing" and ticket["priority"] == "high"
    assert ticket["triage"]["suggested_reply"].startswith("Vielen Dank")


def test_the_public_contact_form_opens_a_ticket_on_the_free_plans_terms(desk: TestClient) -> None:
    marker = f"contact{uuid.uuid4().hex[:8]}"

    accepted = contact(desk, marker)
    ticket = triaged(desk, accepted["ticket_id"])

    assert ticket["origin"] == "contact" and ticket["tenant_id"] is None and ticket["plan"] == "free"
    assert ticket["requester_email"] == f"{marker}@customer.test"
    assert ticket["messages"][0]["body"] == f"How do I export my runs? {marker}"


def test_a_filled_honeypot_answers_the_same_and_starts_nothing(desk: TestClient, engine: Engine) -> None:
    marker = f"honeypot{uuid.uuid4().hex[:8]}"

    accepted = contact(desk, marker, website="http://spam.test")

    assert set(accepted) == {"ticket_id", "status"}
    with Session(engine) as session:
        assert session.get(SupportTicket, accepted["ticket_id"]) is None
    assert desk.get(f"/api/support/tickets/{accepted['ticket_id']}", headers=founder_headers()).status_code == 404


def test_contacts_past_the_limit_per_address_answer_429(desk: TestClient) -> None:
    marker = f"limit{uuid.uuid4().hex[:8]}"
    for _ in range(3):
        contact(desk, marker)

    refused = desk.post("/api/support/contact", json={"name": "Dana", "email": f"{marker}@customer.test",
                                                      "subject": "Again", "body": "Hello?"})  # fmt: skip

    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_requests" and refused.json()["field"] == "email"


def test_a_contact_with_a_bad_address_or_an_endless_body_is_refused(desk: TestClient) -> None:
    bad_address = desk.post("/api/support/contact", json={"name": "D", "email": "nope", "subject": "s", "body": "b"})
    endless = desk.post(
        "/api/support/contact", json={"name": "D", "email": "d@customer.test", "subject": "s", "body": "x" * 5_001}
    )

    assert bad_address.status_code == 422 and bad_address.json()["field"] == "body.email"
    assert endless.status_code == 422 and endless.json()["field"] == "body.body"


def test_another_tenants_ticket_answers_404(desk: TestClient) -> None:
    owner, stranger = new_tenant(desk), new_tenant(desk)
    ticket_id = tenant_ticket(desk, owner, "Mine", "How do I add a user?")

    read = desk.get(f"/api/support/tickets/{ticket_id}", headers=stranger.admin)
    reply = desk.post(f"/api/support/tickets/{ticket_id}/replies", json={"body": "hi"}, headers=stranger.admin)
    close = desk.post(f"/api/support/tickets/{ticket_id}/close", headers=stranger.admin)
    listed = desk.get("/api/support/tickets", headers=stranger.admin)

    assert [read.status_code, reply.status_code, close.status_code] == [404, 404, 404]
    assert read.json()["code"] == "ticket_not_found"
    assert ticket_id not in [ticket["id"] for ticket in listed.json()]
    assert desk.get(f"/api/support/tickets/{ticket_id}", headers=owner.member).json()["triage"] is None


def audits_of(engine: Engine, ticket_id: str) -> list[tuple[str, str]]:
    """The (action, actor) of the audit entries about the ticket."""
    with Session(engine) as session:
        entries = session.exec(select(AuditEntry).where(col(AuditEntry.action).startswith("support."))).all()
        return [(entry.action, entry.actor) for entry in entries if entry.detail.get("ticket_id") == ticket_id]


def test_a_founders_reply_in_the_panel_reaches_the_customer(
    desk: TestClient, engine: Engine, smtp_sink: SmtpSink
) -> None:
    marker = f"panelreply{uuid.uuid4().hex[:8]}"
    accepted = contact(desk, marker)
    triaged(desk, accepted["ticket_id"])

    replied = desk.post(f"/api/support/tickets/{accepted['ticket_id']}/replies",
                        json={"body": f"Use the export page. {marker}"}, headers=founder_headers())  # fmt: skip

    assert replied.status_code == 201, replied.text
    mail = wait_for_mail(smtp_sink, f"{marker}@customer.test")
    assert f"Use the export page. {marker}" in mail.get_content()
    assert mail["Subject"] == f"Re: Exports {marker}"
    ticket = desk.get(f"/api/support/tickets/{accepted['ticket_id']}", headers=founder_headers()).json()
    assert ticket["status"] == "answered" and ticket["first_response_at"] is not None
    assert [message["author"] for message in ticket["messages"]] == ["customer", "founder"]
    assert audits_of(engine, accepted["ticket_id"]) == [("support.replied", "founder")]


def test_a_founders_reply_by_email_reaches_the_customer(desk: TestClient, engine: Engine, smtp_sink: SmtpSink) -> None:
    marker = f"mailreply{uuid.uuid4().hex[:8]}"
    contact(desk, marker)
    notice = founder_mail(smtp_sink, f"New support ticket: Exports {marker}")
    address = str(notice["Reply-To"])
    mail = {"from": f"Founder <{FOUNDER}>", "to": address, "subject": "Re: Exports",
            "text": f"It is under Runs, Export. {marker}\n\nOn Mon, Dana wrote:\n> How do I export my runs?"}  # fmt: skip
    headers = {"X-Levqor-Inbound-Secret": INBOUND_SECRET}

    received = desk.post("/api/support/inbound-email", json=mail, headers=headers)

    assert address.startswith("support+") and address.endswith("@reply.levqor.test")
    assert "Suggested reply:" in notice.get_content() and f"How do I export my runs? {marker}" in notice.get_content()
    assert received.status_code == 201, received.text
    assert received.json()["body"] == f"It is under Runs, Export. {marker}"
    delivered = wait_for_mail(smtp_sink, f"{marker}@customer.test")
    assert f"It is under Runs, Export. {marker}" in delivered.get_content()
    assert "> How do I export" not in delivered.get_content()


def test_an_inbound_reply_needs_the_secret_and_a_founders_address(desk: TestClient, engine: Engine) -> None:
    accepted = contact(desk, f"mailrefused{uuid.uuid4().hex[:8]}")
    with Session(engine) as session:
        ticket = session.get(SupportTicket, accepted["ticket_id"])
        assert ticket is not None
        address = f"support+{ticket.reply_token}@reply.levqor.test"
    mail = {"from": "stranger@evil.test", "to": address, "subject": "Re", "text": "Refund approved!"}

    no_secret = desk.post("/api/support/inbound-email", json=mail)
    stranger = desk.post("/api/support/inbound-email", json=mail, headers={"X-Levqor-Inbound-Secret": INBOUND_SECRET})
    unknown = desk.post(
        "/api/support/inbound-email",
        json={**mail, "from": FOUNDER, "to": "support+unknown-token-0123456789@reply.levqor.test"},
        headers={"X-Levqor-Inbound-Secret": INBOUND_SECRET},
    )

    assert no_secret.status_code == 401
    assert stranger.status_code == 403 and stranger.json()["code"] == "sender_not_founder"
    assert unknown.status_code == 404 and unknown.json()["code"] == "ticket_not_found"


def test_a_closed_ticket_asks_for_a_score_by_email_and_records_it_once(
    desk: TestClient, engine: Engine, smtp_sink: SmtpSink
) -> None:
    marker = f"csat{uuid.uuid4().hex[:8]}"
    accepted = contact(desk, marker)
    ticket_id = accepted["ticket_id"]
    triaged(desk, ticket_id)
    early = desk.post(f"/api/support/tickets/{ticket_id}/csat", json={"score": 5, "token": "x" * 32})

    closed = desk.post(f"/api/support/tickets/{ticket_id}/close", headers=founder_headers())
    link = RATING_LINK.search(wait_for_mail(smtp_sink, f"{marker}@customer.test").get_content())
    assert link is not None and link.group(1) == ticket_id
    wrong = desk.post(f"/api/support/tickets/{ticket_id}/csat", json={"score": 5, "token": "y" * 32})
    rated = desk.post(f"/api/support/tickets/{ticket_id}/csat",
                      json={"score": 4, "comment": "Quick and kind", "token": link.group(2)})  # fmt: skip
    again = desk.post(f"/api/support/tickets/{ticket_id}/csat", json={"score": 1, "token": link.group(2)})
    reply_after = desk.post(f"/api/support/tickets/{ticket_id}/replies", json={"body": "hm"}, headers=founder_headers())

    assert early.status_code == 404
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert audits_of(engine, ticket_id) == [("support.closed", "founder")]
    assert wrong.status_code == 404
    assert rated.status_code == 200, rated.text
    assert rated.json()["csat_score"] == 4 and rated.json()["csat_comment"] == "Quick and kind"
    assert rated.json()["triage"] is None and rated.json()["requester_email"] is None
    assert again.status_code == 409 and again.json()["code"] == "ticket_already_rated"
    assert reply_after.status_code == 409 and reply_after.json()["code"] == "ticket_closed"


def test_a_customer_follows_up_closes_and_rates_their_own_ticket(desk: TestClient) -> None:
    tenant = new_tenant(desk, plan="starter")
    ticket_id = tenant_ticket(desk, tenant, "Invite", "How do I invite a colleague?")
    triaged(desk, ticket_id)

    followed = desk.post(
        f"/api/support/tickets/{ticket_id}/replies", json={"body": "Also: roles?"}, headers=tenant.member
    )
    closed = desk.post(f"/api/support/tickets/{ticket_id}/close", headers=tenant.member)
    rated = desk.post(f"/api/support/tickets/{ticket_id}/csat", json={"score": 5}, headers=tenant.member)
    closed_again = desk.post(f"/api/support/tickets/{ticket_id}/close", headers=tenant.member)

    assert followed.status_code == 201 and followed.json()["author"] == "customer"
    assert closed.status_code == 200
    assert rated.status_code == 200 and rated.json()["csat_score"] == 5
    assert closed_again.status_code == 409 and closed_again.json()["code"] == "ticket_closed"
    listed = desk.get("/api/support/tickets", headers=tenant.admin).json()
    assert [ticket["id"] for ticket in listed] == [ticket_id]


def test_the_founder_filters_tickets_and_reads_the_summary(desk: TestClient) -> None:
    tenant = new_tenant(desk, plan="enterprise")
    ticket_id = tenant_ticket(desk, tenant, "Down", "Production is down, urgent!")
    triaged(desk, ticket_id)
    before = desk.get("/api/support/summary", headers=founder_headers()).json()
    desk.post(f"/api/support/tickets/{ticket_id}/close", headers=founder_headers())
    desk.post(f"/api/support/tickets/{ticket_id}/csat", json={"score": 3}, headers=tenant.admin)

    urgent = desk.get(f"/api/support/tickets?tenant_id={tenant.id}&priority=urgent", headers=founder_headers())
    closed = desk.get(f"/api/support/tickets?tenant_id={tenant.id}&status=open", headers=founder_headers())
    summary = desk.get("/api/support/summary", headers=founder_headers())
    as_tenant = desk.get("/api/support/summary", headers=tenant.admin)

    assert [ticket["id"] for ticket in urgent.json()] == [ticket_id]
    assert closed.json() == []
    assert summary.status_code == 200
    assert summary.json()["closed"] == before["closed"] + 1
    assert summary.json()["csat_count"] == before["csat_count"] + 1
    assert summary.json()["resolution_met_pct"] is not None
    assert as_tenant.status_code == 403


def test_the_inbound_mail_endpoint_is_off_without_its_secret(api: TestClient) -> None:
    off = api.post("/api/support/inbound-email", json={"from": FOUNDER, "to": "support+x@reply.test", "text": "hi"})

    assert off.status_code == 404 and off.json()["code"] == "inbound_mail_off"
