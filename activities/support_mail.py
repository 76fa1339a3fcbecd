"""The support desk's e-mails, worded in their reader's language: a reply to the customer, a ticket's notice to
the founders (an escalation, or the customer's new message) with the ticket's reply address, and the request for
a satisfaction score. The one place their wording lives."""

from dataclasses import dataclass
from typing import Literal

from core.i18n import DEFAULT, render
from schemas.i18n import Text, tr
from schemas.support import CSAT_PAGE_PATH, FOUNDER_TICKET_PAGE_PATH

FounderNoticeKind = Literal["new_ticket", "first_response", "resolution", "customer_message"]
OPENINGS: dict[FounderNoticeKind, Text] = {
    "new_ticket": tr("A new support ticket arrived; its first reply is due by %(due)s."),
    "first_response": tr("The first reply to this ticket was due by %(due)s and nobody has answered yet."),
    "resolution": tr("This ticket was due to be resolved by %(due)s and is still open."),
    "customer_message": tr("The customer wrote again on this ticket."),
}
SUBJECTS: dict[FounderNoticeKind, Text] = {
    "new_ticket": tr("New support ticket: %(subject)s"),
    "first_response": tr("Support ticket overdue for a first reply: %(subject)s"),
    "resolution": tr("Support ticket overdue for resolution: %(subject)s"),
    "customer_message": tr("New message on support ticket: %(subject)s"),
}


@dataclass(frozen=True)
class TicketFacts:
    """What the e-mails say about a ticket."""

    id: str
    subject: str
    plan: str
    priority: str | None
    category: str | None
    requester: str
    """Who wrote in: a name or a tenant's name."""
    suggested_reply: str | None = None


def prefix(language: str) -> str:
    return "" if language == DEFAULT else f"/{language}"


def founder_notice(
    kind: FounderNoticeKind, ticket: TicketFacts, text: str, due: str, base_url: str, language: str
) -> tuple[str, str]:
    """An escalation or a new customer message, for the founders; replying to it answers the customer."""
    page = base_url.rstrip("/") + prefix(language) + FOUNDER_TICKET_PAGE_PATH.format(ticket_id=ticket.id)
    facts = tr(
        "From: %(requester)s · plan: %(plan)s · priority: %(priority)s · category: %(category)s",
        requester=ticket.requester,
        plan=ticket.plan,
        priority=ticket.priority or "-",
        category=ticket.category or "-",
    )
    suggestion: tuple[str, ...] = ()
    if ticket.suggested_reply and kind != "customer_message":
        suggestion = (render(tr("Suggested reply:"), language), ticket.suggested_reply)
    paragraphs = (
        render(OPENINGS[kind].model_copy(update={"params": {"due": due}}), language),
        render(facts, language),
        text,
        *suggestion,
        render(tr("Reply to this e-mail to answer the customer, or open the ticket in the panel:"), language),
        page,
    )
    subject = SUBJECTS[kind].model_copy(update={"params": {"subject": ticket.subject}})
    return render(subject, language), "\n\n".join(paragraphs) + "\n"


def customer_reply(subject: str, text: str, author: str, language: str) -> tuple[str, str]:
    """A founder's reply, for the customer."""
    paragraphs = (
        render(tr("Levqor support answered your request “%(subject)s”:", subject=subject), language),
        text,
        f"— {author}",
    )
    return render(tr("Re: %(subject)s", subject=subject), language), "\n\n".join(paragraphs) + "\n"


def rating_request(ticket_id: str, subject: str, token: str, base_url: str, language: str) -> tuple[str, str]:
    """After closing: the link where the customer rates the help from 1 to 5."""
    link = f"{base_url.rstrip('/')}{prefix(language)}{CSAT_PAGE_PATH.format(ticket_id=ticket_id)}?token={token}"
    paragraphs = (
        render(tr("Your support request “%(subject)s” is closed.", subject=subject), language),
        render(tr("How did we do? Rate our help from 1 (poor) to 5 (excellent) here:"), language),
        link,
        render(tr("Thank you for helping us get better."), language),
    )
    return render(tr("How did we do? %(subject)s", subject=subject), language), "\n\n".join(paragraphs) + "\n"
