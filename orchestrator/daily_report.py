"""Once a day: reads the last day's heartbeats, telemetry, anomalies and failure queue, scores the
platform's health 0-100 with its components and suggestions, stores the report, and prunes telemetry
past its retention. Runs on a platform Temporal Schedule; it suggests, it changes nothing in production."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.telemetry import TelemetryActivities
    from schemas.daily_report import DailyReportInput, DailyReportResult, ReportWindow, Retention
    from rules.health_score import build_report

STORE_TIMEOUT = timedelta(minutes=2)
STORE_RETRY = RetryPolicy(maximum_attempts=5, initial_interval=timedelta(seconds=1))


@workflow.defn
class DailyReport:
    @workflow.run
    async def run(self, params: DailyReportInput) -> DailyReportResult:
        now = workflow.now()
        inputs = await workflow.execute_activity_method(
            TelemetryActivities.gather_report_inputs,
            ReportWindow(until=now, window_hours=params.window_hours, rules=params.rules),
            start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY,
        )
        report = build_report(inputs, now, params.window_hours)
        report_id = await workflow.execute_activity_method(
            TelemetryActivities.write_daily_report, report, start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
        pruned = await workflow.execute_activity_method(
            TelemetryActivities.prune_telemetry, Retention(until=now, days=params.telemetry_retention_days),
            start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY,
        )
        return DailyReportResult(report_id=report_id, score=report.score, pruned=pruned.deleted)
