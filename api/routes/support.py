"""The support desk: tickets, the public contact form, founders' replies (in the panel and by e-mail),
satisfaction scores and the support summary."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Path, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from api.deps import (
    SESSION_COOKIE,
    Caller,
    CallerDep,
    EngineDep,
    FounderDep,
    SettingsDep,
    TemporalDep,
    audit_actor,
    caller_tenant,
    get_caller,
)
from api.errors import reader_locale
from core.errors import ApiError
from core.security import same_secret
from domain import support
from domain.approvals import decider_name
from domain.support_inbound import reply_by_email
from schemas.i18n import tr
from schemas.support import (
    ContactCreate,
    CsatCreate,
    InboundEmail,
    SupportSummary,
    TicketAccepted,
    TicketCategory,
    TicketCreate,
    TicketFilters,
    TicketMessage,
    TicketPriority,
    TicketPublic,
    TicketReply,
    TicketStatus,
)

router = APIRouter(prefix="/api/support", tags=["support"])
TicketId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,36}$")]
INBOUND_SECRET_HEADER = "X-Levqor-Inbound-Secret"
TICKETS = tr("Support tickets")


async def maybe_caller(
    request: Request, settings: SettingsDep, engine: EngineDep, background: BackgroundTasks
) -> Caller | None:
    """The caller when the request carries a token or a session; None for a stranger with a rating link's token
    (so the route lists no bearer requirement: either way in is documented on the route)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    credentials = None
    if scheme.lower() == "bearer" and token.strip():
        credentials = HTTPAuthorizationCredentials(scheme=scheme, credentials=token.strip())
    if credentials is None and SESSION_COOKIE not in request.cookies:
        return None
    return await get_caller(request, settings, engine, background, credentials)


@router.post("/tickets", status_code=status.HTTP_202_ACCEPTED)
async def open_ticket(
    body: TicketCreate, caller: CallerDep, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep,
    request: Request,
) -> TicketAccepted:  # fmt: skip
    """Open a ticket for the caller's tenant (a signed-in user or a tenant key); it is triaged and answered within
    the plan's SLA."""
    tenant_id = caller_tenant(caller, TICKETS)
    desk = support.support_desk(engine, temporal, settings)
    return await support.open_ticket(desk, tenant_id, caller.user_id, body, reader_locale(request))


@router.post("/contact", status_code=status.HTTP_202_ACCEPTED)
async def open_contact(
    body: ContactCreate, request: Request, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> TicketAccepted:
    """The public contact form (no account): 202 with the ticket's id; 429 `too_many_requests` past the limits per
    e-mail address and per client."""
    desk = support.support_desk(engine, temporal, settings)
    limiter = support.support_limiter(request.app.state, settings)
    ip = request.client.host if request.client else "unknown"
    return await support.open_contact(desk, limiter, body, ip, reader_locale(request))


@router.get("/tickets")
async def list_tickets(
    caller: CallerDep,
    engine: EngineDep,
    status_: Annotated[TicketStatus | None, Query(alias="status")] = None,
    priority: TicketPriority | None = None,
    category: TicketCategory | None = None,
    tenant_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9-]{1,36}$")] = None,
    escalated: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[TicketPublic]:
    """The tenant's own tickets; the founder's: every ticket, filtered by status, priority, category, tenant and
    whether it was escalated."""
    if not caller.is_founder:
        return await run_in_threadpool(support.tenant_tickets, engine, caller_tenant(caller, TICKETS))
    filters = TicketFilters(status=status_, priority=priority, category=category, tenant_id=tenant_id,
                            escalated=escalated, limit=limit)  # fmt: skip
    return await run_in_threadpool(support.founder_tickets, engine, filters)


@router.get("/tickets/{ticket_id}")
async def read_ticket(ticket_id: TicketId, caller: CallerDep, engine: EngineDep) -> TicketPublic:
    """One ticket with its messages (the founder also sees the triage); 404 `ticket_not_found` for another
    tenant's."""
    if caller.is_founder:
        return await run_in_threadpool(support.founder_ticket, engine, ticket_id)
    return await run_in_threadpool(support.ticket_for, engine, caller_tenant(caller, TICKETS), ticket_id)


@router.post("/tickets/{ticket_id}/replies", status_code=status.HTTP_201_CREATED)
async def reply_to_ticket(
    ticket_id: TicketId, body: TicketReply, caller: CallerDep, engine: EngineDep, temporal: TemporalDep,
    settings: SettingsDep,
) -> TicketMessage:  # fmt: skip
    """A founder's reply (e-mailed to the customer) or the customer's follow-up (e-mailed to the founders); 409
    `ticket_closed`."""
    desk = support.support_desk(engine, temporal, settings)
    if caller.is_founder:
        name = await decider_name(engine, caller.user_id, None)
        return await support.reply_as_founder(desk, ticket_id, body, _first_name(name), actor=audit_actor(caller))
    return await support.reply_as_customer(desk, caller_tenant(caller, TICKETS), ticket_id, body)


@router.post("/tickets/{ticket_id}/close")
async def close_ticket(
    ticket_id: TicketId, caller: CallerDep, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> TicketPublic:
    """Close a ticket (the founder any, a customer their own); the customer is then asked for a score. 409
    `ticket_closed`."""
    desk = support.support_desk(engine, temporal, settings)
    tenant_id = None if caller.is_founder else caller_tenant(caller, TICKETS)
    return await support.close_ticket(desk, tenant_id, ticket_id, audit_actor(caller))


@router.post("/tickets/{ticket_id}/csat")
async def rate_ticket(
    ticket_id: TicketId,
    body: CsatCreate,
    caller: Annotated[Caller | None, Depends(maybe_caller)],
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> TicketPublic:
    """The customer's satisfaction score (1–5, an optional comment) on a closed ticket: signed in (a bearer token
    or the web session), or with the `token` of the e-mail's link. 404 `ticket_not_found` (a wrong token too); 409 `ticket_not_closed`,
    `ticket_already_rated`."""
    desk = support.support_desk(engine, temporal, settings)
    if caller is None or body.token:
        if not body.token:
            raise ApiError(401, "unauthenticated", tr("Sign in, or use the link of the e-mail"), field="token")
        return await support.rate_ticket(desk, None, ticket_id, body)
    return await support.rate_ticket(desk, caller_tenant(caller, TICKETS), ticket_id, body)


@router.get("/summary")
async def support_summary(
    founder: FounderDep, engine: EngineDep, hours: Annotated[int, Query(ge=1, le=24 * 90)] = 24
) -> SupportSummary:
    """The last `hours`: tickets opened and closed, the share of first-response and resolution deadlines met,
    escalations and the average satisfaction score."""
    until = datetime.now(UTC)
    return await run_in_threadpool(support.support_summary, engine, until - timedelta(hours=hours), until)


@router.post("/inbound-email", status_code=status.HTTP_201_CREATED)
async def receive_reply_email(
    mail: InboundEmail,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    secret: Annotated[str | None, Header(alias=INBOUND_SECRET_HEADER)] = None,
) -> TicketMessage:
    """A founder's reply by e-mail, as the inbound-mail provider posts it (`from`, `to`, `subject`, `text`),
    authenticated by SUPPORT_INBOUND_SECRET in the X-Levqor-Inbound-Secret header. 404 `inbound_mail_off` while
    the secret is unset (the endpoint is off); 403 `sender_not_founder`; 404 `ticket_not_found`."""
    expected = settings.support_inbound_secret
    if expected is None:
        raise ApiError(404, "inbound_mail_off", tr("Replies by e-mail are not set up"), field="authorization")
    if not secret or not same_secret(secret, expected.get_secret_value()):
        raise ApiError(401, "unauthenticated", tr("Wrong or missing inbound-mail secret"), field=INBOUND_SECRET_HEADER)
    desk = support.support_desk(engine, temporal, settings)
    return await reply_by_email(desk, settings.founder_email, mail)


def _first_name(decider: str) -> str:
    """`Alice <alice@…>` → `Alice`; an address alone → Levqor (the customer never sees a founder's address)."""
    name = decider.split("<", 1)[0].strip()
    return name if name and "@" not in name and name != "founder" else "Levqor"
