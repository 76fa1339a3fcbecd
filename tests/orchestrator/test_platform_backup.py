"""PlatformBackup on the real dev server: a verified backup of the session's database with its manifest and
pruning to the kept copies; a backup that cannot be made is recorded, mailed to the founder and audited; and
the Heartbeat reports a failed or stale backup as degraded."""

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, ScheduleRange
from temporalio.service import RPCError
from temporalio.worker import Worker

from activities.backup import BackupActivities
from activities.email import EmailActivities
from core.backup_manifests import list_manifests, write_manifest
from core.settings import Settings
from domain.health import heartbeat_answer
from orchestrator.heartbeat import Heartbeat
from orchestrator.platform_backup import PlatformBackup
from orchestrator.worker import WORKFLOW_RUNNER, build_worker
from schemas.backups import BackupManifest, BackupVerification, PlatformBackupInput
from schemas.health import HeartbeatInput
from schemas.tables import AuditEntry, HealthRecord
from starters.platform_schedules import PLATFORM_BACKUP_SCHEDULE, ensure_platform_schedules
from tests.fakes.smtp import SmtpSink

FOUNDER = "founder@example.com"


def plant(folder: Path, at: datetime, verified: bool = True) -> str:
    """A backup of the past: a file and its manifest."""
    backup_id = f"levqor-{at:%Y%m%dT%H%M%SZ}-planted"
    (folder / f"{backup_id}.sqlite3").write_bytes(b"old backup")
    write_manifest(
        folder,
        BackupManifest(
            backup_id=backup_id,
            created_at=at,
            engine="sqlite",
            file=f"{backup_id}.sqlite3",
            verification=BackupVerification(verified=verified, at=at),
        ),
    )
    return backup_id


async def test_a_scheduled_backup_is_verified_and_older_copies_are_pruned(
    client: Client, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    planted = [plant(tmp_path, now - timedelta(days=n)) for n in range(1, 11)]
    own = settings.model_copy(update={"backup_dir": str(tmp_path)})
    queue = f"backup-{uuid.uuid4()}"

    async with build_worker(client, own, engine, task_queue=queue):
        result = await client.execute_workflow(
            PlatformBackup.run,
            PlatformBackupInput(keep_daily=3, keep_weekly=0),
            id=f"backup-{uuid.uuid4()}",
            task_queue=queue,
        )

    manifests = list_manifests(tmp_path)
    newest = manifests[0]
    assert (result.status, result.error, result.founder_notified) == ("verified", None, False)
    assert newest.backup_id == result.backup_id and newest.verified and newest.sha256 and newest.size_bytes > 0
    assert newest.engine == ("postgresql" if settings.database_url.startswith("postgresql") else "sqlite")
    assert newest.schema_revision and newest.row_counts["alembic_version"] == 1
    assert [m.backup_id for m in manifests] == [result.backup_id, *planted[:2]]
    assert sorted(result.pruned) == sorted(planted[2:])
    assert {p.name for p in tmp_path.iterdir()} == {
        f"{m.backup_id}{s}" for m in manifests for s in (".json", Path(str(m.file)).suffix)
    }


async def test_a_backup_that_cannot_be_made_is_recorded_mailed_and_audited(
    client: Client, settings: Settings, engine: Engine, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    email = EmailActivities(host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_sender)
    broken = BackupActivities("mysql://nowhere/levqor", tmp_path, engine, email, FOUNDER)  # not a supported engine
    activities: list[Callable[..., Any]] = [broken.make_backup, broken.verify_backup, broken.record_backup_failure, broken.prune_backups,
                  broken.notify_founder, broken.audit_backup_failure]  # fmt: skip
    queue = f"backup-{uuid.uuid4()}"

    async with Worker(
        client,
        task_queue=queue,
        workflows=[PlatformBackup],
        activities=activities,
        activity_executor=ThreadPoolExecutor(4),
        workflow_runner=WORKFLOW_RUNNER,
    ):
        result = await client.execute_workflow(
            PlatformBackup.run, PlatformBackupInput(), id=f"backup-{uuid.uuid4()}", task_queue=queue
        )

    with Session(engine) as session:
        audits = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "backup_failed")).all()
    audit = next(a for a in audits if a.detail["backup_id"] == result.backup_id)
    mails = [m for m in smtp_sink.messages if result.backup_id in m.message["Subject"]]
    [failed] = list_manifests(tmp_path)
    assert (result.status, result.founder_notified) == ("failed", True)
    assert result.error and "BackupUnsupported" in result.error
    assert failed.backup_id == result.backup_id and failed.failed and failed.file is None
    assert audit.actor == "platform-backup" and audit.tenant_id is None
    assert len(mails) == 1 and FOUNDER in mails[0].message["To"]


async def test_the_heartbeat_is_degraded_by_a_failed_or_stale_backup(
    client: Client, settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    failed, stale = tmp_path / "failed", tmp_path / "stale"
    failed.mkdir()
    stale.mkdir()
    plant(failed, datetime.now(UTC) - timedelta(hours=2), verified=False)
    plant(stale, datetime.now(UTC) - timedelta(hours=30))
    records = []
    for folder in (failed, stale):
        own = settings.model_copy(update={"backup_dir": str(folder)})
        queue = f"heartbeat-{uuid.uuid4()}"
        async with build_worker(client, own, engine, task_queue=queue):
            result = await client.execute_workflow(
                Heartbeat.run, HeartbeatInput(), id=f"hb-{uuid.uuid4()}", task_queue=queue
            )
        with Session(engine) as session:
            records.append(session.get(HealthRecord, result.record_id))

    answers = [heartbeat_answer(True, True, record, 3600.0, 60) for record in records]
    assert [r.status for r in records if r] == ["degraded", "degraded"]
    assert [r.checks["backup"]["status"] for r in records if r] == ["failed", "failed"]
    assert [(a.status, a.backup.status, a.backup.verified) for a in answers] == [
        ("degraded", "failed", False),
        ("degraded", "failed", True),
    ]
    assert answers[1].backup.age_seconds and answers[1].backup.age_seconds > 29 * 3600
    assert "30.0 h old" in str(answers[1].backup.detail)


async def test_the_daily_backup_schedule_follows_its_settings(client: Client, settings: Settings) -> None:
    at_four = settings.model_copy(update={"backup_hour_utc": 4, "backup_keep_daily": 5})
    handle = client.get_schedule_handle(PLATFORM_BACKUP_SCHEDULE)

    enabled = await ensure_platform_schedules(client, at_four)
    described = await handle.describe()
    disabled = await ensure_platform_schedules(client, settings.model_copy(update={"backup_schedule_enabled": False}))
    with pytest.raises(RPCError):
        await handle.describe()
    await ensure_platform_schedules(client, settings)  # as the session's API left it

    action = described.schedule.action
    assert PLATFORM_BACKUP_SCHEDULE in enabled and PLATFORM_BACKUP_SCHEDULE not in disabled
    assert list(described.schedule.spec.calendars[0].hour) == [ScheduleRange(4, 4)]
    assert getattr(action, "workflow", None) == "PlatformBackup"
