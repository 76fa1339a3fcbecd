"""The signed-in shell: the root redirect and the sections not built yet, each with an honest empty state (the home
page is api/web/home_pages.py; its tiles read BLURBS and which sections are built from here)."""

from collections.abc import Iterable, Iterator

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.routing import BaseRoute

from api.web.deps import MaybeSession, PageSession
from api.web.locale import page_redirect
from api.web.pages import SECTIONS, render
from core.errors import ApiError
from schemas.i18n import tr

router = APIRouter(include_in_schema=False)
COMING_SOON = {
    "workflows": tr("Build, version and validate workflow definitions."),
    "runs": tr("Follow every run step by step, cancel or retry it."),
    "approvals": tr("Decide the approval gates waiting for your team."),
    "failures": tr("See runs that failed after their retries, and re-drive them."),
    "secrets": tr("Store the secrets your HTTP steps use."),
    "usage": tr("This month's runs, steps and AI credits against your plan, and billing."),
    "data": tr("Export your data or ask for its deletion."),
}
# What each section holds, for the home page's tiles (built sections included).
BLURBS = COMING_SOON | {
    "users": tr("Invite users, change roles and manage API keys."),
    "help": tr("Search the guide, the language reference and the templates, or ask a question."),
    "support": tr("Ask Levqor's team for help and follow your tickets."),
}
TITLES = dict((key, label) for key, label, _path in SECTIONS)


@router.get("/")
def root(request: Request, me: MaybeSession) -> Response:
    return page_redirect(request, "/app" if me else "/sign-in")


def route_paths(routes: Iterable[BaseRoute]) -> Iterator[str]:
    """Every route's path template, inside included routers too: a section is built once a page route of its own
    answers its path (before the shell's /app/{section})."""
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI keeps an included router whole
        if inner is not None:
            yield from route_paths(inner.routes)
        elif isinstance(getattr(route, "path", None), str):
            yield route.path  # type: ignore[attr-defined]


@router.get("/app/{section}")
def coming_soon(request: Request, section: str, me: PageSession) -> HTMLResponse:
    """A section not built yet."""
    if section not in COMING_SOON:
        raise ApiError(404, "not_found", tr("There is no such page"))
    return render(request, "coming_soon.html", title=TITLES[section], section=section, description=COMING_SOON[section])
