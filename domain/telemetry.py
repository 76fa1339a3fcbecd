"""Telemetry for the founder: storing an ingested batch, and the views over what was stored (the window's
summary, its anomalies, the one-screen guardian summary and the daily reports)."""

from datetime import date, datetime, timedelta

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from core.telemetry import event_row, insert_events, load_samples, publish_error
from domain.health import latest_health_record
from rules.health_score import platform_status
from rules.telemetry import detect_anomalies, event_time, platform_samples, summarise, tenant_failure_rates
from schemas.health import HealthRecordPublic
from schemas.panel import ErrorFigures, HealthTrend, ScorePoint
from schemas.tables import DailyReportRow, FailureEntry, Tenant
from schemas.telemetry import (
    AnomalyReport,
    AnomalyRules,
    GuardianSummary,
    TelemetryBatch,
    TelemetrySummary,
    TenantFailureRate,
)


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
    for row in rows:
        if row["kind"] == "error":
            publish_error(row)
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
    """The latest heartbeat, the window's platform telemetry and anomalies, the tenants' failure rates apart,
    open failures and the last daily report."""
    since = now - timedelta(seconds=window_s)
    samples = load_samples(engine, since, now)
    platform = platform_samples(samples)
    anomalies = detect_anomalies(platform, now, AnomalyRules(window_s=window_s))
    heartbeat = latest_health_record(engine)
    record = HealthRecordPublic.model_validate(heartbeat, from_attributes=True) if heartbeat else None
    with Session(engine) as session:
        report = latest_daily_report(session)
        open_failures = session.exec(
            select(func.count()).select_from(FailureEntry).where(FailureEntry.status == "open")
        ).one()
    return GuardianSummary(
        checked_at=now,
        heartbeat=record,
        platform_status=platform_status(record.status if record else None, anomalies),
        telemetry=summarise(platform, since, now),
        anomalies=anomalies,
        tenant_failures=tenant_failure_rates(samples),
        open_failures=open_failures,
        report_score=report.score if report else None,
        report_day=report.day if report else None,
    )


def tenant_failures(engine: Engine, now: datetime, window_s: int) -> list[TenantFailureRate]:
    """Each tenant whose runs failed in the `window_s` seconds before `now` because of its own targets,
    messages or definitions: its failed step attempts among all, its failed runs; highest rates first."""
    return tenant_failure_rates(load_samples(engine, now - timedelta(seconds=window_s), now))


def latest_daily_report(session: Session, day: str | None = None) -> DailyReportRow | None:
    """The most recently generated daily report, or the most recent one of `day` (YYYY-MM-DD); None when
    there is none."""
    query = select(DailyReportRow)
    if day is not None:
        query = query.where(DailyReportRow.day == day)
    return session.exec(query.order_by(col(DailyReportRow.generated_at).desc()).limit(1)).first()


# The overview lists this many tenants with failing runs (the failure queue has them all).
TENANT_FAILURES_SHOWN = 5


def error_figures(engine: Engine, now: datetime, window_s: int) -> ErrorFigures:
    """The platform's own errors of the `window_s` seconds before `now`, in total and by source (most first), and
    apart from them the tenants whose runs failed because of their own targets or definitions (highest rate first)."""
    samples = load_samples(engine, now - timedelta(seconds=window_s), now)
    summary = summarise(platform_samples(samples), now - timedelta(seconds=window_s), now)
    ranked = sorted((s for s in summary.sources if s.errors), key=lambda s: (-s.errors, s.source))
    failing = tenant_failure_rates(samples, limit=TENANT_FAILURES_SHOWN)
    with Session(engine) as session:
        wanted = {rate.tenant_id for rate in failing}
        names = {t.id: t.name for t in session.exec(select(Tenant).where(col(Tenant.id).in_(wanted)))}
    return ErrorFigures(
        window_s=window_s,
        errors=summary.errors,
        events=summary.total,
        by_source={s.source: s.errors for s in ranked},
        tenant_failures=failing,
        tenant_names=names,
    )


def score_trend(engine: Engine, today: date, days: int) -> HealthTrend:
    """The daily reports' health score for each of the `days` days up to `today` (the latest report of each day;
    None on a day without one), with the latest report's suggestions."""
    first = today - timedelta(days=days - 1)
    with Session(engine) as session:
        rows = session.exec(
            select(DailyReportRow)
            .where(col(DailyReportRow.day) >= first.isoformat(), col(DailyReportRow.day) <= today.isoformat())
            .order_by(col(DailyReportRow.generated_at))
        ).all()
        latest = latest_daily_report(session)
    scores = {row.day: row.score for row in rows}  # later reports of a day replace earlier ones
    points = [
        ScorePoint(day=day, score=scores.get(day.isoformat()))
        for day in (first + timedelta(days=offset) for offset in range(days))
    ]
    if latest is None:
        return HealthTrend(points=points)
    suggestions = [str(s) for s in (latest.body or {}).get("suggestions", [])]
    return HealthTrend(points=points, latest_day=latest.day, latest_score=latest.score, suggestions=suggestions)
