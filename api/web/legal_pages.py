"""The public legal pages: terms, privacy and cookie policy in the reader's language (the English original, said so,
where no translation is published), and the cookie settings where a visitor makes or changes their choice (the
banner's form posts here too when scripts are off)."""

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlmodel import Session

from api.deps import SessionDep
from api.web.consent import consent_state
from api.web.consent_choice import ConsentVisitor, record_choice, small_consent_body
from api.web.deps import MaybeSession
from api.web.legal_text import blocks
from api.web.locale import page_url
from api.web.pages import page_locale, render
from core.errors import ApiError
from core.i18n import DEFAULT, when
from core.i18n import render as render_text
from domain.legal_translations import in_effect, next_version
from schemas.i18n import Text, tr
from schemas.legal import ESSENTIAL_COOKIES, ConsentCreate, LegalKind

router = APIRouter(prefix="/legal", include_in_schema=False)
DOCUMENTS: dict[LegalKind, tuple[Text, Text]] = {
    "terms": (tr("Terms of service"), tr("The terms of service have not been published yet.")),
    "privacy": (tr("Privacy policy"), tr("The privacy policy has not been published yet.")),
    "cookie_policy": (tr("Cookie policy"), tr("The cookie policy has not been published yet.")),
}
# Where a choice returns to: a path of this site (the banner's page), never another site.
RETURN_TO = re.compile(r"/(?!/)[A-Za-z0-9_./-]*")


@router.get("/terms")
def terms_page(request: Request, _me: MaybeSession, session: SessionDep) -> HTMLResponse:
    """The terms of service in effect."""
    return _document_page(request, session, "terms")


@router.get("/privacy")
def privacy_page(request: Request, _me: MaybeSession, session: SessionDep) -> HTMLResponse:
    """The privacy policy in effect."""
    return _document_page(request, session, "privacy")


@router.get("/cookies")
def cookies_page(request: Request, _me: MaybeSession, session: SessionDep) -> HTMLResponse:
    """The cookie policy in effect, the essential cookies and the categories the visitor may allow."""
    return _document_page(request, session, "cookie_policy", essential=ESSENTIAL_COOKIES)


@router.get("/cookie-settings")
def cookie_settings_page(
    request: Request, _me: MaybeSession, saved: Annotated[Literal["1", ""], Query()] = ""
) -> HTMLResponse:
    """The visitor's cookie choice, to make or change (linked from every page's footer)."""
    return render(
        request, "legal/cookie_settings.html", title=render_text(tr("Cookie settings"), page_locale(request)),
        consent=consent_state(request), saved=bool(saved), hide_consent_banner=True,
    )  # fmt: skip


@router.post("/consent", dependencies=[Depends(small_consent_body)])
def choose_cookies(
    request: Request, visitor: ConsentVisitor, session: SessionDep,
    version: Annotated[str, Form(max_length=32)] = "",
    choice: Annotated[Literal["accept_all", "reject_all", "save"], Form()] = "save",
    categories: Annotated[list[str] | None, Form(max_length=20)] = None,
    return_to: Annotated[str, Form(max_length=300)] = "/legal/cookie-settings",
) -> RedirectResponse:  # fmt: skip
    """Records the banner's or the settings page's choice (without scripts) and returns to the page it was made on."""
    offer = consent_state(request).offer
    chosen = {"accept_all": offer.optional if offer else [], "reject_all": []}.get(choice, categories or [])
    try:
        body = ConsentCreate(categories=chosen, version=version)
    except ValidationError as err:
        field = "body." + ".".join(str(part) for part in err.errors()[0]["loc"][:1])
        raise ApiError(422, "invalid_request", tr("This cookie choice is not valid"), field=field) from None
    target = return_to if RETURN_TO.fullmatch(return_to) else "/legal/cookie-settings"
    if target == "/legal/cookie-settings":
        target += "?saved=1"
    response = RedirectResponse(page_url(request, target), status_code=303)
    record_choice(request, response, session, body, visitor.user_id if visitor else None)
    return response


def _document_page(request: Request, session: Session, kind: LegalKind, **extra: Any) -> HTMLResponse:
    tag = page_locale(request)
    title, missing = DOCUMENTS[kind]
    now = datetime.now(UTC)
    document = in_effect(session, kind, now)
    coming = next_version(session, kind, now)
    upcoming = (coming.version, when(coming.effective_at.date(), tag, "long")) if coming else None
    text, url, fallback, effective = None, None, False, None
    if document is not None:
        translation = document.translations.get(tag)
        shown = translation if translation and (translation.text or translation.url) else document
        fallback = tag != DEFAULT and shown is document
        text, url = shown.text, shown.url
        effective = when(document.effective_at.date(), tag, "long")
    return render(
        request, "legal/document.html", title=render_text(title, tag), heading=title, missing=missing,
        document=document, blocks=blocks(text) if text else [], document_url=url, fallback=fallback, effective=effective,
        kind=kind, upcoming=upcoming, consent=consent_state(request), **extra,
    )  # fmt: skip
