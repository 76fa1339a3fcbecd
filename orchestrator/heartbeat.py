"""Probes the platform once and writes a health record: the database, Temporal (and its pollers), Stripe,
the AI provider and the latest backup are checked in parallel, with the count of recent telemetry errors.
Runs every 60 s on a platform Temporal Schedule; it only observes, it changes nothing."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.backup import BackupActivities
    from activities.health import HealthActivities
    from orchestrator.retries import STORE_TIMEOUT
    from rules.health_score import overall_status
    from schemas.health import (
        CheckName,
        CheckResult,
        ErrorWindow,
        HealthRecordCreate,
        HeartbeatInput,
        HeartbeatResult,
        ProbeRequest,
    )

PROBE = ProbeRequest(timeout_s=5)
PROBE_TIMEOUT = timedelta(seconds=15)
# A probe that fails is the finding, not something to retry: the next heartbeat comes in a minute.
PROBE_RETRY = RetryPolicy(maximum_attempts=1)
# Fewer attempts than JOB_RETRY: the heartbeat should be done before the next one starts.
RECORD_RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=1))
# The backup check reads BACKUP_DIR's manifests (BackupActivities); heartbeats started before it have none.
BACKUP_CHECK_PATCH = "heartbeat-backup-check"
Probe = Callable[[Any, ProbeRequest], Awaitable[CheckResult]]
PROBES: dict[CheckName, Probe] = {
    "database": HealthActivities.check_database,
    "temporal": HealthActivities.check_temporal,
    "stripe": HealthActivities.check_stripe,
    "ai": HealthActivities.check_ai,
}


@workflow.defn
class Heartbeat:
    @workflow.run
    async def run(self, params: HeartbeatInput) -> HeartbeatResult:
        probes = [self._check(name, probe) for name, probe in PROBES.items()]
        if workflow.patched(BACKUP_CHECK_PATCH):
            probes.append(self._check("backup", BackupActivities.check_backup))
        checks = list(await asyncio.gather(*probes))
        errors = await workflow.execute_activity_method(
            HealthActivities.count_recent_errors,
            ErrorWindow(window_s=params.error_window_s),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=RECORD_RETRY,
        )
        temporal = next(c for c in checks if c.name == "temporal")
        record = HealthRecordCreate(
            at=workflow.now(),
            status=overall_status(checks),
            checks=checks,
            error_count_recent=errors.count,
            worker_count=temporal.workers,
        )
        return await workflow.execute_activity_method(
            HealthActivities.record_health, record, start_to_close_timeout=STORE_TIMEOUT, retry_policy=RECORD_RETRY
        )

    async def _check(self, name: CheckName, probe: Probe) -> CheckResult:
        try:
            return await workflow.execute_activity_method(
                probe, PROBE, start_to_close_timeout=PROBE_TIMEOUT, retry_policy=PROBE_RETRY
            )
        except ActivityError as err:  # the probe itself timed out or crashed: the check failed
            return CheckResult(
                name=name,
                status="failed",
                latency_ms=PROBE_TIMEOUT.total_seconds() * 1000,
                detail=str(err.cause or err)[:300],
            )
