"""Telemetry in (any key; a tenant's events are stamped with its id) and the founder's health views:
the telemetry summary, anomalies, a one-screen summary and the daily report."""

from datetime import UTC, datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Query, status
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import CallerDep, EngineDep, FounderDep, SessionDep, SettingsDep, TelemetryBody
from api.errors import field_path
from core.errors import ApiError
from domain.telemetry import (
    latest_daily_report,
    scan_anomalies,
    store_batch,
    summarise_platform,
    summarise_window,
)
from schemas.daily_report import DailyReportBody
from schemas.i18n import tr
from schemas.telemetry import (
    RESERVED_SOURCES,
    AnomalyReport,
    AnomalyRules,
    GuardianSummary,
    TelemetryAccepted,
    TelemetryBatch,
    TelemetrySummary,
)
from schemas.validation_messages import validation_message

router = APIRouter(prefix="/api/guardian", tags=["guardian"])
log = structlog.get_logger()
WindowS = Annotated[int, Query(ge=60, le=7 * 24 * 3600)]
DAY_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


@router.post("/telemetry/ingest", status_code=status.HTTP_202_ACCEPTED)
async def ingest_telemetry(
    body: TelemetryBody, caller: CallerDep, settings: SettingsDep, engine: EngineDep
) -> TelemetryAccepted:
    """Store a batch of error, event and performance events from one source (all or nothing)."""
    batch = _parse(await body.read())
    if len(batch.events) > settings.telemetry_max_batch:
        raise ApiError(
            422,
            "batch_too_large",
            tr("A batch may hold at most %(limit)s events", limit=settings.telemetry_max_batch),
            field="events",
        )
    if not caller.is_founder and batch.source in RESERVED_SOURCES:
        raise ApiError(
            422, "reserved_source", tr("`%(source)s` is the platform's own source", source=batch.source), field="source"
        )
    accepted = await run_in_threadpool(store_batch, engine, batch, caller.tenant_id, datetime.now(UTC))
    log.info("telemetry ingested", source=batch.source, events=accepted)
    return TelemetryAccepted(accepted=accepted)


@router.get("/telemetry")
def telemetry_summary(_founder: FounderDep, engine: EngineDep, window_s: WindowS = 3600) -> TelemetrySummary:
    """Events of the last `window_s` seconds by source: counts, error rate, latency percentiles, top messages."""
    return summarise_window(engine, datetime.now(UTC), window_s)


@router.get("/anomalies")
def list_anomalies(_founder: FounderDep, engine: EngineDep, window_s: WindowS = 900) -> AnomalyReport:
    """Repeated error messages (≥3), slow endpoints (p95 > 2000 ms) and error rates over 10% in the window."""
    return scan_anomalies(engine, datetime.now(UTC), AnomalyRules(window_s=window_s))


@router.get("/summary")
def guardian_summary(_founder: FounderDep, engine: EngineDep, window_s: WindowS = 3600) -> GuardianSummary:
    """The latest heartbeat, the window's telemetry and anomalies, open failures and the last daily report."""
    return summarise_platform(engine, datetime.now(UTC), window_s)


@router.get("/daily-report")
def daily_report(
    _founder: FounderDep, session: SessionDep, day: Annotated[str | None, Query(pattern=DAY_PATTERN)] = None
) -> DailyReportBody:
    """The latest daily report, or the latest one of `day` (YYYY-MM-DD)."""
    row = latest_daily_report(session, day)
    if row is None:
        raise ApiError(
            404,
            "report_not_found",
            tr("No daily report yet") if day is None else tr("No report for %(day)s", day=str(day)),
            field="day" if day else None,
        )
    return DailyReportBody.model_validate(row.body)


def _parse(raw: bytes) -> TelemetryBatch:
    try:
        return TelemetryBatch.model_validate_json(raw)
    except ValidationError as err:
        first = err.errors()[0]
        if first["type"] == "json_invalid":
            raise ApiError(422, "invalid_json", tr("The body is not valid JSON"), field="body") from None
        path = field_path(first["loc"]) or "body"
        message = tr("%(field)s: %(problem)s", field=path, problem=validation_message(first))
        raise ApiError(422, "invalid_telemetry", message, field=path) from None
