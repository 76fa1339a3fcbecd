"""Mounting the web app on the FastAPI app: its static files, its routes, and errors answered as pages.

Paths under /api (and the docs, metrics and static files) keep their JSON errors; every other path is a page, so
its errors render the friendly error page, and a page that needs a session redirects to sign-in."""

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import web_session
from api.web import (
    admin_approvals_pages,
    admin_compliance_pages,
    admin_costs_pages,
    admin_failures_pages,
    admin_logs_pages,
    admin_overview_pages,
    admin_support_pages,
    admin_tenants_pages,
    admin_toggles_pages,
    admin_upgrades_pages,
    ai_pages,
    ai_run_pages,
    ai_welcome_pages,
    ai_workflow_pages,
    app_routes,
    approvals_pages,
    auth_routes,
    billing_pages,
    contact_pages,
    data_pages,
    failures_pages,
    home_pages,
    language_routes,
    legal_pages,
    runs_actions,
    runs_pages,
    secrets_pages,
    signup_routes,
    support_pages,
    users_routes,
    workflows_pages,
)
from api.web.deps import SignInRequired
from api.web.locale import LocaleRouting, page_url
from api.web.pages import remember_destination, render
from core.errors import ApiError
from core.settings import Settings
from domain.sign_in_links import SignInLimiter
from schemas.i18n import tr

STATIC = Path(__file__).parent / "static"
NOT_PAGES = ("/api/", "/docs", "/redoc", "/openapi.json", "/metrics", "/static/")
MESSAGES = {
    401: tr("Please sign in again."),
    403: tr("You do not have access to this."),
    404: tr("We could not find that page."),
    422: tr("Something in the form was not right."),
}


def install_web(app: FastAPI, settings: Settings) -> None:
    """Mounts the static files and pages, and answers errors of page paths with the error page."""
    app.state.sign_in_limiter = SignInLimiter(
        settings.sign_in_links_per_email, settings.sign_in_links_per_ip, settings.sign_in_rate_window_s
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Users & keys before the shell's /app/{section}, whose pattern would match /app/users first.
    workspace = (home_pages, failures_pages, secrets_pages, billing_pages, data_pages, support_pages)
    pages = (
        auth_routes,
        language_routes,
        users_routes,
        ai_workflow_pages,  # before workflows_pages: POST /app/workflows/draft
        workflows_pages,
        runs_pages,
        runs_actions,
        ai_run_pages,
        approvals_pages,
        ai_pages,
        ai_welcome_pages,
        *workspace,
    )
    for module in (*pages, signup_routes, contact_pages, legal_pages, app_routes):
        app.include_router(module.router)
    for panel_part in (admin_overview_pages, admin_costs_pages, admin_approvals_pages, admin_toggles_pages,
                       admin_logs_pages):  # fmt: skip
        app.include_router(panel_part.router)
    for ops_part in (admin_tenants_pages, admin_failures_pages, admin_compliance_pages, admin_upgrades_pages,
                    admin_support_pages):  # fmt: skip
        app.include_router(ops_part.router)
    _answer_pages_with_pages(app)
    app.add_middleware(LocaleRouting, is_page=is_page_path)


def is_page(request: Request) -> bool:
    return is_page_path(request.url.path)


def is_page_path(path: str) -> bool:
    return not any(path == prefix.rstrip("/") or path.startswith(prefix) for prefix in NOT_PAGES)


def _answer_pages_with_pages(app: FastAPI) -> None:
    json_handlers: dict[Any, Any] = {
        kind: app.exception_handlers[kind] for kind in (ApiError, StarletteHTTPException, RequestValidationError)
    }

    async def sign_in_required(request: Request, _err: Exception) -> Response:
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": page_url(request, "/sign-in")})
        response = RedirectResponse(page_url(request, "/sign-in"), status_code=303)
        remember_destination(request, response)
        return response

    def page_or_json(kind: type[Exception]):  # type: ignore[no-untyped-def]
        async def handler(request: Request, err: Exception) -> Response:
            if not is_page(request):
                return await json_handlers[kind](request, err)
            await _know_who_is_signed_in(request)
            status = _status(err)
            message = err.message if isinstance(err, ApiError) and status in (403, 409) else MESSAGES.get(status)
            title = tr("Error")
            return render(request, "error.html", status=status, title=title, status_code=status, message=message)

        return handler

    app.add_exception_handler(SignInRequired, sign_in_required)
    for kind in json_handlers:
        app.add_exception_handler(kind, page_or_json(kind))


async def _know_who_is_signed_in(request: Request) -> None:
    """Reads the session for a page no route answered (its links then lead back into the app). An error page must
    render even when the database does not answer, so a failure here leaves it signed out."""
    try:
        await web_session(request, request.state.settings, request.state.engine)
    except Exception:
        request.state.web_session = None


def _status(err: Exception) -> int:
    if isinstance(err, ApiError):
        return err.status
    if isinstance(err, StarletteHTTPException):
        return err.status_code
    return 422
