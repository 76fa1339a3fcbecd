"""What page routes take: the signed-in user (or a redirect to sign-in), their Caller, and the CSRF check of a
form or htmx request. The Caller is the one the JSON API builds, so pages pass the same authorization."""

from typing import Annotated

from fastapi import Depends, Request

from api.deps import (
    CSRF_HEADER,
    INACTIVE_TENANT_ROUTES,
    SAFE_METHODS,
    SUSPENDED_TENANT_ROUTES,
    Caller,
    EngineDep,
    SettingsDep,
    check_csrf,
    session_caller,
    web_session,
)
from api.web.pages import ANONYMOUS_CSRF_COOKIE
from core.errors import ApiError
from core.security import same_secret
from schemas.accounts import SessionView
from schemas.i18n import tr
from schemas.tenants import STATUS_NAMES


class SignInRequired(Exception):
    """Answered with a redirect to the sign-in page."""


async def _submitted_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    form = await request.form()
    value = form.get("csrf_token")
    return value if isinstance(value, str) else None


async def get_page_session(request: Request, settings: SettingsDep, engine: EngineDep) -> SessionView:
    """The signed-in user's live session; unsafe methods must carry its CSRF token (403 `csrf_failed`)."""
    view = await web_session(request, settings, engine)
    if view is None:
        raise SignInRequired()
    check_csrf(request, view, await _submitted_csrf(request))
    _refuse_changes_of_inactive_tenant(request, view)
    return view


# Pages that do what a JSON route does, for the JSON API's rule of what an inactive tenant may still do (its data
# requests; while suspended, paying): the rule stays in api/deps.py, read through the twin's route.
JSON_TWINS = {
    "/app/data/export": ("POST", "/api/me/export-data"),
    "/app/usage/checkout": ("POST", "/api/billing/checkout"),
    "/app/usage/portal": ("POST", "/api/billing/portal"),
}


def _refuse_changes_of_inactive_tenant(request: Request, view: SessionView) -> None:
    """A suspended or deleted tenant's users may look and sign out, and change nothing (as its keys may not) but
    what its keys may still do: request an export, and pay while suspended."""
    status = view.tenant_status
    if status == "active" or request.method in SAFE_METHODS or request.url.path == "/sign-out":
        return
    twin = JSON_TWINS.get(request.url.path)
    if twin in INACTIVE_TENANT_ROUTES or (status == "suspended" and twin in SUSPENDED_TENANT_ROUTES):
        return
    raise ApiError(
        403,
        f"tenant_{status}",
        tr("Your team's account is %(state)s", state=STATUS_NAMES.get(status, status)),
        field="authorization",
    )


async def get_page_caller(view: Annotated[SessionView, Depends(get_page_session)]) -> Caller:
    return session_caller(view)


async def get_optional_session(request: Request, settings: SettingsDep, engine: EngineDep) -> SessionView | None:
    """The live session if there is one (pages anyone may see still show who is signed in)."""
    return await web_session(request, settings, engine)


async def check_anonymous_csrf(request: Request) -> None:
    """The sign-in forms' CSRF check: the form's token must equal the anonymous cookie's (double submit)."""
    cookie = request.cookies.get(ANONYMOUS_CSRF_COOKIE) or ""
    submitted = await _submitted_csrf(request) or ""
    if len(cookie) < 32 or not same_secret(submitted, cookie):
        raise ApiError(403, "csrf_failed", tr("Missing or wrong CSRF token; reload the page"), field="csrf_token")


async def get_founder_page(view: Annotated[SessionView, Depends(get_page_session)]) -> SessionView:
    """The founder's session; the Admin Power Panel does not exist for anyone else (404, not 403)."""
    if view.role != "founder":
        raise ApiError(404, "not_found", tr("There is no such page"))
    return view


PageSession = Annotated[SessionView, Depends(get_page_session)]
FounderPage = Annotated[SessionView, Depends(get_founder_page)]
PageCaller = Annotated[Caller, Depends(get_page_caller)]
MaybeSession = Annotated[SessionView | None, Depends(get_optional_session)]
AnonymousCsrf = Depends(check_anonymous_csrf)
