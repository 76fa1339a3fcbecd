"""Backs up the application database once a day (a platform schedule): makes a backup with its manifest,
verifies it by a restore into a scratch database, and prunes to the newest daily and weekly copies. A backup
that cannot be made or verified is recorded as a failed manifest (the heartbeat's backup check turns
degraded), e-mailed to the founder and written to the audit log; the run itself still completes."""

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.backup import BackupActivities
    from orchestrator.retries import BACKUP_RETRY, BACKUP_TIMEOUT, JOB_RETRY, JOB_TIMEOUT, NOTIFY_RETRY, NOTIFY_TIMEOUT
    from schemas.backups import (
        BackupFailed,
        BackupManifest,
        BackupRef,
        BackupRequest,
        PlatformBackupInput,
        PlatformBackupResult,
        PruneResult,
        RetentionPolicy,
    )


@workflow.defn
class PlatformBackup:
    @workflow.run
    async def run(self, params: PlatformBackupInput) -> PlatformBackupResult:
        now = workflow.now()
        backup_id = f"levqor-{now:%Y%m%dT%H%M%SZ}-{workflow.uuid4().hex[:8]}"
        manifest, error = await self._backup(BackupRequest(backup_id=backup_id, at=now))
        notified = False
        if error is not None:
            notified = await self._report(BackupFailed(backup_id=backup_id, at=now, error=error))
        pruned = await self._prune(RetentionPolicy(keep_daily=params.keep_daily, keep_weekly=params.keep_weekly))
        return PlatformBackupResult(
            backup_id=backup_id,
            status="failed" if error else "verified",
            size_bytes=manifest.size_bytes if manifest else 0,
            error=error,
            pruned=pruned.removed,
            founder_notified=notified,
        )

    async def _backup(self, request: BackupRequest) -> tuple[BackupManifest | None, str | None]:
        """The verified manifest, or what went wrong (a failed make is recorded as a manifest here)."""
        try:
            await workflow.execute_activity_method(
                BackupActivities.make_backup, request, start_to_close_timeout=BACKUP_TIMEOUT, retry_policy=BACKUP_RETRY
            )
        except ActivityError as err:
            return None, await self._record(request, f"backup could not be made: {_reason(err)}")
        try:
            manifest = await workflow.execute_activity_method(
                BackupActivities.verify_backup,
                BackupRef(backup_id=request.backup_id),
                start_to_close_timeout=BACKUP_TIMEOUT,
                retry_policy=BACKUP_RETRY,
            )
        except ActivityError as err:
            return None, await self._record(request, f"backup could not be verified: {_reason(err)}")
        if not manifest.verified:
            detail = manifest.verification.detail if manifest.verification else None
            return manifest, f"verification failed: {detail}"
        return manifest, None

    async def _record(self, request: BackupRequest, error: str) -> str:
        """Marks the backup failed in its manifest, for the heartbeat; returns `error`."""
        failure = BackupFailed(backup_id=request.backup_id, at=request.at, error=error)
        try:
            await workflow.execute_activity_method(
                BackupActivities.record_backup_failure,
                failure,
                start_to_close_timeout=JOB_TIMEOUT,
                retry_policy=JOB_RETRY,
            )
        except ActivityError:  # the folder itself fails: the founder's e-mail still goes out
            workflow.logger.warning("backup failure not recorded", extra={"backup_id": request.backup_id})
        return error

    async def _report(self, failure: BackupFailed) -> bool:
        """Audit-log entry and founder e-mail; either failing is logged, never the end of the run."""
        try:
            await workflow.execute_activity_method(
                BackupActivities.audit_backup_failure,
                failure,
                start_to_close_timeout=JOB_TIMEOUT,
                retry_policy=JOB_RETRY,
            )
        except ActivityError:
            workflow.logger.warning("backup failure not audited", extra={"backup_id": failure.backup_id})
        try:
            notice = await workflow.execute_activity_method(
                BackupActivities.notify_founder,
                failure,
                start_to_close_timeout=NOTIFY_TIMEOUT,
                retry_policy=NOTIFY_RETRY,
            )
        except ActivityError:
            workflow.logger.warning("founder not notified of backup failure", extra={"backup_id": failure.backup_id})
            return False
        return notice.sent

    async def _prune(self, policy: RetentionPolicy) -> PruneResult:
        try:
            return await workflow.execute_activity_method(
                BackupActivities.prune_backups, policy, start_to_close_timeout=JOB_TIMEOUT, retry_policy=JOB_RETRY
            )
        except ActivityError:
            workflow.logger.warning("backups not pruned")
            return PruneResult()


def _reason(err: ActivityError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return f"{cause.type}: {cause.message}"[:400]
    return f"{type(cause).__name__}: {cause}"[:400]
