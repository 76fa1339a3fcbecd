"""The Admin Power Panel's overview in one read: the live heartbeat, the latest record's probes, uptime from the
stored heartbeats, telemetry's errors and the daily reports' score trend."""

import asyncio
from datetime import UTC, datetime

from anyio import to_thread
from sqlalchemy import Engine
from temporalio.client import Client

from domain.health import latest_checks, latest_health_record, live_heartbeat, uptime_share
from domain.telemetry import error_figures, score_trend
from schemas.panel import PlatformOverview

DAY_S = 24 * 3600
UPTIME_WINDOWS_S = (DAY_S, 30 * DAY_S)
ERROR_WINDOW_S = DAY_S
TREND_DAYS = 30


async def platform_overview(
    engine: Engine, temporal: Client, started_at: float, heartbeat_interval_s: float, archive_behind_after_s: float
) -> PlatformOverview:
    """Everything the overview's tiles show; the stored figures are read only when the live probe found the
    database answering (an unreachable database shows as such, not as an error page)."""
    now = datetime.now(UTC)
    heartbeat = await live_heartbeat(engine, temporal, started_at, heartbeat_interval_s, archive_behind_after_s)
    if not heartbeat.db_ok:
        return PlatformOverview(checked_at=now, heartbeat=heartbeat, checks=[])
    record, uptimes, errors, trend = await asyncio.gather(
        to_thread.run_sync(latest_health_record, engine),
        asyncio.gather(*(to_thread.run_sync(uptime_share, engine, now, window) for window in UPTIME_WINDOWS_S)),
        to_thread.run_sync(error_figures, engine, now, ERROR_WINDOW_S),
        to_thread.run_sync(score_trend, engine, now.date(), TREND_DAYS),
    )
    return PlatformOverview(
        checked_at=now,
        heartbeat=heartbeat,
        checks=latest_checks(record),
        uptime=list(uptimes),
        errors=errors,
        trend=trend,
    )
