"""Once a day: reads the last day's heartbeats, telemetry, anomalies and failure queue, scores the
platform's health 0-100 with its components and suggestions, stores the report, and prunes telemetry
past its retention. Runs on a platform Temporal Schedule; it suggests, it changes nothing in production."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.telemetry import TelemetryActivities
    from orchestrator.retries import JOB_RETRY, JOB_TIMEOUT
    from rules.health_score import build_report
    from schemas.daily_report import DailyReportInput, DailyReportResult, ReportWindow, Retention


@workflow.defn
class DailyReport:
    @workflow.run
    async def run(self, params: DailyReportInput) -> DailyReportResult:
        now = workflow.now()
        inputs = await workflow.execute_activity_method(
            TelemetryActivities.gather_report_inputs,
            ReportWindow(until=now, window_hours=params.window_hours, rules=params.rules),
            start_to_close_timeout=JOB_TIMEOUT,
            retry_policy=JOB_RETRY,
        )
        report = build_report(inputs, now, params.window_hours)
        report_id = await workflow.execute_activity_method(
            TelemetryActivities.write_daily_report,
            report,
            start_to_close_timeout=JOB_TIMEOUT,
            retry_policy=JOB_RETRY,
        )
        pruned = await workflow.execute_activity_method(
            TelemetryActivities.prune_telemetry,
            Retention(until=now, days=params.telemetry_retention_days),
            start_to_close_timeout=JOB_TIMEOUT,
            retry_policy=JOB_RETRY,
        )
        return DailyReportResult(report_id=report_id, score=report.score, pruned=pruned.deleted)
