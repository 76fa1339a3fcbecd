"""Support in the workspace: the tenant's tickets (status, priority, the deadline it waits on, who wrote last), a new
ticket, a ticket's conversation with a reply box, closing it, and then its 1–5 satisfaction score. Through the same
domain functions as /api/support/tickets, scoped to the signed-in user's tenant (another tenant's ticket: 404).
The founder, who belongs to no tenant, is sent to the panel's support section."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api.deps import Caller, EngineDep, audit_actor
from api.web.admin_ops_view import formats
from api.web.deps import PageCaller
from api.web.locale import page_redirect
from api.web.pages import page_locale, render
from api.web.support_view import CATEGORIES, PRIORITIES, SCORES, STATUSES, DeskDep, sla_state
from core.errors import ApiError
from domain.support import close_ticket, open_ticket, rate_ticket, reply_as_customer, tenant_tickets, ticket_for
from schemas.i18n import Text, tr
from schemas.support import MAX_BODY_CHARS, MAX_COMMENT_CHARS, MAX_SUBJECT_CHARS, CsatCreate, TicketCreate, TicketReply

router = APIRouter(prefix="/app/support", include_in_schema=False)
TicketId = Annotated[str, Path(max_length=36, pattern=r"^[A-Za-z0-9-]+$")]
Done = Literal["opened", "replied", "closed", "rated", ""]
NOTICES: dict[str, Text] = {
    "opened": tr("Your ticket is open. We will answer here and by e-mail."),
    "replied": tr("Your reply was added."),
    "closed": tr("The ticket is closed. Tell us how we did below."),
    "rated": tr("Thank you for your rating."),
}
TICKET_CLOSED = tr("This ticket is closed; open a new one if you need more help.")


@router.get("")
async def support_page(request: Request, caller: PageCaller, engine: EngineDep) -> Response:
    """The tenant's tickets, newest first, and the new ticket form."""
    if caller.tenant_id is None:
        return page_redirect(request, "/admin/power/support")
    return await _list(request, engine, caller.tenant_id)


@router.post("")
async def new_ticket(
    request: Request, caller: PageCaller, engine: EngineDep, desk: DeskDep,
    subject: Annotated[str, Form(max_length=MAX_SUBJECT_CHARS)] = "",
    message: Annotated[str, Form(max_length=MAX_BODY_CHARS)] = "",
) -> Response:  # fmt: skip
    """Opens a ticket written by the signed-in user; answers the new ticket's page."""
    if caller.tenant_id is None:
        return page_redirect(request, "/admin/power/support")
    try:
        body = TicketCreate(subject=subject.strip(), body=message.strip(), language=page_locale(request))
    except ValidationError:
        problem = tr("Give your ticket a subject and a message.")
        return await _list(request, engine, caller.tenant_id, 422, problem=problem, subject=subject, message=message)
    accepted = await open_ticket(desk, caller.tenant_id, caller.user_id, body, page_locale(request))
    return page_redirect(request, f"/app/support/{accepted.ticket_id}?done=opened")


@router.get("/{ticket_id}")
async def ticket_page(
    request: Request, ticket_id: TicketId, caller: PageCaller, engine: EngineDep,
    done: Annotated[Done, Query()] = "",
) -> Response:  # fmt: skip
    """One of the tenant's tickets: its conversation, a reply box and "close"; once closed, its score."""
    if caller.tenant_id is None:
        return page_redirect(request, f"/admin/power/support/{ticket_id}")
    return await _ticket(request, engine, caller.tenant_id, ticket_id, notice=NOTICES.get(done))


@router.post("/{ticket_id}/reply")
async def reply(
    request: Request, ticket_id: TicketId, caller: PageCaller, engine: EngineDep, desk: DeskDep,
    message: Annotated[str, Form(max_length=MAX_BODY_CHARS)] = "",
) -> Response:  # fmt: skip
    """Adds the customer's follow-up to their ticket."""
    tenant_id = _tenant(caller)
    if not message.strip():
        return await _ticket(request, engine, tenant_id, ticket_id, 422, problem=tr("Write your reply first."))
    try:
        await reply_as_customer(desk, tenant_id, ticket_id, TicketReply(body=message.strip()))
    except ApiError as err:
        if err.status != 409:
            raise
        return await _ticket(request, engine, tenant_id, ticket_id, 409, problem=TICKET_CLOSED)
    return page_redirect(request, f"/app/support/{ticket_id}?done=replied")


@router.post("/{ticket_id}/close")
async def close(request: Request, ticket_id: TicketId, caller: PageCaller, desk: DeskDep) -> Response:
    """Closes the customer's own ticket; the page then asks for a score."""
    tenant_id = _tenant(caller)
    try:
        await close_ticket(desk, tenant_id, ticket_id, audit_actor(caller))
    except ApiError as err:
        if err.status != 409:
            raise
    return page_redirect(request, f"/app/support/{ticket_id}?done=closed")


@router.post("/{ticket_id}/rate")
async def rate(
    request: Request, ticket_id: TicketId, caller: PageCaller, engine: EngineDep, desk: DeskDep,
    score: Annotated[int, Form(ge=0, le=5)] = 0,
    comment: Annotated[str, Form(max_length=MAX_COMMENT_CHARS)] = "",
) -> Response:  # fmt: skip
    """Records the 1–5 score (and comment) of a closed ticket, once."""
    tenant_id = _tenant(caller)
    if not score:
        problem = tr("Choose a score from 1 to 5.")
        return await _ticket(request, engine, tenant_id, ticket_id, 422, problem=problem, comment=comment)
    try:
        await rate_ticket(desk, tenant_id, ticket_id, CsatCreate(score=score, comment=comment.strip() or None))
    except ApiError as err:
        if err.status != 409:
            raise
        return await _ticket(request, engine, tenant_id, ticket_id, 409, problem=err.message)
    return page_redirect(request, f"/app/support/{ticket_id}?done=rated")


def _tenant(caller: Caller) -> str:
    """The caller's tenant; the founder answers tickets from the panel, not here (404)."""
    if caller.tenant_id is None:
        raise ApiError(404, "ticket_not_found", tr("There is no such ticket"), field="ticket_id")
    return caller.tenant_id


async def _list(request: Request, engine: Engine, tenant_id: str, status: int = 200, **extra: object) -> Response:
    tickets = await run_in_threadpool(tenant_tickets, engine, tenant_id)
    now = datetime.now(UTC)
    return render(
        request, "support/list.html", status=status, title=tr("Support"), section="support", tickets=tickets,
        sla={t.id: sla_state(t, now) for t in tickets}, statuses=STATUSES, priorities=PRIORITIES, fmt=formats(request),
        **extra,
    )  # fmt: skip


async def _ticket(
    request: Request, engine: Engine, tenant_id: str, ticket_id: str, status: int = 200, **extra: object
) -> Response:
    ticket = await run_in_threadpool(ticket_for, engine, tenant_id, ticket_id)
    return render(
        request, "support/ticket.html", status=status, title=tr("Support"), section="support", ticket=ticket,
        sla=sla_state(ticket, datetime.now(UTC)), statuses=STATUSES, priorities=PRIORITIES, categories=CATEGORIES,
        scores=SCORES, fmt=formats(request), **extra,
    )  # fmt: skip
