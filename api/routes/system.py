"""Liveness and health: `pulse` answers at once, `heartbeat` checks the database and Temporal."""

import asyncio
import time

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, TemporalDep
from core.settings import VERSION
from schemas.api import Heartbeat

router = APIRouter(prefix="/api/system", tags=["system"])
CHECK_TIMEOUT_S = 3.0


@router.get("/pulse")
async def pulse() -> dict[str, bool]:
    """The process is up and serving."""
    return {"alive": True}


@router.get("/heartbeat")
async def heartbeat(request: Request, engine: EngineDep, temporal: TemporalDep) -> Heartbeat:
    """Live reachability of the database and Temporal, uptime and version."""
    db_ok, temporal_ok = await asyncio.gather(_database_ok(engine), _temporal_ok(temporal))
    return Heartbeat(
        status="ok" if db_ok and temporal_ok else "degraded", db_ok=db_ok, temporal_ok=temporal_ok,
        uptime_seconds=round(time.monotonic() - request.state.started_at, 3), version=VERSION,
    )


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
