"""The support desk's public pages, no account needed: the contact form (its honeypot, its rate limit), the thank-you
page that never says whether a ticket was made, and the satisfaction page a closed ticket's e-mail links to (rated
with the e-mail's token). The same domain functions as POST /api/support/contact and the JSON rating do the work."""

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.deps import SettingsDep
from api.web.deps import MaybeSession
from api.web.locale import page_redirect
from api.web.pages import page_locale, render
from api.web.support_view import SCORES, AnyoneCsrf, DeskDep, client_address
from core.errors import ApiError
from domain.support import open_contact, rate_ticket, support_limiter
from schemas.i18n import Text, tr
from schemas.support import MAX_BODY_CHARS, MAX_COMMENT_CHARS, MAX_SUBJECT_CHARS, ContactCreate, CsatCreate

router = APIRouter(include_in_schema=False)
TicketId = Annotated[str, Path(max_length=36, pattern=r"^[A-Za-z0-9-]+$")]
FIELD_PROBLEMS: dict[str, Text] = {
    "name": tr("Tell us your name."),
    "email": tr("Enter a valid e-mail address."),
    "subject": tr("Give your message a subject."),
    "body": tr("Write your message."),
}


@router.get("/contact")
def contact_page(request: Request, me: MaybeSession) -> HTMLResponse:
    """The contact form (a signed-in reader is offered the app's support section too)."""
    return _form(request, 200, email=me.email if me else "")


@router.post("/contact", dependencies=[AnyoneCsrf])
async def send_contact(
    request: Request,
    desk: DeskDep,
    settings: SettingsDep,
    name: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    subject: Annotated[str, Form(max_length=MAX_SUBJECT_CHARS)] = "",
    message: Annotated[str, Form(max_length=MAX_BODY_CHARS)] = "",
    website: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Opens a ticket from the form (a filled honeypot answers the same and opens nothing)."""
    filled = {"name": name, "email": email, "subject": subject, "message": message}
    try:
        body = ContactCreate(
            name=name.strip(), email=email.strip(), subject=subject.strip(), body=message.strip(),
            language=page_locale(request), website=website,
        )  # fmt: skip
    except ValidationError as err:
        wrong = {str(problem["loc"][0]) for problem in err.errors() if problem["loc"]}
        problems = [text for field, text in FIELD_PROBLEMS.items() if field in wrong]
        return _form(request, 422, problems=problems, **filled)
    try:
        await open_contact(
            desk, support_limiter(request.app.state, settings), body, client_address(request), page_locale(request)
        )
    except ApiError as err:
        if err.code != "too_many_requests":
            raise
        return _form(request, 429, too_many=True, **filled)
    return page_redirect(request, "/contact/sent")


@router.get("/contact/sent")
def contact_sent(request: Request) -> HTMLResponse:
    return render(request, "support/contact_sent.html", title=tr("Thank you"))


@router.get("/support/tickets/{ticket_id}/rate")
def rate_page(request: Request, ticket_id: TicketId, token: Annotated[str, Query(max_length=128)] = "") -> HTMLResponse:
    """How happy the customer was with a closed ticket: the e-mail's link (its token) leads here."""
    return _rating(request, 200, ticket_id, token)


@router.post("/support/tickets/{ticket_id}/rate", dependencies=[AnyoneCsrf])
async def rate_by_token(
    request: Request,
    ticket_id: TicketId,
    desk: DeskDep,
    token: Annotated[str, Form(max_length=128)] = "",
    score: Annotated[int, Form(ge=1, le=5)] = 0,
    comment: Annotated[str, Form(max_length=MAX_COMMENT_CHARS)] = "",
) -> Response:
    """Records the score with the e-mail's token; a wrong token, or a ticket already rated, is said on the page."""
    if not score:
        return _rating(request, 422, ticket_id, token, problem=tr("Choose a score from 1 to 5."), comment=comment)
    try:
        await rate_ticket(desk, None, ticket_id, CsatCreate(score=score, comment=comment.strip() or None, token=token))
    except ApiError as err:
        if err.status not in (404, 409):
            raise
        return _rating(request, err.status, ticket_id, token, refused=err.code)
    return page_redirect(request, f"/support/tickets/{ticket_id}/rate/thanks")


@router.get("/support/tickets/{ticket_id}/rate/thanks")
def rated(request: Request, ticket_id: TicketId) -> HTMLResponse:
    return render(request, "support/rated.html", title=tr("Thank you"))


def _form(request: Request, status: int, **context: object) -> HTMLResponse:
    return render(request, "support/contact.html", status=status, title=tr("Contact us"), **context)


def _rating(request: Request, status: int, ticket_id: str, token: str, **context: object) -> HTMLResponse:
    return render(
        request, "support/rate.html", status=status, title=tr("Rate our answer"), ticket_id=ticket_id, token=token,
        scores=SCORES, **context,
    )  # fmt: skip
