"""Telemetry for the founder: storing an ingested batch, and the views over what was stored (the window's
summary, its anomalies, the one-screen guardian summary and the daily reports)."""

from datetime import datetime, timedelta

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from core.telemetry import event_row, insert_events, load_samples
from domain.health import latest_health_record
from rules.telemetry import detect_anomalies, event_time, summarise
from schemas.health import HealthRecordPublic
from schemas.tables import DailyReportRow, FailureEntry
from schemas.telemetry import AnomalyReport, AnomalyRules, GuardianSummary, TelemetryBatch, TelemetrySummary


def store_batch(engine: Engine, batch: TelemetryBatch, tenant_id: str | None, received_at: datetime) -> int:
    """Stores every event of the batch in one INSERT (all or nothing), stamped with `tenant_id` and redacted;
    returns how many."""
    rows = [
        event_row(
            batch.source,
            event.kind,
            event.message,
            endpoint=event.endpoint,
            duration_ms=event.duration_ms,
            status=event.status,
            tenant_id=tenant_id,
            at=event_time(event.at, received_at),
            attributes=event.attributes,
        )
        for event in batch.events
    ]
    insert_events(engine, rows)
    return len(rows)


def summarise_window(engine: Engine, until: datetime, window_s: int) -> TelemetrySummary:
    """The events of the `window_s` seconds before `until` by source: counts, error rate, latencies and
    top messages."""
    since = until - timedelta(seconds=window_s)
    return summarise(load_samples(engine, since, until), since, until)


def scan_anomalies(engine: Engine, now: datetime, rules: AnomalyRules) -> AnomalyReport:
    """The anomaly rules over the events of the `rules.window_s` seconds before `now`."""
    samples = load_samples(engine, now - timedelta(seconds=rules.window_s), now)
    return AnomalyReport(checked_at=now, rules=rules, anomalies=detect_anomalies(samples, now, rules))


def summarise_platform(engine: Engine, now: datetime, window_s: int) -> GuardianSummary:
    """The latest heartbeat, the window's telemetry and anomalies, open failures and the last daily report."""
    since = now - timedelta(seconds=window_s)
    samples = load_samples(engine, since, now)
    heartbeat = latest_health_record(engine)
    with Session(engine) as session:
        report = latest_daily_report(session)
        open_failures = session.exec(
            select(func.count()).select_from(FailureEntry).where(FailureEntry.status == "open")
        ).one()
    return GuardianSummary(
        checked_at=now,
        heartbeat=HealthRecordPublic.model_validate(heartbeat, from_attributes=True) if heartbeat else None,
        telemetry=summarise(samples, since, now),
        anomalies=detect_anomalies(samples, now, AnomalyRules(window_s=window_s)),
        open_failures=open_failures,
        report_score=report.score if report else None,
        report_day=report.day if report else None,
    )


def latest_daily_report(session: Session, day: str | None = None) -> DailyReportRow | None:
    """The most recently generated daily report, or the most recent one of `day` (YYYY-MM-DD); None when
    there is none."""
    query = select(DailyReportRow)
    if day is not None:
        query = query.where(DailyReportRow.day == day)
    return session.exec(query.order_by(col(DailyReportRow.generated_at).desc()).limit(1)).first()
