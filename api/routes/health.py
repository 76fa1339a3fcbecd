"""Liveness and health: `pulse` answers at once; `heartbeat` checks the database and Temporal live and
adds the latest record of the Heartbeat workflow (Stripe, AI, recent errors, workers)."""

import asyncio
import time

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, SettingsDep, TemporalDep
from domain.health import database_answers, heartbeat_answer, latest_health_record
from schemas.api import HeartbeatPublic
from schemas.tables import HealthRecord

router = APIRouter(prefix="/api/system", tags=["system"])
CHECK_TIMEOUT_S = 3.0


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
    return heartbeat_answer(db_ok, temporal_ok, record, uptime, settings.heartbeat_interval_s)


async def _latest_record(engine: EngineDep) -> HealthRecord | None:
    try:
        return await asyncio.wait_for(run_in_threadpool(latest_health_record, engine), CHECK_TIMEOUT_S)
    except Exception:
        return None


async def _database_ok(engine: EngineDep) -> bool:
    try:
        return await asyncio.wait_for(run_in_threadpool(database_answers, engine), CHECK_TIMEOUT_S)
    except Exception:
        return False


async def _temporal_ok(temporal: TemporalDep) -> bool:
    try:
        await asyncio.wait_for(temporal.service_client.check_health(), CHECK_TIMEOUT_S)
        return True
    except Exception:
        return False
