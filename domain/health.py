"""The platform's health as the API reads it: whether the database answers now, the Heartbeat workflow's
latest record, and the heartbeat endpoint's answer built from both and Temporal's reachability."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from core.settings import VERSION
from rules.health_score import live_status
from schemas.api import HeartbeatPublic
from schemas.tables import HealthRecord

# A record older than this many heartbeat intervals means the schedule is not running.
STALE_AFTER_INTERVALS = 3


def database_answers(engine: Engine) -> bool:
    """True when the database answers `SELECT 1`; raises when it cannot be reached."""
    with Session(engine) as session:
        return session.exec(text("SELECT 1")).one()[0] == 1  # type: ignore[call-overload]


def latest_health_record(engine: Engine) -> HealthRecord | None:
    """The Heartbeat workflow's most recent record, or None before its first."""
    with Session(engine) as session:
        return session.exec(select(HealthRecord).order_by(col(HealthRecord.at).desc()).limit(1)).first()


def heartbeat_answer(db_ok: bool, temporal_ok: bool, record: HealthRecord | None, uptime_s: float,
                     heartbeat_interval_s: float) -> HeartbeatPublic:
    """The live checks with the latest record's Stripe, AI and error figures, and the overall status."""
    window = timedelta(seconds=STALE_AFTER_INTERVALS * heartbeat_interval_s)
    stale = record is not None and datetime.now(UTC) - record.at > window
    stripe = record.stripe_status if record else "unknown"
    brain = record.ai_status if record else "unknown"
    status = live_status(db_ok, temporal_ok, stale, uptime_s <= window.total_seconds(), stripe, brain)
    return HeartbeatPublic(
        status=status, db_ok=db_ok, temporal_ok=temporal_ok,
        stripe_ok=_service_ok(stripe), brain_ok=_service_ok(brain), stripe=stripe, brain=brain,  # type: ignore[arg-type]
        error_count_recent=record.error_count_recent if record else None,
        worker_count=record.worker_count if record else None,
        last_heartbeat_at=record.at if record else None, heartbeat_stale=stale,
        uptime_seconds=round(uptime_s, 3), version=VERSION,
    )


def _service_ok(status: str) -> bool | None:
    """None when the service is not configured or not checked yet."""
    return None if status in ("not_configured", "unknown") else status == "ok"
