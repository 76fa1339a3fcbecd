"""Heartbeat's probes: is the database, Temporal, Stripe and the AI provider reachable, and how many
errors were recorded lately; and writing the health record. A probe never raises for an unreachable
system: it answers `failed` (or `not_configured` without a key), which is what the record needs."""

import asyncio
import time
from collections.abc import Awaitable
from datetime import timedelta
from typing import Protocol

import openai
import stripe
from sqlalchemy import Engine, and_, func, or_, text
from sqlmodel import Session, col, select
from temporalio import activity

from core.logs import redact_text
from schemas.health import (
    CheckName,
    CheckResult,
    ErrorCount,
    ErrorWindow,
    HealthRecordCreate,
    HeartbeatResult,
    ProbeRequest,
)
from schemas.tables import HealthRecord, TelemetryEvent
from schemas.telemetry import PLATFORM_SOURCES, TENANT_SOURCES


class TemporalProbe(Protocol):
    """Temporal as seen by the worker; `starters.runs.TemporalRunControl` is the real one."""

    async def engine_reachable(self) -> bool: ...

    async def worker_count(self) -> int: ...


class HealthActivities:
    def __init__(
        self,
        engine: Engine,
        temporal: TemporalProbe,
        stripe_client: stripe.StripeClient | None,
        ai: openai.AsyncOpenAI | None,
    ) -> None:
        self._engine, self._temporal, self._stripe, self._ai = engine, temporal, stripe_client, ai

    @activity.defn(name="check_database")
    async def check_database(self, request: ProbeRequest) -> CheckResult:
        return await _probe("database", request, asyncio.to_thread(self._select_one))

    @activity.defn(name="check_temporal")
    async def check_temporal(self, request: ProbeRequest) -> CheckResult:
        result = await _probe("temporal", request, self._temporal.engine_reachable())
        if result.status == "ok":
            try:
                result.workers = await asyncio.wait_for(self._temporal.worker_count(), request.timeout_s)
            except Exception as err:
                result.detail = f"worker count unavailable: {type(err).__name__}"
        return result

    @activity.defn(name="check_stripe")
    async def check_stripe(self, request: ProbeRequest) -> CheckResult:
        if self._stripe is None:
            return CheckResult(name="stripe", status="not_configured", latency_ms=0.0)
        return await _probe("stripe", request, self._stripe.v1.balance.retrieve_async())

    @activity.defn(name="check_ai")
    async def check_ai(self, request: ProbeRequest) -> CheckResult:
        if self._ai is None:
            return CheckResult(name="ai", status="not_configured", latency_ms=0.0)
        return await _probe("ai", request, self._ai.models.list())

    @activity.defn(name="count_recent_errors")
    def count_recent_errors(self, window: ErrorWindow) -> ErrorCount:
        """The platform's own errors of the window (as rules.telemetry.is_platform tells them): the API's and
        the workers', and the founder's ingested ones; never a tenant's failed steps or its own telemetry."""
        since = activity.info().current_attempt_scheduled_time - timedelta(seconds=window.window_s)
        platform = or_(
            col(TelemetryEvent.source).in_(PLATFORM_SOURCES),
            and_(col(TelemetryEvent.tenant_id).is_(None), col(TelemetryEvent.source).not_in(TENANT_SOURCES)),
        )
        query = (
            select(func.count())
            .select_from(TelemetryEvent)
            .where(TelemetryEvent.kind == "error", col(TelemetryEvent.at) >= since, platform)
        )
        with Session(self._engine) as session:
            return ErrorCount(count=session.exec(query).one())

    @activity.defn(name="record_health")
    def record_health(self, record: HealthRecordCreate) -> HeartbeatResult:
        """Writes the record. Old records are the RetentionEnforcer's to delete (`health_records`)."""
        by_name = {check.name: check for check in record.checks}
        row = HealthRecord(
            at=record.at,
            status=record.status,
            db_ok=by_name["database"].status == "ok",
            temporal_ok=by_name["temporal"].status == "ok",
            stripe_status=by_name["stripe"].status,
            ai_status=by_name["ai"].status,
            error_count_recent=record.error_count_recent,
            worker_count=record.worker_count,
            checks={c.name: c.model_dump(mode="json") for c in record.checks},
        )
        with Session(self._engine) as session:
            session.add(row)
            session.commit()
            return HeartbeatResult(record_id=row.id, status=record.status)

    def _select_one(self) -> bool:
        with Session(self._engine) as session:
            return session.scalars(text("SELECT 1")).one() == 1


async def _probe(name: CheckName, request: ProbeRequest, call: Awaitable[object]) -> CheckResult:
    """Times `call`; any exception or a timeout makes the check `failed` with the error's class and text."""
    started = time.perf_counter()
    try:
        await asyncio.wait_for(call, request.timeout_s)
    except Exception as err:
        detail = redact_text(f"{type(err).__name__}: {err}")[:300]
        activity.logger.warning("health check failed", extra={"check": name, "error_type": type(err).__name__})
        return CheckResult(name=name, status="failed", latency_ms=_since(started), detail=detail)
    return CheckResult(name=name, status="ok", latency_ms=_since(started))


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
