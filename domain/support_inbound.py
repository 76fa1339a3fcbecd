"""A founder's reply by e-mail: the inbound-mail provider posts the mail sent to a ticket's reply address
(support+<token>@...), and it becomes the founder's reply on that ticket, from a founder's address only. The
quoted conversation under the reply is left out."""

import asyncio
import re
from email.utils import getaddresses, parseaddr

from sqlmodel import Session, col, select

from core.errors import ApiError
from domain.accounts import normalized_email
from domain.support import SupportDesk, reply_as_founder
from schemas.i18n import tr
from schemas.support import MAX_BODY_CHARS, InboundEmail, TicketMessage, TicketReply
from schemas.tables import SupportTicket, User

REPLY_ADDRESS = re.compile(r"^support\+([A-Za-z0-9_-]{16,64})@", re.IGNORECASE)
# Where a mail client starts quoting the message replied to.
QUOTE_STARTS = (
    re.compile(r"^>"),
    re.compile(r"^On .+ wrote:\s*$"),
    re.compile(r"^-+ ?Original Message ?-+", re.IGNORECASE),
    re.compile(r"^From: .+"),
)


async def reply_by_email(desk: SupportDesk, founder_email: str | None, mail: InboundEmail) -> TicketMessage:
    """The founder's reply in `mail`, posted on the ticket its reply address names. 404 `ticket_not_found` for an
    address that names no ticket; 403 `sender_not_founder` unless it comes from a founder's address (FOUNDER_EMAIL
    or a founder user's); 422 `empty_reply` when nothing is left above the quoted text; 409 `ticket_closed`."""
    token = _token(mail.to)
    sender = normalized_email(parseaddr(mail.sender)[1])
    ticket_id, name = await asyncio.to_thread(_ticket_and_founder, desk, founder_email, token, sender)
    text = reply_text(mail.text)
    if not text:
        raise ApiError(422, "empty_reply", tr("The e-mail has no reply above the quoted text"), field="text")
    # The founder is known by the address the reply came from: the audit names the way, not the address.
    return await reply_as_founder(desk, ticket_id, TicketReply(body=text), name, actor="founder:e-mail")


def reply_text(text: str) -> str:
    """The reply above the quoted conversation, bounded to a message's size."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if any(pattern.match(line.strip()) for pattern in QUOTE_STARTS):
            break
        kept.append(line)
    return "\n".join(kept).strip()[:MAX_BODY_CHARS]


def _token(to: str | list[str]) -> str | None:
    for _, address in getaddresses(to if isinstance(to, list) else [to]):
        found = REPLY_ADDRESS.match(address.strip())
        if found:
            return found.group(1)
    return None


def _ticket_and_founder(
    desk: SupportDesk, founder_email: str | None, token: str | None, sender: str
) -> tuple[str, str]:
    with Session(desk.engine) as session:
        ticket = (
            session.exec(select(SupportTicket).where(SupportTicket.reply_token == token)).first() if token else None
        )
        if ticket is None:
            raise ApiError(404, "ticket_not_found", tr("No ticket has this reply address"), field="to")
        founder = session.exec(
            select(User).where(User.email == sender, User.role == "founder", col(User.removed_at).is_(None))
        ).first()
        if founder is not None:
            return ticket.id, founder.name or "Levqor"
        if founder_email and sender == normalized_email(founder_email):
            return ticket.id, "Levqor"
        raise ApiError(403, "sender_not_founder", tr("Only a founder's address may reply to tickets"), field="from")
