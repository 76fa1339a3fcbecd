"""Recording a visitor's cookie choice, from the JSON route or the pages' form: the same CSRF rule as the pages (the
session's token, or the anonymous double-submit one), a bounded body, and the essential consent cookie set."""

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlmodel import Session

from api.deps import EngineDep, SettingsDep, check_csrf, web_session
from api.web.consent import consent_state
from api.web.deps import _submitted_csrf, check_anonymous_csrf
from core.errors import ApiError
from domain.cookie_consent import cookie_value, new_visitor_id, record_consent
from schemas.accounts import SessionView
from schemas.i18n import tr
from schemas.legal import CONSENT_COOKIE, ConsentChoice, ConsentCreate, ConsentPublic

CONSENT_MAX_BYTES = 4096


def record_choice(
    request: Request, response: Response, session: Session, body: ConsentCreate, user_id: str | None
) -> ConsentPublic:
    """Records the choice (domain/cookie_consent.py) and keeps it in the consent cookie, under the visitor id the
    cookie already had; the cookie lasts the configuration's re-consent period."""
    state = consent_state(request)
    visitor_id = state.choice.visitor_id if state.choice else new_visitor_id()
    recorded = record_consent(session, state.offer, body, visitor_id, user_id)
    choice = ConsentChoice(visitor_id=visitor_id, version=recorded.version, categories=recorded.categories)
    days = state.offer.reconsent_days if state.offer else 365
    response.set_cookie(
        CONSENT_COOKIE, cookie_value(choice), max_age=int(timedelta(days=days).total_seconds()), httponly=True,
        secure=request.url.scheme == "https", samesite="lax",
    )  # fmt: skip
    return recorded


async def check_consent_csrf(request: Request, settings: SettingsDep, engine: EngineDep) -> SessionView | None:
    """The signed-in visitor's session with its CSRF token checked, or None for a signed-out visitor whose token
    matches the anonymous CSRF cookie (403 `csrf_failed` otherwise)."""
    view = await web_session(request, settings, engine)
    if view is None:
        await check_anonymous_csrf(request)
    else:
        check_csrf(request, view, await _submitted_csrf(request))
    return view


def small_consent_body(request: Request) -> None:
    """413 `body_too_large` for a choice declared over CONSENT_MAX_BYTES (a real one is a few dozen bytes)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > CONSENT_MAX_BYTES:
        raise ApiError(
            413, "body_too_large", tr("A cookie choice may take at most %(n)s bytes", n=CONSENT_MAX_BYTES),
            field="body",
        )  # fmt: skip


ConsentVisitor = Annotated[SessionView | None, Depends(check_consent_csrf)]
