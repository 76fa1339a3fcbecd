"""Liveness and health: `pulse` answers at once; `heartbeat` checks the database and Temporal live and
adds the latest record of the Heartbeat workflow (Stripe, AI, recent errors, workers)."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, SettingsDep, TemporalDep
from core.settings import VERSION
from schemas.api import HeartbeatPublic
from schemas.tables import HealthRecord

router = APIRouter(prefix="/api/system", tags=["system"])
CHECK_TIMEOUT_S = 3.0
# A record older than this many heartbeat intervals means the schedule is not running.
STALE_AFTER_INTERVALS = 3


@router.get("/pulse")
async def pulse() -> dict[str, bool]:
    """The process is up and serving."""
    return {"alive": True}


@router.get("/heartbeat")
async def heartbeat(request: Request, engine: EngineDep, temporal: TemporalDep,
                    settings: SettingsDep) -> HeartbeatPublic:
    """Live reachability of the database and Temporal, the latest heartbeat record, uptime and version."""
    db_ok, temporal_ok = await asyncio.gather(_database_ok(engine), _temporal_ok(temporal))
    record = await _latest_record(engine) if db_ok else None
    uptime = time.monotonic() - request.state.started_at
    window = timedelta(seconds=STALE_AFTER_INTERVALS * settings.heartbeat_interval_s)
    stale = record is not None and datetime.now(UTC) - record.at > window
    stripe = record.stripe_status if record else "unknown"
    brain = record.ai_status if record else "unknown"
    if not (db_ok and temporal_ok):
        status = "down"
    # Right after a (re)start the schedule has not had the chance to write a fresh record yet.
    elif (stale and uptime > window.total_seconds()) or "failed" in (stripe, brain):
        status = "degraded"
    else:
        status = "ok"
    return HeartbeatPublic(
        status=status, db_ok=db_ok, temporal_ok=temporal_ok,  # type: ignore[arg-type]
        stripe_ok=_ok(stripe), brain_ok=_ok(brain), stripe=stripe, brain=brain,  # type: ignore[arg-type]
        error_count_recent=record.error_count_recent if record else None,
        worker_count=record.worker_count if record else None,
        last_heartbeat_at=record.at if record else None, heartbeat_stale=stale,
        uptime_seconds=round(uptime, 3), version=VERSION,
    )


def _ok(status: str) -> bool | None:
    return None if status in ("not_configured", "unknown") else status == "ok"


async def _latest_record(engine: EngineDep) -> HealthRecord | None:
    def read() -> HealthRecord | None:
        with Session(engine) as session:
            return session.exec(select(HealthRecord).order_by(col(HealthRecord.at).desc()).limit(1)).first()

    try:
        return await asyncio.wait_for(run_in_threadpool(read), CHECK_TIMEOUT_S)
    except Exception:
        return None


async def _database_ok(engine: EngineDep) -> bool:
    def probe() -> bool:
        with Session(engine) as session:
            return session.exec(text("SELECT 1")).one()[0] == 1  # type: ignore[call-overload]

    try:
        return await asyncio.wait_for(run_in_threadpool(probe), CHECK_TIMEOUT_S)
    except Exception:
        return False


async def _temporal_ok(temporal: TemporalDep) -> bool:
    try:
        await asyncio.wait_for(temporal.service_client.check_health(), CHECK_TIMEOUT_S)
        return True
    except Exception:
        return False
