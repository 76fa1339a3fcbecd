"""The platform's health as the heartbeat endpoint reads it: the database and Temporal probed live, each
within CHECK_TIMEOUT_S, with the Heartbeat workflow's latest record (Stripe, AI, recent errors, workers)."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

from anyio import to_thread
from sqlalchemy import Engine, func, text
from sqlmodel import Session, col, select
from temporalio.client import Client

from core.settings import VERSION
from domain.run_history import archived_through
from rules.health_score import live_status
from schemas.health import BackupHealthPublic, CheckResult, HeartbeatPublic, RunArchiveHealthPublic
from schemas.panel import UptimeShare
from schemas.tables import HealthRecord

CHECK_TIMEOUT_S = 3.0
# A record older than this many heartbeat intervals means the schedule is not running.
STALE_AFTER_INTERVALS = 3


async def live_heartbeat(
    engine: Engine, temporal: Client, started_at: float, heartbeat_interval_s: float, archive_behind_after_s: float
) -> HeartbeatPublic:
    """Probes the database and Temporal at once and reads the latest record and the run archive's cursor when
    the database answers; `started_at` is the process's start on the monotonic clock. A run archive more than
    `archive_behind_after_s` behind degrades an otherwise ok platform. Never raises for an unreachable system."""
    db_ok, temporal_ok = await asyncio.gather(_database_ok(engine), _temporal_ok(temporal))
    record = await _latest_record(engine) if db_ok else None
    answer = heartbeat_answer(db_ok, temporal_ok, record, time.monotonic() - started_at, heartbeat_interval_s)
    through = await _archived_through(engine) if db_ok else None
    archive = run_archive_health(through, archive_behind_after_s)
    status = "degraded" if answer.status == "ok" and archive.status == "behind" else answer.status
    return answer.model_copy(update={"run_archive": archive, "status": status})


def run_archive_health(through: datetime | None, behind_after_s: float) -> RunArchiveHealthPublic:
    if through is None:
        return RunArchiveHealthPublic(behind_after_s=behind_after_s)
    lag = (datetime.now(UTC) - through).total_seconds()
    return RunArchiveHealthPublic(
        status="behind" if lag > behind_after_s else "ok",
        archived_through=through,
        lag_seconds=round(lag, 1),
        behind_after_s=behind_after_s,
    )


def heartbeat_answer(
    db_ok: bool, temporal_ok: bool, record: HealthRecord | None, uptime_s: float, heartbeat_interval_s: float
) -> HeartbeatPublic:
    """The live checks with the latest record's Stripe, AI, backup and error figures, and the overall status
    (a failed backup check degrades an otherwise ok platform)."""
    window = timedelta(seconds=STALE_AFTER_INTERVALS * heartbeat_interval_s)
    stale = record is not None and datetime.now(UTC) - record.at > window
    stripe = record.stripe_status if record else "unknown"
    brain = record.ai_status if record else "unknown"
    status = live_status(db_ok, temporal_ok, stale, uptime_s <= window.total_seconds(), stripe, brain)
    backup = backup_health(record)
    if status == "ok" and backup.status == "failed":
        status = "degraded"
    return HeartbeatPublic(
        status=status,
        db_ok=db_ok,
        temporal_ok=temporal_ok,
        stripe_ok=_service_ok(stripe),
        brain_ok=_service_ok(brain),
        stripe=stripe,
        brain=brain,
        error_count_recent=record.error_count_recent if record else None,
        worker_count=record.worker_count if record else None,
        last_heartbeat_at=record.at if record else None,
        heartbeat_stale=stale,
        uptime_seconds=round(uptime_s, 3),
        version=VERSION,
        backup=backup,
    )


def backup_health(record: HealthRecord | None) -> BackupHealthPublic:
    """The record's `backup` check with its age counted now; `unknown` without a record that has one."""
    found = (record.checks or {}).get("backup") if record else None
    if not found:
        return BackupHealthPublic()
    check = CheckResult.model_validate(found)
    at = check.last_backup_at
    return BackupHealthPublic(
        status=check.status,
        last_backup_at=at,
        verified=check.backup_verified,
        age_seconds=round((datetime.now(UTC) - at).total_seconds(), 1) if at else None,
        detail=check.detail,
    )


def latest_health_record(engine: Engine) -> HealthRecord | None:
    """The Heartbeat workflow's most recent record, or None before its first."""
    with Session(engine) as session:
        return session.exec(select(HealthRecord).order_by(col(HealthRecord.at).desc()).limit(1)).first()


def _database_answers(engine: Engine) -> bool:
    with Session(engine) as session:
        return session.scalars(text("SELECT 1")).one() == 1


async def _latest_record(engine: Engine) -> HealthRecord | None:
    try:
        return await asyncio.wait_for(to_thread.run_sync(latest_health_record, engine), CHECK_TIMEOUT_S)
    except Exception:
        return None


async def _archived_through(engine: Engine) -> datetime | None:
    try:
        return await asyncio.wait_for(to_thread.run_sync(archived_through, engine), CHECK_TIMEOUT_S)
    except Exception:
        return None


async def _database_ok(engine: Engine) -> bool:
    try:
        return await asyncio.wait_for(to_thread.run_sync(_database_answers, engine), CHECK_TIMEOUT_S)
    except Exception:
        return False


async def _temporal_ok(temporal: Client) -> bool:
    try:
        await asyncio.wait_for(temporal.service_client.check_health(), CHECK_TIMEOUT_S)
        return True
    except Exception:
        return False


def _service_ok(status: str) -> bool | None:
    """None when the service is not configured or not checked yet."""
    return None if status in ("not_configured", "unknown") else status == "ok"


def uptime_share(engine: Engine, now: datetime, window_s: int) -> UptimeShare:
    """How many heartbeats were stored in the `window_s` seconds before `now`, and how many found the platform ok
    (the Admin Power Panel's uptime)."""
    since = now - timedelta(seconds=window_s)
    with Session(engine) as session:
        rows = session.exec(
            select(HealthRecord.status, func.count())
            .where(col(HealthRecord.at) > since, col(HealthRecord.at) <= now)
            .group_by(HealthRecord.status)
        ).all()
    counts = {status: count for status, count in rows}
    return UptimeShare(window_s=window_s, heartbeats=sum(counts.values()), healthy=counts.get("ok", 0))


def latest_checks(record: HealthRecord | None) -> list[CheckResult]:
    """The probes the record holds (database, Temporal and its pollers, Stripe, AI, backup), in that order."""
    found = (record.checks or {}) if record else {}
    order = ("database", "temporal", "stripe", "ai", "backup")
    return [CheckResult.model_validate(found[name]) for name in order if name in found]
