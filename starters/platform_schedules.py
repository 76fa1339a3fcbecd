"""The platform's own Temporal Schedules, created idempotently when a worker starts (or by
`levqor-schedules`): starting twice creates no duplicates, and a changed setting updates the schedule."""

import asyncio
from collections.abc import Callable
from datetime import timedelta

import structlog
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from core.logs import configure_logging
from core.settings import Settings, get_settings
from orchestrator.auto_recovery import AutoRecovery
from orchestrator.compliance_audit import ComplianceAudit
from orchestrator.cost_autopilot import CostAutopilot
from orchestrator.daily_report import DailyReport
from orchestrator.heartbeat import Heartbeat
from orchestrator.platform_backup import PlatformBackup
from orchestrator.retention_enforcer import RetentionEnforcer
from orchestrator.run_archiver import RunArchiver
from orchestrator.upgrade_planner import UpgradePlanner
from schemas.backups import PlatformBackupInput
from schemas.compliance import AuditTrigger, ComplianceAuditInput
from schemas.daily_report import DailyReportInput
from schemas.health import HeartbeatInput
from schemas.recovery import AutoRecoveryInput
from schemas.retention import RetentionEnforcerInput
from schemas.run_archive import RunArchiverInput
from schemas.upgrades import UpgradePlannerInput
from starters.connection import connect
from starters.namespace import ensure_retention

AUTO_RECOVERY_SCHEDULE = "platform-auto-recovery"
COST_AUTOPILOT_SCHEDULE = "platform-cost-autopilot"
UPGRADE_PLANNER_SCHEDULE = "platform-upgrade-planner"
COMPLIANCE_AUDIT_SCHEDULE = "platform-compliance-audit"
HEARTBEAT_SCHEDULE = "platform-heartbeat"
DAILY_REPORT_SCHEDULE = "platform-daily-report"
RETENTION_ENFORCER_SCHEDULE = "platform-retention-enforcer"
PLATFORM_BACKUP_SCHEDULE = "platform-backup"
RUN_ARCHIVER_SCHEDULE = "platform-run-archiver"
log = structlog.get_logger()


def auto_recovery_schedule(settings: Settings) -> Schedule:
    params = AutoRecoveryInput(
        apply=settings.auto_recovery_apply,
        max_redrives=settings.auto_recovery_max_redrives,
        retry_defaults=settings.retry_defaults(),
        follow_toggles=True,
    )
    return Schedule(
        action=ScheduleActionStartWorkflow(
            AutoRecovery.run, params, id="platform-auto-recovery-run", task_queue=settings.task_queue
        ),
        spec=every_s(settings.auto_recovery_interval_s),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def cost_autopilot_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            CostAutopilot.run,
            settings.cost_autopilot_input(),
            id="platform-cost-autopilot-run",
            task_queue=settings.task_queue,
        ),
        spec=every_s(settings.cost_autopilot_interval_s),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def upgrade_planner_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            UpgradePlanner.run,
            UpgradePlannerInput(stale_after_s=settings.upgrade_plan_stale_after_s),
            id="platform-upgrade-planner-run",
            task_queue=settings.task_queue,
        ),
        spec=every_s(settings.upgrade_planner_interval_s),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def compliance_audit_input(
    settings: Settings, report_id: str | None = None, tenant_id: str | None = None, trigger: AuditTrigger = "schedule"
) -> ComplianceAuditInput:
    return ComplianceAuditInput(
        report_id=report_id,
        tenant_id=tenant_id,
        trigger=trigger,
        platform_retention=settings.platform_retention(),
        dsar_warning_days=settings.dsar_warning_days,
        api_key_unused_days=settings.api_key_unused_days,
    )


def compliance_audit_workflow_id(report_id: str) -> str:
    return f"compliance-audit-{report_id}"


def compliance_audit_schedule(settings: Settings) -> Schedule:
    """Daily at COMPLIANCE_AUDIT_HOUR_UTC; the report id is chosen by each run."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            ComplianceAudit.run,
            compliance_audit_input(settings),
            id="platform-compliance-audit-run",
            task_queue=settings.task_queue,
        ),
        spec=ScheduleSpec(
            intervals=[
                ScheduleIntervalSpec(
                    every=timedelta(days=1), offset=timedelta(hours=settings.compliance_audit_hour_utc)
                )
            ]
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def heartbeat_schedule(settings: Settings) -> Schedule:
    """Every HEARTBEAT_INTERVAL_S; a heartbeat that cannot finish before the next one is abandoned."""
    every = timedelta(seconds=settings.heartbeat_interval_s)
    params = HeartbeatInput(error_window_s=15 * 60)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            Heartbeat.run, params, id="platform-heartbeat-run", task_queue=settings.task_queue, execution_timeout=every
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def daily_report_schedule(settings: Settings) -> Schedule:
    """Daily at DAILY_REPORT_HOUR_UTC:00 UTC, over the preceding 24 hours."""
    params = DailyReportInput()
    return Schedule(
        action=ScheduleActionStartWorkflow(
            DailyReport.run,
            params,
            id="platform-daily-report-run",
            task_queue=settings.task_queue,
            execution_timeout=timedelta(hours=1),
        ),
        spec=daily_at(settings.daily_report_hour_utc),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def run_archiver_input(settings: Settings) -> RunArchiverInput:
    return RunArchiverInput(
        visibility_lag_s=settings.run_archive_lag_s, first_window_s=settings.temporal_retention_days * 86400
    )


def run_archiver_schedule(settings: Settings) -> Schedule:
    """Every RUN_ARCHIVE_INTERVAL_S; a pass still archiving when the next is due lets it go."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RunArchiver.run,
            run_archiver_input(settings),
            id="platform-run-archiver-run",
            task_queue=settings.task_queue,
        ),
        spec=every_s(settings.run_archive_interval_s),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def platform_backup_schedule(settings: Settings) -> Schedule:
    """Daily at BACKUP_HOUR_UTC:00 UTC, when BACKUP_SCHEDULE_ENABLED; keeps BACKUP_KEEP_DAILY/WEEKLY copies."""
    params = PlatformBackupInput(keep_daily=settings.backup_keep_daily, keep_weekly=settings.backup_keep_weekly)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            PlatformBackup.run,
            params,
            id="platform-backup-run",
            task_queue=settings.task_queue,
            execution_timeout=timedelta(hours=12),
        ),
        spec=daily_at(settings.backup_hour_utc),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def retention_enforcer_input(settings: Settings, tenant_ids: list[str] | None = None) -> RetentionEnforcerInput:
    return RetentionEnforcerInput(
        platform=settings.platform_retention(), batch_size=settings.retention_batch_size, tenant_ids=tenant_ids
    )


def retention_enforcer_schedule(settings: Settings) -> Schedule:
    """Daily at RETENTION_ENFORCER_HOUR_UTC:00 UTC; a pass still running when the next is due is not doubled."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RetentionEnforcer.run,
            retention_enforcer_input(settings),
            id="platform-retention-enforcer-run",
            task_queue=settings.task_queue,
        ),
        spec=daily_at(settings.retention_enforcer_hour_utc),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def daily_at(hour_utc: int) -> ScheduleSpec:
    """Once a day at `hour_utc`:00:00 UTC."""
    return ScheduleSpec(
        calendars=[
            ScheduleCalendarSpec(hour=[ScheduleRange(hour_utc)], minute=[ScheduleRange(0)], second=[ScheduleRange(0)])
        ]
    )


def every_s(seconds: float) -> ScheduleSpec:
    return ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=seconds))])


async def ensure_platform_schedules(client: Client, settings: Settings) -> list[str]:
    """Sets the namespace's retention, and creates each platform schedule or brings an existing one to the
    current settings."""
    await ensure_retention(client, settings.temporal_retention_days)
    wanted = {
        AUTO_RECOVERY_SCHEDULE: auto_recovery_schedule(settings),
        COST_AUTOPILOT_SCHEDULE: cost_autopilot_schedule(settings),
        UPGRADE_PLANNER_SCHEDULE: upgrade_planner_schedule(settings),
        COMPLIANCE_AUDIT_SCHEDULE: compliance_audit_schedule(settings),
        HEARTBEAT_SCHEDULE: heartbeat_schedule(settings),
        DAILY_REPORT_SCHEDULE: daily_report_schedule(settings),
        RETENTION_ENFORCER_SCHEDULE: retention_enforcer_schedule(settings),
        RUN_ARCHIVER_SCHEDULE: run_archiver_schedule(settings),
    }
    if settings.backup_schedule_enabled:
        wanted[PLATFORM_BACKUP_SCHEDULE] = platform_backup_schedule(settings)
    else:
        await _drop_schedule(client, PLATFORM_BACKUP_SCHEDULE)
    for schedule_id, schedule in wanted.items():
        try:
            await client.create_schedule(schedule_id, schedule)
            log.info("platform schedule created", schedule_id=schedule_id)
        except ScheduleAlreadyRunningError:
            await client.get_schedule_handle(schedule_id).update(_replace_with(schedule))
            log.info("platform schedule updated", schedule_id=schedule_id)
    return sorted(wanted)


async def _drop_schedule(client: Client, schedule_id: str) -> None:
    """Deletes a platform schedule its setting turned off; nothing when there is none."""
    try:
        await client.get_schedule_handle(schedule_id).delete()
        log.info("platform schedule deleted", schedule_id=schedule_id)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise


def _replace_with(schedule: Schedule) -> Callable[[ScheduleUpdateInput], ScheduleUpdate]:
    def update(current: ScheduleUpdateInput) -> ScheduleUpdate:
        schedule.state = current.description.schedule.state  # keep a pause an operator set
        return ScheduleUpdate(schedule=schedule)

    return update


async def _main(settings: Settings) -> None:
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    await ensure_platform_schedules(client, settings)


def main() -> None:
    """`levqor-schedules`: create or update the platform schedules and exit."""
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    asyncio.run(_main(settings))


if __name__ == "__main__":
    main()
