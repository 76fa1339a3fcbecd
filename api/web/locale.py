"""Which language a request is answered in, decided once per request by `LocaleRouting` (ASGI middleware).

Page paths carry the language as a prefix when it is not English (`/es/app/runs`; English never has one): the
prefix is stripped before routing and kept as `request.state.locale`. An unprefixed GET of a page is answered in
the reader's language: the `levqor_lang` cookie (the switcher's choice), else the signed-in user's stored
language, else the browser's Accept-Language; when that is not English the reader is sent to the prefixed URL.
`/en/...` redirects to the unprefixed path. The API, docs, metrics and static files have no prefix: their locale
is the Accept-Language negotiation (English when absent)."""

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import web_session
from core.i18n import DEFAULT, TAGS, canonical_tag, negotiate

LANGUAGE_COOKIE = "levqor_lang"
LANGUAGE_COOKIE_MAX_AGE_S = 365 * 24 * 3600
_BY_LOWER = {tag.lower(): tag for tag in TAGS}


def split_prefix(path: str) -> tuple[str | None, str]:
    """(`tag`, the rest) of a prefixed page path (`/pt-br/app` → ("pt-BR", "/app")); (None, path) otherwise."""
    first, _, rest = path.lstrip("/").partition("/")
    tag = _BY_LOWER.get(first.lower())
    if tag is None or not path.startswith("/"):
        return None, path
    return tag, "/" + rest


def localized(path: str, tag: str) -> str:
    """The page `path` (unprefixed, with any query) as readers of `tag` reach it: `/app` → `/ja/app`."""
    return path if tag == DEFAULT else f"/{tag}{path}"


def page_url(request: Request, path: str) -> str:
    """`path` in the language of this request's page: what page routes redirect to and templates link to."""
    return localized(path, getattr(request.state, "locale", DEFAULT))


def chosen_language(request: Request) -> str | None:
    """The switcher's choice kept in the cookie, when it names a supported language."""
    return canonical_tag(request.cookies.get(LANGUAGE_COOKIE))


class LocaleRouting:
    """ASGI middleware: strips and records a page's language prefix, or sends an unprefixed GET of a page to the
    reader's language. `is_page` says which paths are pages (api/web/app.py)."""

    def __init__(self, app: ASGIApp, is_page: Callable[[str], bool]) -> None:
        self.app = app
        self.is_page = is_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        path: str = scope["path"]
        headers = Headers(scope=scope)
        if not self.is_page(path):
            state["locale"] = negotiate(headers.get("accept-language"))
            await self.app(scope, receive, send)
            return
        tag, rest = split_prefix(path)
        if tag is not None:
            if tag == DEFAULT and self.is_page(rest):
                await _redirect(scope, rest)(scope, receive, send)
                return
            state["locale"] = tag
            if self.is_page(rest):  # else (`/ja/api/...`) no route answers it: a 404 page in Japanese
                scope["path"] = rest
                raw: bytes = scope.get("raw_path") or path.encode()
                scope["raw_path"] = raw[len(tag) + 1 :] if raw.lower().startswith(f"/{tag.lower()}".encode()) else raw
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        wanted = await _readers_language(request)
        if scope["method"] in ("GET", "HEAD") and wanted != DEFAULT:
            await _redirect(scope, localized(path, wanted))(scope, receive, send)
            return
        state["locale"] = wanted
        await self.app(scope, receive, send)


async def _readers_language(request: Request) -> str:
    """The cookie's choice, else the signed-in user's stored language, else Accept-Language."""
    chosen = chosen_language(request)
    if chosen is not None:
        return chosen
    state = request.scope.get("state") or {}
    if "settings" in state and "engine" in state:
        try:
            view = await web_session(request, state["settings"], state["engine"])
        except Exception:  # an unreadable session must not break the page: it is read again by the route
            view = None
            request.scope["state"].pop("web_session", None)
        stored = canonical_tag(view.language) if view is not None else None
        if stored is not None:
            return stored
    return negotiate(request.headers.get("accept-language"))


def _redirect(scope: Scope, path: str) -> RedirectResponse:
    query = scope.get("query_string", b"").decode("latin-1")
    target = quote(path, safe="/-._~%!$&'()*+,;=:@") + (f"?{query}" if query else "")
    response = RedirectResponse(target, status_code=307)
    response.headers["Vary"] = "Accept-Language, Cookie"
    response.headers["Cache-Control"] = "no-store"
    return response


def page_redirect(request: Request, path: str) -> RedirectResponse:
    """303 to the page `path` (unprefixed) in this request's language: what page routes answer a form with."""
    return RedirectResponse(page_url(request, path), status_code=303)
