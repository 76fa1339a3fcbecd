"""Reading support tickets: one ticket in its caller's scope (404 for another tenant's), a ticket as its customer
or the founders see it, and the timestamps the support summary counts."""

from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from core.errors import ApiError
from rules.support_summary import MOMENTS, TicketTimes, ticket_times
from schemas.i18n import tr
from schemas.support import TicketMessage, TicketPublic, TicketTriage
from schemas.tables import SupportMessage, SupportTicket

TICKET_FIELDS = ("id", "tenant_id", "origin", "subject", "status", "language", "plan", "category", "priority",
                 "created_at", "first_response_due", "resolution_due", "first_response_at", "closed_at",
                 "escalations", "csat_score", "csat_comment")  # fmt: skip


def ticket_row(session: Session, ticket_id: str, tenant_id: str | None) -> SupportTicket:
    """The ticket, when `tenant_id` is None (the founders) or it is that tenant's; else 404 `ticket_not_found`."""
    ticket = session.get(SupportTicket, ticket_id) if len(ticket_id) <= 36 else None
    if ticket is None or (tenant_id is not None and ticket.tenant_id != tenant_id):
        raise ApiError(404, "ticket_not_found", tr("No ticket with this id"), field="ticket_id")
    return ticket


def ticket_view(session: Session, ticket: SupportTicket, *, founder: bool, messages: bool = True) -> TicketPublic:
    """The ticket as its customer sees it (its first message is what they wrote), or with the triage and who
    wrote in for the founders."""
    view = TicketPublic.model_validate({name: getattr(ticket, name) for name in TICKET_FIELDS})
    if messages:
        first = TicketMessage(id=ticket.id, author="customer", author_name=ticket.requester_name,
                              body=ticket.body, created_at=ticket.created_at)  # fmt: skip
        query = select(SupportMessage).where(SupportMessage.ticket_id == ticket.id)
        rows = session.exec(query.order_by(col(SupportMessage.created_at))).all()
        view.messages = [first, *(TicketMessage.model_validate(row, from_attributes=True) for row in rows)]
    if founder:
        view.requester_name, view.requester_email = ticket.requester_name, ticket.requester_email
        view.triage = _triage(ticket)
    return view


def _triage(ticket: SupportTicket) -> TicketTriage | None:
    if ticket.triage_source is None:
        return None
    return TicketTriage.model_validate(
        {
            "category": ticket.category,
            "priority": ticket.priority,
            "sentiment": ticket.sentiment,
            "suggested_reply": ticket.suggested_reply or "",
            "source": ticket.triage_source,
            "fallback_reason": ticket.fallback_reason,
            "credits": ticket.triage_credits,
        }
    )


def summary_rows(session: Session, since: datetime, until: datetime) -> list[TicketTimes]:
    """The timestamps of every ticket something happened to in the window, or whose deadline fell in it."""
    query = select(SupportTicket).where(
        or_(*(col(getattr(SupportTicket, moment)).between(since, until) for moment in MOMENTS))
    )
    return [ticket_times(row) for row in session.exec(query).all()]
