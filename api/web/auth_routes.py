"""Signing in and out: the e-mail form, the magic link's landing page (a GET only shows a button: mail scanners
fetch links), the founder token as a first sign-in, /auth/status, and sign-out."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import SESSION_COOKIE, EngineDep, SessionDep, SettingsDep, TemporalDep
from api.web.deps import AnonymousCsrf, MaybeSession, PageSession
from api.web.locale import page_redirect
from api.web.pages import NEXT_COOKIE, destination, render, secure_request
from core.security import same_secret
from domain.sign_in import request_sign_in, sign_in_as_founder, sign_in_with_link
from domain.sign_in_links import SignInLimiter, link_email
from domain.web_sessions import end_session
from schemas.i18n import tr

router = APIRouter(include_in_schema=False)


@router.get("/sign-in")
def sign_in_page(request: Request, me: MaybeSession) -> Response:
    """The e-mail form (the signed-in go to the app)."""
    if me is not None:
        return page_redirect(request, "/app")
    return render(request, "sign_in.html", title=tr("Sign in"))


@router.post("/sign-in", dependencies=[AnonymousCsrf])
async def request_link(
    request: Request, email: Annotated[str, Form(max_length=254)], settings: SettingsDep, engine: EngineDep,
    temporal: TemporalDep,
) -> Response:  # fmt: skip
    """E-mails a link if the address has an account; the same answer either way. 429 past the rate limits."""
    limiter: SignInLimiter = request.app.state.sign_in_limiter
    ip = request.client.host if request.client else "unknown"
    if not limiter.allow(email, ip):
        return render(request, "sign_in.html", status=429, title=tr("Sign in"), email=email, too_many=True)
    if "@" in email:
        await request_sign_in(engine, temporal, settings, email, ip)
    return page_redirect(request, "/sign-in/sent")


@router.get("/sign-in/sent")
def link_sent(request: Request) -> HTMLResponse:
    return render(request, "sign_in_sent.html", title=tr("Check your e-mail"))


@router.get("/auth/link")
def link_landing(request: Request, session: SessionDep, token: str = "") -> HTMLResponse:
    """Names the address the link is for and asks to confirm; changes nothing."""
    email = link_email(session, token, datetime.now(UTC)) if token else None
    return render(request, "link.html", status=200 if email else 410, title=tr("Sign in"), token=token, email=email)


@router.post("/auth/link", dependencies=[AnonymousCsrf])
def redeem_link(
    request: Request, token: Annotated[str, Form(max_length=200)], session: SessionDep, settings: SettingsDep
) -> Response:
    """Spends the link and signs in; a used, expired or unknown link changes nothing."""
    secret = sign_in_with_link(session, settings, token)
    if secret is None:
        return render(request, "link.html", status=410, title=tr("Sign in"), token="", email=None)
    return _signed_in(request, secret, settings.web_session_max_age_s)


@router.get("/auth/token")
def founder_token_page(request: Request) -> HTMLResponse:
    return render(request, "token.html", title=tr("Founder sign-in"))


@router.post("/auth/token", dependencies=[AnonymousCsrf])
def founder_sign_in(
    request: Request, token: Annotated[str, Form(max_length=500)], session: SessionDep, settings: SettingsDep
) -> Response:
    """Signs in as the founder with the founder token (the first sign-in, before any e-mail is set up)."""
    if not same_secret(token, settings.levqor_founder_token.get_secret_value()):
        return render(request, "token.html", status=401, title=tr("Founder sign-in"), wrong=True)
    return _signed_in(request, sign_in_as_founder(session, settings), settings.web_session_max_age_s)


@router.get("/auth/status")
def auth_status(request: Request, me: PageSession) -> HTMLResponse:
    """Who is signed in: user, tenant, role and when the session ends."""
    return render(request, "status.html", title=tr("Session"), section="status")


@router.post("/sign-out")
def sign_out(request: Request, _me: PageSession, session: SessionDep) -> Response:
    """Ends the session on the server and forgets the cookie."""
    end_session(session, request.cookies.get(SESSION_COOKIE, ""), datetime.now(UTC))
    response = page_redirect(request, "/sign-in")
    response.delete_cookie(SESSION_COOKIE, httponly=True, secure=secure_request(request), samesite="lax")
    return response


def _signed_in(request: Request, secret: str, max_age_s: int) -> Response:
    """Into the app (the page that asked for a sign-in, else home) with the session's cookie: HttpOnly,
    SameSite=Lax, Secure over https; it lasts no longer than the session can (the server ends it sooner when idle)."""
    response = page_redirect(request, destination(request))
    response.set_cookie(
        SESSION_COOKIE, secret, max_age=max_age_s, httponly=True, secure=secure_request(request), samesite="lax"
    )
    response.delete_cookie(NEXT_COOKIE, httponly=True, secure=secure_request(request), samesite="lax")
    return response
