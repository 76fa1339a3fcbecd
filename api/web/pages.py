"""Rendering the web app's pages: one Jinja2 environment, the navigation, and the headers every page carries."""

import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from api.web.consent import consent_allows, consent_banner
from api.web.js_catalog import script_messages
from api.web.locale import localized
from api.web.system_notice import maintenance_notice
from core.i18n import DEFAULT, OTHERS, TIER1, money, native_name, number, percent, translations, when
from core.i18n import render as render_text
from schemas.accounts import SessionView
from schemas.i18n import Text, tr

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.add_extension("jinja2.ext.i18n")


@pass_context
def _gettext(context: Context, message: str, **params: object) -> str:
    return translations(context.get("locale", DEFAULT)).gettext(message) % params


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int, **params: object) -> str:
    return translations(context.get("locale", DEFAULT)).ngettext(singular, plural, n) % {"num": n, **params}


@pass_context
def _text(context: Context, text: Text | str) -> str:
    """A `Text` made in Python (a label, a flash, an error) in the page's language: `{{ label | t }}`."""
    return render_text(text, context.get("locale", DEFAULT))


# `{{ _("Runs") }}`, `{{ _("%(n)s left", n=3) }}` and `{{ ngettext("%(num)s run", "%(num)s runs", n) }}`: the
# placeholders are filled by the callables (a literal percent sign is `%%`), then escaped by the template.
TEMPLATES.env.globals.update(_=_gettext, gettext=_gettext, ngettext=_ngettext)
TEMPLATES.env.filters["t"] = _text


@pass_context
def _url(context: Context, path: str) -> str:
    """A link that keeps the page's language: `{{ url('/app/runs') }}` is `/ja/app/runs` on a Japanese page."""
    return localized(path, context.get("locale", DEFAULT))


def _formatter(format_one: Any) -> Any:
    @pass_context
    def formatted(context: Context, value: Any, *args: Any) -> str:
        return "" if value is None else str(format_one(value, *args, context.get("locale", DEFAULT)))

    return formatted


@pass_context
def _when(context: Context, value: Any, style: str = "medium") -> str:
    """`{{ at | when }}`, `{{ day | when("long") }}`: the style (short, medium, long, full) comes after the value."""
    return "" if value is None else when(value, context.get("locale", DEFAULT), style)


@pass_context
def _day(context: Context, value: Any) -> str:
    """`{{ resets_at | day }}`: the day alone, written out (January 1, 2027 · 1. Januar 2027 · 2027年1月1日)."""
    if value is None:
        return ""
    return when(value.date() if isinstance(value, datetime) else value, context.get("locale", DEFAULT), "long")


TEMPLATES.env.globals["url"] = _url
# The cookie-consent hook: `consent_banner()` (the banner's state), `consent_allows("analytics")`.
TEMPLATES.env.globals.update(consent_banner=consent_banner, consent_allows=consent_allows)
# The maintenance banner's hook (api/web/system_notice.py).
TEMPLATES.env.globals["maintenance_notice"] = maintenance_notice
# `{{ run.started_at | when }}`, `{{ resets_at | day }}`, `{{ count | number }}`, `{{ share | percent }}`, `{{ amount | money("EUR") }}`.
TEMPLATES.env.filters.update(
    when=_when, day=_day, number=_formatter(number), percent=_formatter(percent), money=_formatter(money)
)
# Names of the values pages show, in the reader's language: `{{ role_names[me.role] | t }}`.
TEMPLATES.env.globals.update(
    role_names={"admin": tr("admin"), "member": tr("member"), "founder": tr("founder")},
    trigger_names={
        "api": tr("API"), "schedule": tr("schedule"), "webhook": tr("webhook"), "redrive": tr("re-drive"),
        "auto_recovery": tr("auto recovery"),
    },
    status_names={
        "running": tr("running"), "waiting_approval": tr("waiting for approval"), "completed": tr("completed"),
        "failed": tr("failed"), "rejected": tr("rejected"), "cancelled": tr("cancelled"), "refused": tr("refused"),
    },
    step_kinds={
        "log": tr("log"), "http_request": tr("HTTP request"), "condition": tr("condition"), "delay": tr("delay"),
        "email": tr("e-mail"), "approval": tr("approval"), "transform": tr("transform"), "ai": tr("AI"),
    },
)  # fmt: skip
# The switcher's choices: the tier-1 languages first, then the others, each in its own name.
LANGUAGES: tuple[tuple[str, str], ...] = tuple(
    (tag, "简体中文" if tag == "zh-CN" else native_name(tag)) for tag in (*TIER1, *OTHERS)
)
# The signed-in shell's sections: (key, label, path). Unbuilt ones show an honest "coming soon".
SECTIONS = (
    ("home", tr("Home"), "/app"),
    ("workflows", tr("Workflows"), "/app/workflows"),
    ("runs", tr("Runs"), "/app/runs"),
    ("approvals", tr("Approvals"), "/app/approvals"),
    ("failures", tr("Failures"), "/app/failures"),
    ("secrets", tr("Secrets"), "/app/secrets"),
    ("usage", tr("Usage & billing"), "/app/usage"),
    ("data", tr("Data"), "/app/data"),
    ("users", tr("Users & keys"), "/app/users"),
    ("help", tr("Help"), "/app/help"),
    ("support", tr("Support"), "/app/support"),
)
# The Admin Power Panel's parts (founders only): (key, label, path), each page in api/web/admin_<key>_pages.py.
PANEL_SECTIONS = (
    ("overview", tr("Overview"), "/admin/power"),
    ("toggles", tr("System toggles"), "/admin/power/toggles"),
    ("costs", tr("Cost monitor"), "/admin/power/costs"),
    ("approvals", tr("Approval queue"), "/admin/power/approvals"),
    ("logs", tr("Live logs"), "/admin/power/logs"),
    ("tenants", tr("Tenants"), "/admin/power/tenants"),
    ("failures", tr("Failure queue"), "/admin/power/failures"),
    ("compliance", tr("Compliance"), "/admin/power/compliance"),
    ("upgrades", tr("Upgrade plans"), "/admin/power/upgrades"),
    ("support", tr("Support"), "/admin/power/support"),
)
ANONYMOUS_CSRF_COOKIE = "levqor_csrf"
# Pages load only their own files: no inline script or style, no frames, no referrer (a link's token is in its URL).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Signed-in pages must not come back from the cache after sign-out (the back button asks the server again).
    "Cache-Control": "no-store",
}


def signed_in(request: Request) -> SessionView | None:
    return getattr(request.state, "web_session", None)


def page_locale(request: Request) -> str:
    """The language this request is answered in (set by the locale middleware; English without it)."""
    return getattr(request.state, "locale", DEFAULT)


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The page `template` for this request: the signed-in user's CSRF token, or an anonymous one kept in a
    cookie (double submit) for the sign-in forms."""
    me = signed_in(request)
    locale = page_locale(request)
    fresh = None
    if me is not None:
        csrf = me.csrf_token
    else:
        csrf = request.cookies.get(ANONYMOUS_CSRF_COOKIE) or ""
        if len(csrf) < 32:
            csrf = fresh = secrets.token_urlsafe(32)
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "me": me,
            "csrf_token": csrf,
            "sections": SECTIONS,
            "panel_sections": PANEL_SECTIONS,
            "locale": locale,
            "languages": LANGUAGES,
            # An error page's switcher leads home: the path asked for (another tenant's id, say) is not repeated.
            "here": request.url.path + (f"?{request.url.query}" if request.url.query else "") if status < 400 else "/",
            "script_messages": script_messages(locale),
            **context,
        },
        status_code=status,
    )
    response.headers.update(SECURITY_HEADERS)
    if fresh is not None:
        secure = request.url.scheme == "https"
        response.set_cookie(ANONYMOUS_CSRF_COOKIE, fresh, httponly=True, secure=secure, samesite="lax")
    return response


def secure_request(request: Request) -> bool:
    return request.url.scheme == "https"


# The app or panel page a signed-out visitor asked for (an approval e-mail's link, say), to return to after signing in.
NEXT_COOKIE = "levqor_next"
NEXT_TTL_S = 30 * 60
NEXT_PATH = re.compile(r"/(?:app|admin/power)(/[A-Za-z0-9_./-]*)?(\?[A-Za-z0-9_.=&%+-]*)?")


def remember_destination(request: Request, response: Response) -> None:
    """Keeps the requested app page (a GET's path and query only) in a short-lived cookie."""
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method == "GET" and NEXT_PATH.fullmatch(wanted) and "//" not in wanted:
        response.set_cookie(
            NEXT_COOKIE, wanted, max_age=NEXT_TTL_S, httponly=True, secure=secure_request(request), samesite="lax"
        )


def destination(request: Request) -> str:
    """Where signing in leads: the remembered app page when it is one, else home."""
    wanted = request.cookies.get(NEXT_COOKIE, "")
    return wanted if NEXT_PATH.fullmatch(wanted) and "//" not in wanted else "/app"
