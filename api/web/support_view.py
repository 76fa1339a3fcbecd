"""What the support desk's pages share: the desk their routes call through, the CSRF check of the pages anyone may
post, the words for a ticket's status, priority, category, sentiment and score in the reader's language, and where
a ticket stands against its SLA."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, Request

from api.deps import EngineDep, SettingsDep, TemporalDep, check_csrf
from api.web.deps import MaybeSession, check_anonymous_csrf
from domain.support import SupportDesk, support_desk
from schemas.i18n import Text, tr
from schemas.support import TicketPublic

STATUSES: dict[str, Text] = {
    "new": tr("New"),
    "open": tr("Waiting for the team"),
    "answered": tr("Answered"),
    "closed": tr("Closed"),
}
PRIORITIES: dict[str, Text] = {"urgent": tr("Urgent"), "high": tr("High"), "normal": tr("Normal"), "low": tr("Low")}
CATEGORIES: dict[str, Text] = {
    "billing": tr("Billing"),
    "bug": tr("Something is broken"),
    "account": tr("Account"),
    "how_to": tr("How to"),
    "feature_request": tr("Feature request"),
    "other": tr("Other"),
}
SENTIMENTS: dict[str, Text] = {"positive": tr("Positive"), "neutral": tr("Neutral"), "negative": tr("Negative")}
SCORES: dict[int, Text] = {
    1: tr("1 — very unhappy"),
    2: tr("2 — unhappy"),
    3: tr("3 — okay"),
    4: tr("4 — happy"),
    5: tr("5 — very happy"),
}
SlaKind = Literal["first_response", "resolution", "none"]


def desk(settings: SettingsDep, engine: EngineDep, temporal: TemporalDep) -> SupportDesk:
    return support_desk(engine, temporal, settings)


DeskDep = Annotated[SupportDesk, Depends(desk)]


@dataclass(frozen=True)
class SlaState:
    """The deadline a ticket waits on now (`kind`), when it is due, and whether it has passed."""

    kind: SlaKind
    due: datetime | None = None
    breached: bool = False
    seconds: float = 0
    """How long until the deadline, or (breached) since it passed."""


def sla_state(ticket: TicketPublic, now: datetime) -> SlaState:
    """The first reply's deadline until a founder replied, then the resolution's until the ticket is closed; none for a
    closed ticket or one not triaged yet."""
    if ticket.status == "closed":
        return SlaState("none")
    if ticket.first_response_at is None and ticket.first_response_due is not None:
        return _against("first_response", ticket.first_response_due, now)
    if ticket.resolution_due is not None:
        return _against("resolution", ticket.resolution_due, now)
    return SlaState("none")


def _against(kind: SlaKind, due: datetime, now: datetime) -> SlaState:
    left = (due - now).total_seconds()
    return SlaState(kind, due, left < 0, abs(left))


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def check_page_csrf(request: Request, me: MaybeSession) -> None:
    """The CSRF check of a page anyone may post (the contact form, the rating page): the session's token when
    someone is signed in, else the anonymous cookie's (double submit)."""
    if me is None:
        await check_anonymous_csrf(request)
        return
    submitted = (await request.form()).get("csrf_token")
    check_csrf(request, me, submitted if isinstance(submitted, str) else None)


AnyoneCsrf = Depends(check_page_csrf)
