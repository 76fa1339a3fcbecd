"""The Admin Power Panel's live logs: a page that shows, as they happen, runs started and failed, telemetry
errors, audit entries, billing events and the other log lines of this API process (and, on PostgreSQL, of
the workers and other API processes), filtered by tenant, level and source, pausable, the last 500 on screen;
and its server-sent event stream. Everything shown was masked first (core/live_events.py). Founders only:
404 for anyone else; at most core.live_events.MAX_STREAMS streams at once in a process."""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from api.web.deps import FounderPage
from api.web.live_stream import HEARTBEAT_S, LiveFilter, end_streams_on_shutdown, live_frames
from api.web.pages import render
from core.errors import ApiError
from core.live_events import HUB, RING_SIZE
from schemas.i18n import tr
from schemas.live_events import LiveLevel, LiveSource

router = APIRouter(prefix="/admin/power/logs", include_in_schema=False)
Tenant = Annotated[str, Query(max_length=64)]
Level = Annotated[LiveLevel, Query()]
Source = Annotated[LiveSource | None, Query()]
LEVELS = {
    "debug": tr("Debug and above"),
    "info": tr("Info and above"),
    "warning": tr("Warnings and errors"),
    "error": tr("Errors"),
    "critical": tr("Critical only"),
}
SOURCES = {
    "run": tr("Runs"),
    "telemetry": tr("Telemetry errors"),
    "audit": tr("Audit log"),
    "billing": tr("Billing"),
    "log": tr("Other log lines"),
}
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@router.get("")
def logs_page(
    request: Request, _me: FounderPage, tenant: Tenant = "", level: Level = "info", source: Source = None
) -> HTMLResponse:
    """The live log page; its script opens the stream with the chosen filters."""
    return render(
        request, "admin/logs.html", title=tr("Live logs"), section="admin", tenant=tenant.strip(), level=level,
        source=source or "", levels=LEVELS, sources=SOURCES, keep=RING_SIZE,
    )  # fmt: skip


@router.get("/stream")
async def log_stream(
    _me: FounderPage,
    tenant: Tenant = "",
    level: Level = "debug",
    source: Source = None,
    after: Annotated[int, Query(ge=0)] = 0,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    """The events after `after` (or the Last-Event-ID a reconnecting EventSource sends) that the filters
    admit, then each new one as it comes; a comment every HEARTBEAT_S seconds."""
    shown = LiveFilter(tenant=tenant.strip() or None, level=level, source=source)
    resumed = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
    end_streams_on_shutdown()
    if not HUB.has_room():
        raise ApiError(429, "too_many_streams", tr("Too many live log streams are open; close one and try again"))
    frames = live_frames(shown, max(after, resumed))
    headers = {**STREAM_HEADERS, "X-Heartbeat-Seconds": f"{HEARTBEAT_S:g}"}
    return StreamingResponse(frames, media_type="text/event-stream", headers=headers)
