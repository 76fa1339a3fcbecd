"""The support desk's shapes: a ticket's bodies on the API (a signed-in customer's ticket, the public contact form,
replies, closing, the satisfaction score), the founders' view and filters, the `SupportTicket` workflow's input,
messages and results, and the support summary of the daily report.

No e-mail address crosses into the workflow: it takes the ticket's id and reads the rest from the database."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from schemas.accounts import EmailAddress
from schemas.api import EntityId, Plan, StrictBody
from schemas.brain import AiSource, FallbackReason

TicketCategory = Literal["billing", "bug", "account", "how_to", "feature_request", "other"]
TicketPriority = Literal["low", "normal", "high", "urgent"]
TicketSentiment = Literal["positive", "neutral", "negative"]
TicketStatus = Literal["new", "open", "answered", "closed"]
"""new: not triaged yet; open: waiting for the founders; answered: a founder replied last; closed."""
MessageAuthor = Literal["customer", "founder"]
TicketOrigin = Literal["app", "contact"]
"""app: a signed-in customer (or a tenant key); contact: the public contact form, no account."""
MAX_SUBJECT_CHARS = 200
MAX_BODY_CHARS = 5_000
MAX_COMMENT_CHARS = 1_000
CSAT_PAGE_PATH = "/support/tickets/{ticket_id}/rate"
"""The web app's page where a customer rates a closed ticket (the satisfaction e-mail links to it with `?token=`)."""
FOUNDER_TICKET_PAGE_PATH = "/admin/power/support/{ticket_id}"
"""The panel's page of one ticket (the founders' e-mails link to it)."""


class TicketCreate(StrictBody):
    """A ticket from a signed-in customer or a tenant key."""

    subject: str = Field(min_length=1, max_length=MAX_SUBJECT_CHARS)
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS)
    language: str | None = Field(default=None, max_length=35)
    """The customer's language (replies and the suggested reply are written in it); None: the reader's."""


class ContactCreate(StrictBody):
    """The public contact form: no account needed."""

    name: str = Field(min_length=1, max_length=200)
    email: EmailAddress
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT_CHARS)
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS)
    language: str | None = Field(default=None, max_length=35)
    website: str = Field(default="", max_length=200)
    """A honeypot a person never sees: filled in, the form answers the same and nothing happens."""


class TicketAccepted(BaseModel):
    """What opening a ticket answers (a filled honeypot gets the same shape, with an id that leads nowhere)."""

    ticket_id: str
    status: TicketStatus = "new"


class TicketMessage(BaseModel):
    id: str
    author: MessageAuthor
    author_name: str | None = None
    body: str
    created_at: datetime


class TicketTriage(BaseModel):
    """How a ticket was sorted: by the AI, or by the keyword rules when the AI could not."""

    category: TicketCategory
    priority: TicketPriority
    sentiment: TicketSentiment
    suggested_reply: str
    """A reply the founders may send, in the customer's language."""
    source: AiSource
    fallback_reason: FallbackReason | None = None
    credits: int = 0


class TicketPublic(BaseModel):
    """A ticket as its customer sees it; the founders also see the triage and who wrote in."""

    id: str
    tenant_id: str | None
    origin: TicketOrigin
    subject: str
    status: TicketStatus
    language: str
    plan: Plan
    """The plan the SLA was set by (free for a public contact)."""
    category: TicketCategory | None = None
    priority: TicketPriority | None = None
    created_at: datetime
    first_response_due: datetime | None = None
    resolution_due: datetime | None = None
    first_response_at: datetime | None = None
    closed_at: datetime | None = None
    escalations: int = 0
    csat_score: int | None = None
    csat_comment: str | None = None
    messages: list[TicketMessage] = []
    triage: TicketTriage | None = None
    """Founders only."""
    requester_name: str | None = None
    """Founders only."""
    requester_email: str | None = None
    """Founders only."""


class TicketFilters(BaseModel):
    """What the founders' list narrows by; None: any."""

    status: TicketStatus | None = None
    priority: TicketPriority | None = None
    category: TicketCategory | None = None
    tenant_id: EntityId | None = None
    escalated: bool | None = None
    limit: int = Field(default=100, ge=1, le=500)


class TicketReply(StrictBody):
    """A message on a ticket: a founder's reply, or the customer's follow-up."""

    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS)


class CsatCreate(StrictBody):
    """The customer's satisfaction score after closing; a public contact rates with the token its e-mail links with."""

    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=MAX_COMMENT_CHARS)
    token: str | None = Field(default=None, max_length=128)


class InboundEmail(BaseModel):
    """A founder's reply by e-mail, as inbound-mail providers post it (extra fields are ignored)."""

    sender: str = Field(alias="from", max_length=500)
    to: str | list[str]
    subject: str = Field(default="", max_length=1_000)
    text: str = Field(default="", max_length=100_000)


class SupportSummary(BaseModel):
    """The support desk over a window: volume, SLA met, escalations, satisfaction."""

    since: datetime
    until: datetime
    opened: int
    closed: int
    first_response_met_pct: float | None
    """Of the tickets whose first-response deadline fell in the window or was met in it; None: none."""
    resolution_met_pct: float | None
    escalations: int
    csat_average: float | None
    csat_count: int = 0


class SupportWindow(BaseModel):
    """The window a support summary covers (the daily report's)."""

    since: datetime
    until: datetime


# --- The SupportTicket workflow ---


class SupportTicketInput(BaseModel):
    ticket_id: str
    tenant_id: str | None
    """Whose AI credits triage spends; None: the platform's (a public contact)."""
    csat_wait_days: int = 7


class TicketDeadlines(BaseModel):
    """The ticket's SLA, as recorded with its triage (rules/support_sla.py by plan and priority)."""

    first_response_due: datetime
    resolution_due: datetime


class TriageOutcome(BaseModel):
    """What the AI answered about a ticket (`answer`, None when it could not, with `fallback_reason`): the activity
    checks it, falls back to the keyword rules, and records the triage and the deadlines."""

    ticket_id: str
    opened_at: datetime
    """When the ticket's workflow started, by its clock: the deadlines count from here."""
    answer: dict[str, Any] | None = None
    credits: int = 0
    fallback_reason: FallbackReason | None = None


class RecordedTriage(BaseModel):
    triage: TicketTriage
    deadlines: TicketDeadlines


class ReplyNotice(BaseModel):
    """A message already stored on the ticket (`SupportTicket.reply`): the workflow e-mails it on."""

    ticket_id: str
    message_id: str
    author: MessageAuthor


class TicketClosing(BaseModel):
    ticket_id: str
    closed_by: str
    """Who closed it, as the audit log names actors."""


class CsatNotice(BaseModel):
    score: int = Field(ge=1, le=5)


class TicketRef(BaseModel):
    ticket_id: str


class TicketMailSent(BaseModel):
    recipients: int


class Escalation(BaseModel):
    ticket_id: str
    deadline: Literal["first_response", "resolution"]
    at: datetime
    """When the deadline passed, by the workflow's clock."""


class TicketProgress(BaseModel):
    """`SupportTicket.progress`: where the ticket stands in its workflow."""

    status: TicketStatus
    escalations: list[str] = []
    """The deadlines that passed ("first_response", "resolution"), in order."""
    first_response: bool = False
    rated: bool = False


class SupportTicketResult(BaseModel):
    ticket_id: str
    status: TicketStatus
    escalations: list[str]
    csat_score: int | None = None
