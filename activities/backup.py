"""The PlatformBackup workflow's side effects, on core/backups.py (the same functions `levqor backup` calls):
make, verify and prune backups in BACKUP_DIR, record and report a failure, and the heartbeat's backup check."""

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.email import EmailActivities, mask_address
from activities.recipients import founder_alert_language, mail_time
from core import backups
from core.backup_engines import BackupError
from core.backup_manifests import list_manifests
from core.i18n import render
from core.logs import redact_text
from rules.backups import backup_check
from schemas.backups import (
    BackupEngine,
    BackupFailed,
    BackupManifest,
    BackupRef,
    BackupRequest,
    FounderNotice,
    PruneResult,
    RetentionPolicy,
)
from schemas.health import CheckResult, ProbeRequest
from schemas.i18n import tr
from schemas.runs import EmailMessage
from schemas.tables import AuditEntry

ACTOR = "platform-backup"
# Retrying will not help: the database engine is not supported, or pg_dump/pg_restore is not installed.
FINAL_CODES = {"backup_unsupported", "tool_missing"}


class BackupActivities:
    def __init__(
        self,
        database_url: str,
        folder: Path,
        engine: Engine,
        email: EmailActivities,
        founder_email: str | None,
        enabled: bool = True,
        stale_after: timedelta = timedelta(hours=26),
    ) -> None:
        self._url, self._folder, self._engine, self._email = database_url, folder, engine, email
        self._founder_email, self._enabled, self._stale_after = founder_email, enabled, stale_after
        self._watching_since = datetime.now(UTC)

    @activity.defn(name="make_backup")
    def make_backup(self, request: BackupRequest) -> BackupManifest:
        """Backs up the application database as `request.backup_id`; a second attempt replaces the first's."""
        with _as_application_error():
            manifest = backups.make_backup(self._url, self._folder, request.backup_id, request.at)
        activity.logger.info("backup made", extra={"backup_id": manifest.backup_id, "bytes": manifest.size_bytes})
        return manifest

    @activity.defn(name="verify_backup")
    def verify_backup(self, ref: BackupRef) -> BackupManifest:
        """Restores the backup into a scratch database and records in its manifest whether the counts match."""
        with _as_application_error():
            manifest = backups.verify_backup(self._url, self._folder, ref.backup_id, datetime.now(UTC))
        activity.logger.info("backup verified", extra={"backup_id": ref.backup_id, "verified": manifest.verified})
        return manifest

    @activity.defn(name="record_backup_failure")
    def record_backup_failure(self, failure: BackupFailed) -> None:
        """Marks the backup failed in its manifest (made without a file when the backup was never made)."""
        engine: BackupEngine = "postgresql" if self._url.startswith("postgresql") else "sqlite"
        backups.record_failure(self._folder, failure.backup_id, engine, failure.at, failure.error)

    @activity.defn(name="prune_backups")
    def prune_backups(self, policy: RetentionPolicy) -> PruneResult:
        result = backups.prune_backups(self._folder, policy)
        activity.logger.info("backups pruned", extra={"removed": len(result.removed), "kept": len(result.kept)})
        return result

    @activity.defn(name="notify_founder_of_backup_failure")
    def notify_founder(self, failure: BackupFailed) -> FounderNotice:
        """E-mails FOUNDER_EMAIL once per failed backup (the Message-ID derives from the backup id)."""
        if self._founder_email is None:
            activity.logger.warning("backup failed, but FOUNDER_EMAIL is not set", extra={"id": failure.backup_id})
            return FounderNotice(sent=False)
        with Session(self._engine) as session:
            language = founder_alert_language(session, self._founder_email)
        failed = tr(
            "The platform backup %(backup)s of %(at)s failed:",
            backup=failure.backup_id,
            at=mail_time(failure.at, language),
        )
        paragraphs = (
            render(failed, language),
            redact_text(failure.error),
            render(tr("See `levqor backup list` and GET /api/system/heartbeat."), language),
        )
        self._email.send_email(
            EmailMessage(
                to=[self._founder_email],
                idempotency_key=f"backup-failed-{failure.backup_id}",
                subject=render(tr("Levqor backup failed: %(backup)s", backup=failure.backup_id), language),
                body="\n\n".join(paragraphs) + "\n",
            )
        )
        activity.logger.info("founder notified", extra={"to": mask_address(self._founder_email)})
        return FounderNotice(sent=True)

    @activity.defn(name="audit_backup_failure")
    def audit_backup_failure(self, failure: BackupFailed) -> None:
        """One audit-log entry per failed backup (its id derives from the backup id, so a retry adds none)."""
        entry_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"levqor:backup-failed:{failure.backup_id}"))
        detail = {"backup_id": failure.backup_id, "error": redact_text(failure.error)[:500]}
        with Session(self._engine) as session:
            session.merge(AuditEntry(id=entry_id, actor=ACTOR, action="backup_failed", detail=detail, at=failure.at))
            session.commit()

    @activity.defn(name="check_backup")
    async def check_backup(self, _request: ProbeRequest) -> CheckResult:
        """The heartbeat's `backup` check, from the manifests in BACKUP_DIR; see rules/backups.backup_check."""
        manifests = await asyncio.to_thread(list_manifests, self._folder)
        now = datetime.now(UTC)
        return backup_check(manifests, now, self._stale_after, self._enabled, self._watching_since)


@contextmanager
def _as_application_error() -> Iterator[None]:
    """Turns a BackupError into an ApplicationError of a stable type, final when retrying cannot help."""
    try:
        yield
    except BackupError as err:
        kind = "Backup" + "".join(part.title() for part in err.code.removeprefix("backup_").split("_"))
        raise ApplicationError(err.message, type=kind, non_retryable=err.code in FINAL_CODES) from None
