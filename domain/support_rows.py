"""The support desk's rows as its operations change them: a new ticket (a customer's or a contact's, within the
address's cap), a message, a score, and a ticket read in its caller's scope for a change it must allow."""

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from core.errors import ApiError
from core.security import hash_api_key, same_secret
from domain.accounts import normalized_email
from domain.support_views import ticket_row, ticket_view
from rules.support_sla import CONTACT_PLAN
from schemas.i18n import tr
from schemas.support import ContactCreate, CsatCreate, MessageAuthor, TicketCreate, TicketPublic
from schemas.tables import AuditEntry, SupportMessage, SupportTicket, Tenant, User


def add_tenant_ticket(engine: Engine, tenant_id: str, user_id: str | None, body: TicketCreate, language: str) -> str:
    with Session(engine) as session:
        tenant = session.get(Tenant, tenant_id)
        user = session.get(User, user_id) if user_id is not None else None
        if user is None or user.tenant_id != tenant_id:
            user = first_admin(session, tenant_id)
        ticket = SupportTicket(
            tenant_id=tenant_id,
            user_id=user.id if user is not None else None,
            origin="app",
            subject=body.subject,
            body=body.body,
            language=language,
            plan=tenant.plan if tenant is not None else CONTACT_PLAN,
            requester_name=(user.name or None) if user is not None else None,
            requester_email=user.email if user is not None else None,
            reply_token=secrets.token_urlsafe(24),
        )
        session.add(ticket)
        session.commit()
        return ticket.id


def first_admin(session: Session, tenant_id: str) -> User | None:
    query = select(User).where(User.tenant_id == tenant_id, User.role == "admin", col(User.removed_at).is_(None))
    return session.exec(query.order_by(col(User.created_at))).first()


def add_contact_ticket(engine: Engine, body: ContactCreate, language: str, cap: int, window_s: int) -> str | None:
    """The new ticket's id; None past `cap` contacts from the address within `window_s` (the database's count:
    every API process shares it)."""
    address = normalized_email(body.email)
    since = datetime.now(UTC) - timedelta(seconds=window_s)
    with Session(engine) as session:
        recent = session.exec(
            select(SupportTicket.id).where(
                SupportTicket.requester_email == address,
                SupportTicket.origin == "contact",
                col(SupportTicket.created_at) > since,
            )
        ).all()
        if len(recent) >= cap:
            return None
        ticket = SupportTicket(
            origin="contact",
            subject=body.subject,
            body=body.body,
            language=language,
            plan=CONTACT_PLAN,
            requester_name=body.name,
            requester_email=address,
            reply_token=secrets.token_urlsafe(24),
        )
        session.add(ticket)
        session.commit()
        return ticket.id


def open_row(engine: Engine, ticket_id: str, tenant_id: str | None) -> SupportTicket:
    with Session(engine, expire_on_commit=False) as session:
        ticket = ticket_row(session, ticket_id, tenant_id)
        if ticket.status == "closed":
            raise ApiError(409, "ticket_closed", tr("This ticket is closed"), field="ticket_id")
        return ticket


def add_message(
    engine: Engine, ticket_id: str, tenant_id: str | None, author: MessageAuthor, name: str | None, text: str
) -> SupportMessage:
    with Session(engine, expire_on_commit=False) as session:
        ticket = ticket_row(session, ticket_id, tenant_id)
        if ticket.status == "closed":
            raise ApiError(409, "ticket_closed", tr("This ticket is closed"), field="ticket_id")
        message = SupportMessage(
            ticket_id=ticket.id, author=author, author_name=name or ticket.requester_name, body=text
        )
        session.add(message)
        session.commit()
        return message


def drop_message(engine: Engine, message_id: str) -> None:
    with Session(engine) as session:
        session.execute(delete(SupportMessage).where(col(SupportMessage.id) == message_id))
        session.commit()


def ratable_row(engine: Engine, ticket_id: str, tenant_id: str | None, token: str | None) -> SupportTicket:
    with Session(engine, expire_on_commit=False) as session:
        if tenant_id is not None:
            ticket = ticket_row(session, ticket_id, tenant_id)
        else:
            ticket = ticket_row(session, ticket_id, None)
            if not token or not ticket.csat_token_hash or not same_secret(hash_api_key(token), ticket.csat_token_hash):
                raise ApiError(404, "ticket_not_found", tr("No ticket with this id"), field="ticket_id")
        if ticket.status != "closed":
            raise ApiError(409, "ticket_not_closed", tr("Only a closed ticket can be rated"), field="ticket_id")
        if ticket.csat_score is not None:
            raise ApiError(409, "ticket_already_rated", tr("This ticket was rated already"), field="ticket_id")
        return ticket


def record_score(engine: Engine, ticket_id: str, body: CsatCreate) -> None:
    with Session(engine) as session:
        ticket = session.get(SupportTicket, ticket_id)
        if ticket is None:
            return
        ticket.csat_score, ticket.csat_comment, ticket.rated_at = body.score, body.comment, datetime.now(UTC)
        session.add(ticket)
        session.commit()


def view(engine: Engine, ticket_id: str, tenant_id: str | None, founder: bool) -> TicketPublic:
    with Session(engine) as session:
        return ticket_view(session, ticket_row(session, ticket_id, tenant_id), founder=founder)


def record_audit(engine: Engine, ticket_id: str, actor: str, action: str, detail: dict[str, str]) -> None:
    """An audit entry for a change to a ticket (a founder's reply, a closing), under the ticket's tenant (none for a
    public contact). Ids only: the conversation's words stay in the ticket."""
    with Session(engine) as session:
        ticket = session.get(SupportTicket, ticket_id)
        tenant_id = ticket.tenant_id if ticket is not None else None
        session.add(
            AuditEntry(tenant_id=tenant_id, actor=actor[:100], action=action, detail={"ticket_id": ticket_id, **detail})
        )
        session.commit()
