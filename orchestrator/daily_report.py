"""Once a day: reads the last day's heartbeats, telemetry, anomalies and failure queue, scores the
platform's health 0-100 with its components and suggestions, and stores the report. Runs on a platform
Temporal Schedule; it suggests, it changes nothing in production. Old telemetry is the RetentionEnforcer's
to delete."""

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.support import SupportActivities
    from activities.telemetry import TelemetryActivities
    from orchestrator.retries import JOB_RETRY, JOB_TIMEOUT
    from rules.health_score import build_report
    from schemas.daily_report import DailyReportInput, DailyReportResult, ReportWindow, Retention
    from schemas.support import SupportWindow

# Before the RetentionEnforcer, the report pruned telemetry itself as its last step.
ENFORCER_PRUNES = "retention-enforcer-prunes-telemetry"
# Reports begun before the support desk have no support summary.
SUPPORT_SUMMARY = "daily-report-support-summary"


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
        if workflow.patched(SUPPORT_SUMMARY):
            support = await workflow.execute_activity_method(
                SupportActivities.summarize_support,
                SupportWindow(since=now - timedelta(hours=params.window_hours), until=now),
                start_to_close_timeout=JOB_TIMEOUT,
                retry_policy=JOB_RETRY,
            )
            report = report.model_copy(update={"support": support})
        report_id = await workflow.execute_activity_method(
            TelemetryActivities.write_daily_report,
            report,
            start_to_close_timeout=JOB_TIMEOUT,
            retry_policy=JOB_RETRY,
        )
        if not workflow.patched(ENFORCER_PRUNES):
            await self._former_prune(now)
        return DailyReportResult(report_id=report_id, score=report.score)

    async def _former_prune(self, now: datetime) -> None:
        """The step a report begun before the patch still has in its history. No worker offers the activity
        any more: when it fails, the report is stored all the same."""
        try:
            await workflow.execute_activity(
                "prune_telemetry",
                Retention(until=now, days=30),
                start_to_close_timeout=JOB_TIMEOUT,
                retry_policy=JOB_RETRY,
            )
        except ActivityError:
            workflow.logger.info("telemetry is pruned by the RetentionEnforcer now")
