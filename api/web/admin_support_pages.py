"""The Admin Power Panel's support section: every tenant's tickets and the public contacts with where each stands
against its SLA (due in, overdue, escalated), filtered by status, SLA, priority and category; the last days' volume,
SLA met and satisfaction; and a ticket's page with its triage (category, priority, sentiment, by the AI or the
keyword rules) and the suggested reply prefilled in the reply box, sent through `reply_as_founder` (the workflow
e-mails it), and closing. Founders only: 404 for anyone else."""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep
from api.web.admin_ops_view import Formats, formats, founder_actor
from api.web.ai_texts import FALLBACK_REASONS
from api.web.deps import FounderPage
from api.web.locale import page_redirect
from api.web.pages import render
from api.web.support_chart import DayVolume, volume_svg
from api.web.support_view import (
    CATEGORIES,
    PRIORITIES,
    SCORES,
    SENTIMENTS,
    STATUSES,
    DeskDep,
    sla_state,
)
from core.errors import ApiError
from core.i18n import render as render_text
from domain.support import close_ticket, founder_ticket, founder_tickets, reply_as_founder, support_summary
from domain.tenant_admin import tenant_names
from schemas.i18n import Text, tr, trn
from schemas.support import (
    MAX_BODY_CHARS,
    SupportSummary,
    TicketCategory,
    TicketFilters,
    TicketPriority,
    TicketPublic,
    TicketReply,
)

router = APIRouter(prefix="/admin/power/support", include_in_schema=False)
TicketId = Annotated[str, Path(max_length=36, pattern=r"^[A-Za-z0-9-]+$")]
StatusFilter = Literal["any", "new", "open", "answered", "closed"]
SlaFilter = Literal["any", "escalated", "on_time"]
SUMMARY_DAYS = 7
CHART_DAYS = 14
SHOWN = 100
SOURCES: dict[str, Text] = {"ai": tr("AI"), "fallback": tr("Keyword rules (fallback)")}
_LABELS: dict[str, Any] = {
    "statuses": STATUSES, "priorities": PRIORITIES, "categories": CATEGORIES, "sentiments": SENTIMENTS,
    "sources": SOURCES, "scores": SCORES, "fallback_reasons": FALLBACK_REASONS,
}  # fmt: skip
NOTICES: dict[str, Text] = {
    "replied": tr("Reply sent: the customer gets it by e-mail."),
    "closed": tr("Ticket closed: the customer is asked for a score."),
}


@router.get("")
async def support_queue(
    request: Request, _me: FounderPage, engine: EngineDep,
    status: Annotated[StatusFilter, Query()] = "any", sla: Annotated[SlaFilter, Query()] = "any",
    priority: Annotated[TicketPriority | Literal["any"], Query()] = "any",
    category: Annotated[TicketCategory | Literal["any"], Query()] = "any",
) -> HTMLResponse:  # fmt: skip
    """Tickets of every tenant and the public contacts, newest first, with the support summary."""
    filters = TicketFilters(
        status=None if status == "any" else status, priority=None if priority == "any" else priority,
        category=None if category == "any" else category, escalated=None if sla == "any" else sla == "escalated",
        limit=SHOWN,
    )  # fmt: skip
    fmt = formats(request)
    seen = await run_in_threadpool(_read, engine, filters, fmt)
    now = datetime.now(UTC)
    return render(
        request, "admin/support.html", title=tr("Support"), section="admin", tickets=seen.tickets,
        names=seen.names, sla_of={t.id: sla_state(t, now) for t in seen.tickets}, summary=seen.summary,
        days=seen.days, chart=_chart(seen.days, fmt),
        chosen_status=status, chosen_sla=sla, priority=priority, category=category, statuses=STATUSES,
        priorities=PRIORITIES, categories=CATEGORIES, fmt=fmt, shown=SHOWN, summary_days=SUMMARY_DAYS,
        chart_days=CHART_DAYS,
    )  # fmt: skip


@router.get("/{ticket_id}")
async def ticket_page(
    request: Request, ticket_id: TicketId, _me: FounderPage, engine: EngineDep,
    done: Annotated[Literal["replied", "closed", ""], Query()] = "",
) -> HTMLResponse:  # fmt: skip
    """One ticket: who wrote in, its triage, the conversation, the reply box (the suggested reply in it) and close."""
    return await _ticket(request, engine, ticket_id, notice=NOTICES.get(done))


@router.get("/{ticket_id}/triage")
async def triage_card(request: Request, ticket_id: TicketId, _me: FounderPage, engine: EngineDep) -> HTMLResponse:
    """The ticket's triage card alone (the page's htmx asks for it until the triage is recorded)."""
    ticket, _names = await run_in_threadpool(_read_ticket, engine, ticket_id)
    return render(request, "admin/_support_triage.html", ticket=ticket, fresh=True, **_LABELS)


@router.post("/{ticket_id}/reply")
async def reply(
    request: Request, ticket_id: TicketId, me: FounderPage, engine: EngineDep, desk: DeskDep,
    message: Annotated[str, Form(max_length=MAX_BODY_CHARS)] = "",
) -> Response:  # fmt: skip
    """Sends the founder's reply; the ticket's workflow e-mails it to the customer."""
    if not message.strip():
        return await _ticket(request, engine, ticket_id, 422, problem=tr("Write the reply first."), draft="")
    try:
        await reply_as_founder(
            desk, ticket_id, TicketReply(body=message.strip()), me.name or "Levqor", actor=founder_actor(me)
        )
    except ApiError as err:
        if err.status != 409:
            raise
        return await _ticket(request, engine, ticket_id, 409, problem=err.message, draft=message)
    return page_redirect(request, f"/admin/power/support/{ticket_id}?done=replied")


@router.post("/{ticket_id}/close")
async def close(request: Request, ticket_id: TicketId, me: FounderPage, desk: DeskDep) -> Response:
    """Closes the ticket; its workflow then asks the customer for a score."""
    try:
        await close_ticket(desk, None, ticket_id, founder_actor(me))
    except ApiError as err:
        if err.status != 409:
            raise
    return page_redirect(request, f"/admin/power/support/{ticket_id}?done=closed")


async def _ticket(request: Request, engine: Engine, ticket_id: str, code: int = 200, **extra: object) -> HTMLResponse:
    ticket, names = await run_in_threadpool(_read_ticket, engine, ticket_id)
    answered = any(m.author == "founder" for m in ticket.messages)
    suggested = ticket.triage.suggested_reply if ticket.triage and not answered else ""
    context: dict[str, object] = {"draft": suggested, **extra}
    return render(
        request, "admin/support_ticket.html", status=code, title=tr("Support"), section="admin", ticket=ticket,
        sla=sla_state(ticket, datetime.now(UTC)), names=names, fmt=formats(request), **_LABELS, **context,
    )  # fmt: skip


@dataclass(frozen=True)
class QueueView:
    tickets: list[TicketPublic]
    names: dict[str, str]
    """The tickets' tenants' names by id."""
    summary: SupportSummary
    days: list[DayVolume]


def _read(engine: Engine, filters: TicketFilters, fmt: Formats) -> QueueView:
    """The filtered tickets, the last SUMMARY_DAYS' summary and the last CHART_DAYS' volume, day by day."""
    now = datetime.now(UTC)
    today = now.date()
    days = []
    for back in range(CHART_DAYS - 1, -1, -1):
        day = today - timedelta(days=back)
        start = datetime.combine(day, time(), UTC)
        figures = support_summary(engine, start, min(start + timedelta(days=1), now + timedelta(seconds=1)))
        days.append(DayVolume(fmt.day(day), figures.opened, figures.closed))
    tickets = founder_tickets(engine, filters)
    summary = support_summary(engine, now - timedelta(days=SUMMARY_DAYS), now + timedelta(seconds=1))
    with Session(engine) as session:
        names = tenant_names(session, {t.tenant_id for t in tickets if t.tenant_id})
    return QueueView(tickets, names, summary, days)


def _read_ticket(engine: Engine, ticket_id: str) -> tuple[TicketPublic, dict[str, str]]:
    ticket = founder_ticket(engine, ticket_id)
    with Session(engine) as session:
        return ticket, tenant_names(session, {ticket.tenant_id} if ticket.tenant_id else set())


def _chart(days: list[DayVolume], fmt: Formats) -> str:
    opened, closed = sum(d.opened for d in days), sum(d.closed for d in days)
    title = render_text(tr("Tickets opened and closed per day over the last %(days)s days", days=CHART_DAYS), fmt.tag)
    desc = render_text(
        trn("%(num)s ticket opened, %(closed)s closed.", "%(num)s tickets opened, %(closed)s closed.", opened,
            closed=fmt.number(closed)),
        fmt.tag,
    )  # fmt: skip
    return volume_svg(days, title, desc)
