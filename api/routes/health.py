"""Liveness and health: `pulse` answers at once; `heartbeat` checks the database and Temporal live and
adds the latest record of the Heartbeat workflow (Stripe, AI, recent errors, workers)."""

from fastapi import APIRouter, Request

from api.deps import EngineDep, SettingsDep, TemporalDep
from domain.health import live_heartbeat
from schemas.health import HeartbeatPublic

router = APIRouter(prefix="/api/system", tags=["system"])


@router.get("/pulse")
async def pulse() -> dict[str, bool]:
    """The process is up and serving."""
    return {"alive": True}


@router.get("/heartbeat")
async def heartbeat(
    request: Request, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> HeartbeatPublic:
    """Live reachability of the database and Temporal, the latest heartbeat record, uptime and version."""
    return await live_heartbeat(
        engine, temporal, request.state.started_at, settings.heartbeat_interval_s, settings.run_archive_behind_after_s()
    )
