"""The support desk's operations, for the JSON API and the web app alike: opening tickets (a customer's, or the
public contact form's), listing and reading them (a tenant its own, the founders all), replies, closing and the
satisfaction score. Each ticket is a `SupportTicket` workflow; replies, closing and scores reach it as updates,
and its validators answer 409 when the ticket cannot take them."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from core.errors import ApiError
from core.i18n import canonical_tag
from core.settings import Settings
from domain import support_rows as ticket_rows
from domain.sign_in_links import SignInLimiter, client_hash
from domain.support_views import summary_rows, ticket_row, ticket_view
from orchestrator.support_ticket import SupportTicket as TicketWorkflow
from rules.support_summary import summarize
from schemas.i18n import tr
from schemas.support import (
    ContactCreate,
    CsatCreate,
    CsatNotice,
    MessageAuthor,
    ReplyNotice,
    SupportSummary,
    SupportTicketInput,
    TicketAccepted,
    TicketClosing,
    TicketCreate,
    TicketFilters,
    TicketMessage,
    TicketPublic,
    TicketReply,
)
from schemas.tables import SupportTicket
from starters.support import start_ticket, ticket_handle

UPDATE_REFUSALS = {
    "TicketClosed": (409, "ticket_closed", tr("This ticket is closed")),
    "TicketNotClosed": (409, "ticket_not_closed", tr("Only a closed ticket can be rated")),
    "TicketAlreadyRated": (409, "ticket_already_rated", tr("This ticket was rated already")),
}


@dataclass(frozen=True)
class SupportDesk:
    """What every support operation needs: the database, Temporal and the worker's queue."""

    engine: Engine
    client: Client
    task_queue: str
    client_hash_key: str
    """Keys the hash a client address is counted by (the founder token, as sign-in links do)."""
    contacts_per_email: int = 3
    """Public contacts one address may send within `contact_window_s` (counted in the database)."""
    contact_window_s: int = 3600


def support_limiter(app_state: Any, settings: Settings) -> SignInLimiter:
    """The process's limiter of public contacts (per address and per client), kept on the app's state."""
    limiter = getattr(app_state, "support_limiter", None)
    if limiter is None:
        limiter = SignInLimiter(
            settings.support_contact_per_email, settings.support_contact_per_ip, settings.support_contact_window_s
        )
        app_state.support_limiter = limiter
    return limiter


def support_desk(engine: Engine, client: Client, settings: Settings) -> SupportDesk:
    return SupportDesk(
        engine=engine,
        client=client,
        task_queue=settings.task_queue,
        client_hash_key=settings.levqor_founder_token.get_secret_value(),
        contacts_per_email=settings.support_contact_per_email,
        contact_window_s=settings.support_contact_window_s,
    )


async def open_ticket(
    desk: SupportDesk, tenant_id: str, user_id: str | None, body: TicketCreate, reader_language: str
) -> TicketAccepted:
    """Opens a ticket for the tenant (written by its signed-in user `user_id`, or a key when None) and starts its
    workflow. The language is the body's, else `reader_language`."""
    language = canonical_tag(body.language) or reader_language
    ticket_id = await asyncio.to_thread(ticket_rows.add_tenant_ticket, desk.engine, tenant_id, user_id, body, language)
    await start_ticket(desk.client, SupportTicketInput(ticket_id=ticket_id, tenant_id=tenant_id), desk.task_queue)
    return TicketAccepted(ticket_id=ticket_id, status="new")


async def open_contact(
    desk: SupportDesk, limiter: SignInLimiter, body: ContactCreate, ip: str, reader_language: str
) -> TicketAccepted:
    """A ticket from the public contact form. A filled honeypot answers the same and starts nothing; 429
    `too_many_requests` past the per-address and per-client limits."""
    if body.website.strip():
        return TicketAccepted(ticket_id=str(uuid4()), status="new")
    if not limiter.allow(body.email, client_hash(ip, desk.client_hash_key)):
        raise _too_many()
    language = canonical_tag(body.language) or reader_language
    ticket_id = await asyncio.to_thread(
        ticket_rows.add_contact_ticket, desk.engine, body, language, desk.contacts_per_email, desk.contact_window_s
    )
    if ticket_id is None:
        raise _too_many()
    await start_ticket(desk.client, SupportTicketInput(ticket_id=ticket_id, tenant_id=None), desk.task_queue)
    return TicketAccepted(ticket_id=ticket_id, status="new")


def tenant_tickets(engine: Engine, tenant_id: str) -> list[TicketPublic]:
    """The tenant's tickets, newest first, without their messages."""
    with Session(engine) as session:
        query = select(SupportTicket).where(SupportTicket.tenant_id == tenant_id)
        found = session.exec(query.order_by(col(SupportTicket.created_at).desc()).limit(500)).all()
        return [ticket_view(session, row, founder=False, messages=False) for row in found]


def ticket_for(engine: Engine, tenant_id: str, ticket_id: str) -> TicketPublic:
    """One of the tenant's tickets with its messages; 404 `ticket_not_found` for another tenant's or none."""
    with Session(engine) as session:
        return ticket_view(session, ticket_row(session, ticket_id, tenant_id), founder=False)


def founder_ticket(engine: Engine, ticket_id: str) -> TicketPublic:
    """Any ticket with its messages, its triage and who wrote in; 404 `ticket_not_found`."""
    with Session(engine) as session:
        return ticket_view(session, ticket_row(session, ticket_id, None), founder=True)


def founder_tickets(engine: Engine, filters: TicketFilters) -> list[TicketPublic]:
    """Every tenant's tickets and the public contacts, newest first, narrowed by `filters` (with the triage)."""
    query = select(SupportTicket)
    for column, wanted in (
        (SupportTicket.status, filters.status),
        (SupportTicket.priority, filters.priority),
        (SupportTicket.category, filters.category),
        (SupportTicket.tenant_id, filters.tenant_id),
    ):
        if wanted is not None:
            query = query.where(column == wanted)
    if filters.escalated is not None:
        query = query.where(col(SupportTicket.escalations) > 0 if filters.escalated else SupportTicket.escalations == 0)
    with Session(engine) as session:
        found = session.exec(query.order_by(col(SupportTicket.created_at).desc()).limit(filters.limit)).all()
        return [ticket_view(session, row, founder=True, messages=False) for row in found]


def support_summary(engine: Engine, since: datetime, until: datetime) -> SupportSummary:
    """Tickets opened and closed in the window, the share of SLA deadlines met, escalations and the average score
    (rules/support_summary.py)."""
    with Session(engine) as session:
        return summarize(summary_rows(session, since, until), since, until)


async def reply_as_founder(
    desk: SupportDesk, ticket_id: str, body: TicketReply, author_name: str, *, actor: str
) -> TicketMessage:
    """A founder's reply: stored, then handed to the ticket's workflow, which e-mails it to the customer; audited as
    `support.replied` by `actor`. 404 `ticket_not_found`; 409 `ticket_closed`."""
    message = await _post_message(desk, ticket_id, None, "founder", author_name, body.body)
    detail = {"message_id": message.id}
    await asyncio.to_thread(ticket_rows.record_audit, desk.engine, ticket_id, actor, "support.replied", detail)
    return message


async def reply_as_customer(desk: SupportDesk, tenant_id: str, ticket_id: str, body: TicketReply) -> TicketMessage:
    """The customer's follow-up on their own ticket. 404 `ticket_not_found` (another tenant's); 409 `ticket_closed`."""
    return await _post_message(desk, ticket_id, tenant_id, "customer", None, body.body)


async def close_ticket(desk: SupportDesk, tenant_id: str | None, ticket_id: str, actor: str) -> TicketPublic:
    """Closes a ticket (the founders any, `tenant_id` None; a customer their own), audited as `support.closed` by
    `actor`; the workflow then asks the customer for a score. 404 `ticket_not_found`; 409 `ticket_closed`."""
    ticket = await asyncio.to_thread(ticket_rows.open_row, desk.engine, ticket_id, tenant_id)
    closing = TicketClosing(ticket_id=ticket.id, closed_by=actor)
    await _update(desk, ticket.id, lambda handle: handle.execute_update(TicketWorkflow.close, closing))
    await asyncio.to_thread(ticket_rows.record_audit, desk.engine, ticket.id, actor, "support.closed", {})
    return await asyncio.to_thread(ticket_rows.view, desk.engine, ticket.id, tenant_id, tenant_id is None)


async def rate_ticket(desk: SupportDesk, tenant_id: str | None, ticket_id: str, body: CsatCreate) -> TicketPublic:
    """The customer's satisfaction score on a closed ticket: their own (`tenant_id`) or, with no account, by the
    token their e-mail linked with (`tenant_id` None). 404 `ticket_not_found` (a wrong token too); 409
    `ticket_not_closed` or `ticket_already_rated`."""
    ticket = await asyncio.to_thread(ticket_rows.ratable_row, desk.engine, ticket_id, tenant_id, body.token)
    notice = CsatNotice(score=body.score)
    await _update(desk, ticket.id, lambda handle: handle.execute_update(TicketWorkflow.rate, notice))
    await asyncio.to_thread(ticket_rows.record_score, desk.engine, ticket.id, body)
    return await asyncio.to_thread(ticket_rows.view, desk.engine, ticket.id, tenant_id, False)


async def _post_message(
    desk: SupportDesk, ticket_id: str, tenant_id: str | None, author: MessageAuthor, name: str | None, text: str
) -> TicketMessage:
    message = await asyncio.to_thread(ticket_rows.add_message, desk.engine, ticket_id, tenant_id, author, name, text)
    notice = ReplyNotice(ticket_id=message.ticket_id, message_id=message.id, author=author)
    try:
        await _update(desk, message.ticket_id, lambda handle: handle.execute_update(TicketWorkflow.reply, notice))
    except ApiError:
        await asyncio.to_thread(ticket_rows.drop_message, desk.engine, message.id)
        raise
    return TicketMessage(
        id=message.id, author=author, author_name=name, body=message.body, created_at=message.created_at
    )


Update = Callable[[WorkflowHandle[TicketWorkflow, Any]], Awaitable[Any]]


async def _update(desk: SupportDesk, ticket_id: str, send: Update) -> None:
    """Sends one update to the ticket's workflow; its refusals as 409s, a workflow that ended as `ticket_closed`."""
    handle = ticket_handle(desk.client, ticket_id)
    try:
        await send(handle)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        kind = cause.type if isinstance(cause, ApplicationError) else None
        status, code, message = UPDATE_REFUSALS.get(kind or "", UPDATE_REFUSALS["TicketClosed"])
        raise ApiError(status, code, message, field="ticket_id") from err
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        # the workflow ended (its rating window passed): nothing more reaches the ticket
        raise ApiError(409, "ticket_closed", tr("This ticket is closed"), field="ticket_id") from err


def _too_many() -> ApiError:
    return ApiError(429, "too_many_requests", tr("Too many requests; please wait a few minutes"), field="email")
