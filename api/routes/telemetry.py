"""Telemetry in (any key; a tenant's events are stamped with its id) and the founder's health views:
the telemetry summary, anomalies, a one-screen summary and the daily report."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Query, Request, status
from pydantic import ValidationError
from sqlalchemy import Engine, func, insert
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from api.deps import CallerDep, EngineDep, FounderDep, SessionDep, SettingsDep
from api.errors import field_path
from core.errors import ApiError
from core.logs import redact, redact_text
from core.telemetry import load_samples
from rules.telemetry import detect_anomalies, summarise
from schemas.daily_report import DailyReportBody
from schemas.health import HealthRecordPublic
from schemas.tables import DailyReportRow, FailureEntry, HealthRecord, TelemetryEvent
from schemas.telemetry import RESERVED_SOURCES, GuardianSummary, TelemetryAccepted, TelemetryBatch
from schemas.telemetry_analysis import AnomalyReport, AnomalyRules, TelemetrySummary

router = APIRouter(prefix="/api/guardian", tags=["guardian"])
log = structlog.get_logger()
CLOCK_SKEW = timedelta(days=1)
WindowS = Annotated[int, Query(ge=60, le=7 * 24 * 3600)]
DAY_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


@router.post("/telemetry/ingest", status_code=status.HTTP_202_ACCEPTED)
async def ingest_telemetry(request: Request, caller: CallerDep, settings: SettingsDep,
                           engine: EngineDep) -> TelemetryAccepted:
    """Store a batch of error, event and performance events from one source (all or nothing)."""
    raw = await _read_capped(request, settings.telemetry_max_body_bytes)
    batch = _parse(raw)
    if len(batch.events) > settings.telemetry_max_batch:
        raise ApiError(422, "batch_too_large", f"A batch may hold at most {settings.telemetry_max_batch} events",
                       field="events")
    if not caller.is_founder and batch.source in RESERVED_SOURCES:
        raise ApiError(422, "reserved_source", f"`{batch.source}` is the platform's own source", field="source")
    rows = _rows(batch, caller.tenant_id, datetime.now(UTC))
    await run_in_threadpool(_insert, engine, rows)
    log.info("telemetry ingested", source=batch.source, events=len(rows))
    return TelemetryAccepted(accepted=len(rows))


@router.get("/telemetry")
def telemetry_summary(_founder: FounderDep, engine: EngineDep, window_s: WindowS = 3600) -> TelemetrySummary:
    """Events of the last `window_s` seconds by source: counts, error rate, latency percentiles, top messages."""
    until = datetime.now(UTC)
    since = until - timedelta(seconds=window_s)
    return summarise(load_samples(engine, since, until), since, until)


@router.get("/anomalies")
def list_anomalies(_founder: FounderDep, engine: EngineDep, window_s: WindowS = 900) -> AnomalyReport:
    """Repeated error messages (≥3), slow endpoints (p95 > 2000 ms) and error rates over 10% in the window."""
    return _anomalies(engine, AnomalyRules(window_s=window_s))


@router.get("/summary")
def guardian_summary(_founder: FounderDep, engine: EngineDep, window_s: WindowS = 3600) -> GuardianSummary:
    """The latest heartbeat, the window's telemetry and anomalies, open failures and the last daily report."""
    until = datetime.now(UTC)
    since = until - timedelta(seconds=window_s)
    samples = load_samples(engine, since, until)
    with Session(engine) as session:
        heartbeat = session.exec(select(HealthRecord).order_by(col(HealthRecord.at).desc()).limit(1)).first()
        report = session.exec(select(DailyReportRow).order_by(col(DailyReportRow.generated_at).desc()).limit(1)).first()
        open_failures = session.exec(
            select(func.count()).select_from(FailureEntry).where(FailureEntry.status == "open")).one()
    return GuardianSummary(
        checked_at=until, heartbeat=HealthRecordPublic.model_validate(heartbeat, from_attributes=True) if heartbeat else None,
        telemetry=summarise(samples, since, until),
        anomalies=detect_anomalies(samples, until, AnomalyRules(window_s=window_s)), open_failures=open_failures,
        report_score=report.score if report else None, report_day=report.day if report else None,
    )


@router.get("/daily-report")
def daily_report(_founder: FounderDep, session: SessionDep,
                 day: Annotated[str | None, Query(pattern=DAY_PATTERN)] = None) -> DailyReportBody:
    """The latest daily report, or the latest one of `day` (YYYY-MM-DD)."""
    query = select(DailyReportRow)
    if day is not None:
        query = query.where(DailyReportRow.day == day)
    row = session.exec(query.order_by(col(DailyReportRow.generated_at).desc()).limit(1)).first()
    if row is None:
        raise ApiError(404, "report_not_found", "No daily report yet" if day is None else f"No report for {day}",
                       field="day" if day else None)
    return DailyReportBody.model_validate(row.body)


def _anomalies(engine: Engine, rules: AnomalyRules) -> AnomalyReport:
    now = datetime.now(UTC)
    samples = load_samples(engine, now - timedelta(seconds=rules.window_s), now)
    return AnomalyReport(checked_at=now, rules=rules, anomalies=detect_anomalies(samples, now, rules))


async def _read_capped(request: Request, limit: int) -> bytes:
    """The raw body; 413 when the declared or the received size is over `limit`, leaving the rest unread."""
    declared = request.headers.get("content-length", "")
    too_large = ApiError(413, "payload_too_large", f"A telemetry batch may take at most {limit} bytes", field="body")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(raw: bytes) -> TelemetryBatch:
    try:
        return TelemetryBatch.model_validate_json(raw)
    except ValidationError as err:
        first = err.errors()[0]
        if first["type"] == "json_invalid":
            raise ApiError(422, "invalid_json", "The body is not valid JSON", field="body") from None
        path = field_path(first["loc"]) or "body"
        raise ApiError(422, "invalid_telemetry", f"{path}: {first['msg']}", field=path) from None


def _rows(batch: TelemetryBatch, tenant_id: str | None, now: datetime) -> list[dict]:
    def when(at: datetime | None) -> datetime:
        if at is None or at.tzinfo is None or abs(at - now) > CLOCK_SKEW:
            return now
        return at

    return [
        {"id": str(uuid.uuid4()), "source": batch.source, "kind": e.kind,
         "message": redact_text(e.message), "endpoint": e.endpoint, "duration_ms": e.duration_ms,
         "status": e.status, "tenant_id": tenant_id, "at": when(e.at), "attributes": redact(e.attributes)}
        for e in batch.events
    ]


def _insert(engine: Engine, rows: list[dict]) -> None:
    with Session(engine) as session:
        session.execute(insert(TelemetryEvent), rows)
        session.commit()
