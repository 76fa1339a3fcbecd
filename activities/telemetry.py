"""Reading telemetry, health records and the failure queue for reports, writing daily reports; and
`scan_anomalies`, the anomaly rules as an activity any platform workflow can call."""

from datetime import timedelta

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from temporalio import activity

from core.telemetry import load_samples
from rules.telemetry import TENANT_FAILURE_TYPES, detect_anomalies, platform_samples, summarise, tenant_failure_rates
from schemas.daily_report import DailyReportBody, ReportInputs, ReportWindow
from schemas.tables import DailyReportRow, FailureEntry, HealthRecord
from schemas.telemetry import AnomalyReport, AnomalyRules


class TelemetryActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name="scan_anomalies")
    def scan_anomalies(self, rules: AnomalyRules) -> AnomalyReport:
        """The anomaly rules over the telemetry of the last `rules.window_s` seconds."""
        now = activity.info().current_attempt_scheduled_time
        samples = load_samples(self._engine, now - timedelta(seconds=rules.window_s), now)
        return AnomalyReport(checked_at=now, rules=rules, anomalies=detect_anomalies(samples, now, rules))

    @activity.defn(name="gather_report_inputs")
    def gather_report_inputs(self, window: ReportWindow) -> ReportInputs:
        """The window's heartbeats, the platform's own telemetry, anomalies and open failures, and the tenants'
        failure rates apart (their failed steps and runs are not the platform's)."""
        since = window.until - timedelta(hours=window.window_hours)
        samples = load_samples(self._engine, since, window.until)
        platform = platform_samples(samples)
        with Session(self._engine) as session:
            heartbeats = session.exec(
                select(HealthRecord.status, HealthRecord.checks).where(
                    col(HealthRecord.at) >= since, col(HealthRecord.at) <= window.until
                )
            ).all()
            open_failures = session.exec(
                select(func.count())
                .select_from(FailureEntry)
                .where(FailureEntry.status == "open", col(FailureEntry.error_type).not_in(TENANT_FAILURE_TYPES))
            ).one()
        failed_checks: dict[str, int] = {}
        for _status, checks in heartbeats:
            for name, check in checks.items():
                if check.get("status") == "failed":
                    failed_checks[name] = failed_checks.get(name, 0) + 1
        return ReportInputs(
            heartbeats=len(heartbeats),
            heartbeats_ok=sum(status == "ok" for status, _ in heartbeats),
            failed_checks=failed_checks,
            telemetry=summarise(platform, since, window.until),
            anomalies=detect_anomalies(platform, window.until, window.rules),
            open_failures=open_failures,
            tenant_failures=tenant_failure_rates(samples),
        )

    @activity.defn(name="write_daily_report")
    def write_daily_report(self, report: DailyReportBody) -> str:
        row = DailyReportRow(
            day=report.day, generated_at=report.generated_at, score=report.score, body=report.model_dump(mode="json")
        )
        with Session(self._engine) as session:
            session.add(row)
            session.commit()
            return row.id
