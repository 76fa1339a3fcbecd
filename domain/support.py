"""The support desk's operations, for the JSON API and the web app alike: opening tickets (a customer's, or the
public contact form's), listing and reading them (a tenant its own, the founders all), replies, closing and the
satisfaction score. Each ticket is a `SupportTicket` workflow; replies, closing and scores reach it as updates."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from temporalio.client import Client

from domain.sign_in_links import SignInLimiter
from schemas.support import (
    ContactCreate,
    CsatCreate,
    InboundEmail,
    SupportSummary,
    TicketAccepted,
    TicketCreate,
    TicketFilters,
    TicketMessage,
    TicketPublic,
    TicketReply,
)


@dataclass(frozen=True)
class SupportDesk:
    """What every support operation needs: the database, Temporal and the worker's queue."""

    engine: Engine
    client: Client
    task_queue: str
    client_hash_key: str
    """Keys the hash a client address is counted by (the founder token, as sign-in links do)."""


async def open_ticket(
    desk: SupportDesk, tenant_id: str, user_id: str | None, body: TicketCreate, reader_language: str
) -> TicketAccepted:
    """Opens a ticket for the tenant (written by its signed-in user `user_id`, or a key when None) and starts its
    workflow. The language is the body's, else `reader_language`."""
    raise NotImplementedError


async def open_contact(
    desk: SupportDesk, limiter: SignInLimiter, body: ContactCreate, ip: str, reader_language: str
) -> TicketAccepted:
    """A ticket from the public contact form. A filled honeypot answers the same and starts nothing; 429
    `too_many_requests` past the per-address and per-client limits."""
    raise NotImplementedError


def tenant_tickets(engine: Engine, tenant_id: str) -> list[TicketPublic]:
    """The tenant's tickets, newest first, without their messages."""
    raise NotImplementedError


def ticket_for(engine: Engine, tenant_id: str, ticket_id: str) -> TicketPublic:
    """One of the tenant's tickets with its messages; 404 `ticket_not_found` for another tenant's or none."""
    raise NotImplementedError


def founder_ticket(engine: Engine, ticket_id: str) -> TicketPublic:
    """Any ticket with its messages, its triage and who wrote in; 404 `ticket_not_found`."""
    raise NotImplementedError


def founder_tickets(engine: Engine, filters: TicketFilters) -> list[TicketPublic]:
    """Every tenant's tickets and the public contacts, newest first, narrowed by `filters` (with the triage)."""
    raise NotImplementedError


async def reply_as_founder(desk: SupportDesk, ticket_id: str, body: TicketReply, author_name: str) -> TicketMessage:
    """A founder's reply: stored, then handed to the ticket's workflow, which e-mails it to the customer.
    404 `ticket_not_found`; 409 `ticket_closed`."""
    raise NotImplementedError


async def reply_as_customer(desk: SupportDesk, tenant_id: str, ticket_id: str, body: TicketReply) -> TicketMessage:
    """The customer's follow-up on their own ticket. 404 `ticket_not_found` (another tenant's); 409 `ticket_closed`."""
    raise NotImplementedError


async def reply_by_email(desk: SupportDesk, mail: InboundEmail) -> TicketMessage:
    """A founder's reply by e-mail to the ticket's reply address (support+<token>@...). 404 `ticket_not_found` for
    an unknown token; 403 `sender_not_founder` unless it comes from a founder's address; 409 `ticket_closed`."""
    raise NotImplementedError


async def close_ticket(desk: SupportDesk, tenant_id: str | None, ticket_id: str, actor: str) -> TicketPublic:
    """Closes a ticket (the founders any, `tenant_id` None; a customer their own); the workflow then asks the
    customer for a score. 404 `ticket_not_found`; 409 `ticket_closed`."""
    raise NotImplementedError


async def rate_ticket(desk: SupportDesk, tenant_id: str | None, ticket_id: str, body: CsatCreate) -> TicketPublic:
    """The customer's satisfaction score on a closed ticket: their own (`tenant_id`) or, with no account, by the
    token their e-mail linked with (`tenant_id` None). 404 `ticket_not_found` (a wrong token too); 409
    `ticket_not_closed` or `ticket_already_rated`."""
    raise NotImplementedError


def support_summary(engine: Engine, since: datetime, until: datetime) -> SupportSummary:
    """Tickets opened and closed in the window, the share of SLA deadlines met, escalations and the average score."""
    raise NotImplementedError
