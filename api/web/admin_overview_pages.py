"""The Admin Power Panel's overview (founders only): the live heartbeat's probes, uptime, errors and the daily
reports' health score trend with the latest suggestions; the tiles' fragment the page polls every few seconds."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import EngineDep, SettingsDep, TemporalDep
from api.web.deps import FounderPage
from api.web.health_chart import health_svg
from api.web.pages import page_locale, render
from api.web.panel_formats import Formats
from core.i18n import render as render_text
from domain.platform_overview import platform_overview
from schemas.i18n import tr
from schemas.panel import PlatformOverview

router = APIRouter(prefix="/admin/power", include_in_schema=False)
# The tiles' fragment reloads this often (htmx polling); the trend changes once a day and is not polled.
CHECK_LABELS = {
    "database": tr("Database"),
    "temporal": tr("Temporal"),
    "stripe": tr("Stripe"),
    "ai": tr("AI provider"),
    "backup": tr("Backup"),
    "run_archive": tr("Run archive"),
}


@router.get("")
async def overview(
    request: Request, _founder: FounderPage, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> HTMLResponse:
    """The platform at a glance: health tiles (polled), the score trend and its suggestions."""
    found = await _overview(request, engine, temporal, settings)
    locale = page_locale(request)
    chart = health_svg(found.trend, locale, "health-trend") if found.trend else None
    context = _context(request, found, settings.panel_poll_s)
    return render(
        request,
        "admin/overview.html",
        title=render_text(tr("Overview"), locale),
        part="overview",
        chart=chart,
        **context,
    )


@router.get("/tiles")
async def tiles(
    request: Request, _founder: FounderPage, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> HTMLResponse:
    """The overview's health tiles alone, for the page's polling."""
    found = await _overview(request, engine, temporal, settings)
    return render(request, "admin/_overview_tiles.html", **_context(request, found, settings.panel_poll_s))


async def _overview(
    request: Request, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> PlatformOverview:
    return await platform_overview(
        engine, temporal, request.state.started_at, settings.heartbeat_interval_s, settings.run_archive_behind_after_s()
    )


def _context(request: Request, found: PlatformOverview, poll_s: int) -> dict[str, Any]:
    return {"o": found, "fmt": Formats(page_locale(request)), "labels": CHECK_LABELS, "poll_s": poll_s}
