"""A ticket's SLA at its real length, on Temporal's time-skipping test server: an unanswered ticket escalates to
the founders at its first-response deadline (not before), an answered one does not, and the plan sets the
deadline."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest
import pytest_asyncio
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from core.errors import ApiError
from core.security import hash_api_key
from core.settings import Settings
from domain.sign_in_links import SignInLimiter
from domain.support import SupportDesk, close_ticket, open_contact, open_ticket, rate_ticket, reply_as_founder
from orchestrator.support_ticket import SupportTicket as SupportTicketWorkflow
from orchestrator.worker import build_worker
from schemas.support import ContactCreate, CsatCreate, TicketCreate, TicketReply
from schemas.tables import SupportTicket, Tenant
from starters.support import ticket_handle
from tests.conftest import until
from tests.fakes.smtp import SmtpSink

FOUNDER = "founder-sla@levqor.test"


@dataclass
class Desk:
    env: WorkflowEnvironment
    desk: SupportDesk


@pytest_asyncio.fixture(scope="module")
async def desk(skipping_env: WorkflowEnvironment, settings: Settings, engine: Engine) -> AsyncIterator[Desk]:
    """The real worker on the time-skipping server, with FOUNDER_EMAIL set: one for the module, since the server
    skips no time while an earlier test's ticket has a task no worker takes."""
    queue = f"support-sla-{uuid.uuid4()}"
    own = settings.model_copy(update={"founder_email": FOUNDER})
    async with build_worker(skipping_env.client, own, engine, task_queue=queue):
        yield Desk(skipping_env, SupportDesk(engine, skipping_env.client, queue, "key"))


def ticket(engine: Engine, ticket_id: str) -> SupportTicket:
    with Session(engine) as session:
        row = session.get(SupportTicket, ticket_id)
        assert row is not None
        return row


async def triaged(engine: Engine, ticket_id: str) -> SupportTicket:
    async def probe() -> SupportTicket:
        return ticket(engine, ticket_id)

    return await until(probe, lambda row: row.first_response_due is not None, timeout_s=30)


def escalations_to_founder(sink: SmtpSink, ticket_id: str) -> list[EmailMessage]:
    return [
        mail.message
        for mail in list(sink.messages)
        if FOUNDER in mail.rcpt_tos and ticket_id in mail.message.get_content() and "overdue" in mail.message["Subject"]
    ]


def tenant_on(engine: Engine, plan: str) -> str:
    with Session(engine) as session:
        tenant = Tenant(name=f"sla {plan}", plan=plan)
        session.add(tenant)
        session.commit()
        return tenant.id


def contact(marker: str) -> ContactCreate:
    return ContactCreate(name="Dana", email=f"{marker}@customer.test", subject=f"Exports {marker}",
                         body=f"How do I export my runs? {marker}")  # fmt: skip


async def opened_at(env: WorkflowEnvironment, ticket_id: str) -> datetime:
    """When the ticket's workflow started, by the test server's clock (ahead of the wall clock once it skipped)."""
    return (await ticket_handle(env.client, ticket_id).describe()).start_time


async def test_an_unanswered_contact_escalates_at_its_48_hour_deadline_not_before(
    desk: Desk, engine: Engine, smtp_sink: SmtpSink
) -> None:
    marker = f"slafree{uuid.uuid4().hex[:8]}"
    accepted = await open_contact(desk.desk, SignInLimiter(10, 10, 60), contact(marker), "10.0.0.1", "en")
    row = await triaged(engine, accepted.ticket_id)
    start = await opened_at(desk.env, accepted.ticket_id)
    assert row.first_response_due is not None

    await desk.env.sleep(timedelta(hours=47))
    before = ticket(engine, accepted.ticket_id)
    await desk.env.sleep(timedelta(hours=1, minutes=1))
    after = await until(
        lambda: _ticket_async(engine, accepted.ticket_id), lambda row: row.escalations > 0, timeout_s=30
    )

    assert about(row.first_response_due - start, timedelta(hours=48))
    assert row.plan == "free" and row.priority == "normal"
    assert before.escalations == 0
    assert after.escalations == 1
    assert after.last_escalated_at is not None and after.last_escalated_at >= row.first_response_due
    [escalation] = escalations_to_founder(smtp_sink, accepted.ticket_id)
    assert escalation["Reply-To"] == f"support+{row.reply_token}@localhost"  # a reply answers the customer
    progress = await ticket_handle(desk.env.client, accepted.ticket_id).query(SupportTicketWorkflow.progress)
    assert progress.escalations == ["first_response"]


async def test_an_answered_ticket_does_not_escalate_at_its_deadline(
    desk: Desk, engine: Engine, smtp_sink: SmtpSink
) -> None:
    marker = f"slaanswered{uuid.uuid4().hex[:8]}"
    accepted = await open_contact(desk.desk, SignInLimiter(10, 10, 60), contact(marker), "10.0.0.2", "en")
    await triaged(engine, accepted.ticket_id)
    await reply_as_founder(
        desk.desk, accepted.ticket_id, TicketReply(body="Use the export page."), "Alice", actor="founder"
    )

    await desk.env.sleep(timedelta(hours=73))

    row = ticket(engine, accepted.ticket_id)
    assert row.first_response_at is not None
    assert row.escalations == 0
    assert escalations_to_founder(smtp_sink, accepted.ticket_id) == []
    assert any(f"{marker}@customer.test" in mail.rcpt_tos for mail in smtp_sink.messages)


async def test_a_pro_tickets_first_response_is_due_in_8_hours_a_free_ones_in_48(
    desk: Desk, engine: Engine, smtp_sink: SmtpSink
) -> None:
    body = TicketCreate(subject="Schedules", body="How do I pause a schedule over the weekend?")
    pro = await open_ticket(desk.desk, tenant_on(engine, "pro"), None, body, "en")
    free = await open_ticket(desk.desk, tenant_on(engine, "free"), None, body, "en")
    pro_row, free_row = await triaged(engine, pro.ticket_id), await triaged(engine, free.ticket_id)

    await desk.env.sleep(timedelta(hours=8, minutes=1))
    pro_after = await until(lambda: _ticket_async(engine, pro.ticket_id), lambda row: row.escalations > 0, 30)
    free_after = ticket(engine, free.ticket_id)

    assert pro_row.priority == free_row.priority == "normal"
    assert pro_row.first_response_due is not None and free_row.first_response_due is not None
    assert about(pro_row.first_response_due - await opened_at(desk.env, pro.ticket_id), timedelta(hours=8))
    assert about(free_row.first_response_due - await opened_at(desk.env, free.ticket_id), timedelta(hours=48))
    assert pro_after.escalations == 1
    assert free_after.escalations == 0


def about(delta: timedelta, expected: timedelta) -> bool:
    """Within a second: the deadline counts from the workflow's first task, a moment after its start."""
    return abs(delta - expected) < timedelta(seconds=1)


async def _ticket_async(engine: Engine, ticket_id: str) -> SupportTicket:
    return ticket(engine, ticket_id)


async def test_an_answered_but_unresolved_ticket_escalates_at_its_resolution_deadline(
    desk: Desk, engine: Engine, smtp_sink: SmtpSink
) -> None:
    body = TicketCreate(subject="Webhooks", body="How do I sign my webhook calls?")
    accepted = await open_ticket(desk.desk, tenant_on(engine, "pro"), None, body, "en")
    await triaged(engine, accepted.ticket_id)
    await reply_as_founder(
        desk.desk, accepted.ticket_id, TicketReply(body="With the hook's secret."), "Alice", actor="founder"
    )

    await desk.env.sleep(timedelta(days=1, hours=23))
    before = ticket(engine, accepted.ticket_id)
    await desk.env.sleep(timedelta(hours=1, minutes=1))
    after = await until(lambda: _ticket_async(engine, accepted.ticket_id), lambda row: row.escalations > 0, 30)

    progress = await ticket_handle(desk.env.client, accepted.ticket_id).query(SupportTicketWorkflow.progress)
    assert before.escalations == 0
    assert after.escalations == 1
    assert progress.escalations == ["resolution"]


async def test_a_closed_ticket_ends_when_nobody_rates_it_within_seven_days(desk: Desk, engine: Engine) -> None:
    marker = f"slaunrated{uuid.uuid4().hex[:8]}"
    accepted = await open_contact(desk.desk, SignInLimiter(10, 10, 60), contact(marker), "10.0.0.3", "en")
    await triaged(engine, accepted.ticket_id)
    await close_ticket(desk.desk, None, accepted.ticket_id, "founder")

    handle = ticket_handle(desk.env.client, accepted.ticket_id)
    await desk.env.sleep(timedelta(days=6, hours=23))
    waiting = (await handle.describe()).status
    await desk.env.sleep(timedelta(hours=1, minutes=1))
    ended = await until(lambda: handle.describe(), lambda found: found.status != WorkflowExecutionStatus.RUNNING, 30)
    result = await handle.result()

    assert waiting == WorkflowExecutionStatus.RUNNING
    assert ended.status == WorkflowExecutionStatus.COMPLETED
    assert result.status == "closed" and result.csat_score is None and result.escalations == []
    assert ticket(engine, accepted.ticket_id).closed_by == "founder"
    assert ticket(engine, accepted.ticket_id).csat_token_hash is not None  # the rating e-mail went out
    with Session(engine) as session:
        row = session.get(SupportTicket, accepted.ticket_id)
        assert row is not None
        row.csat_token_hash = hash_api_key("late-token")
        session.add(row)
        session.commit()
    with pytest.raises(ApiError) as late:
        await rate_ticket(desk.desk, None, accepted.ticket_id, CsatCreate(score=5, token="late-token"))
    assert (late.value.status, late.value.code) == (409, "ticket_closed")
