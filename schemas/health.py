"""What crosses the boundary of the `Heartbeat` workflow, and the health records the API serves."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

CheckStatus = Literal["ok", "failed", "not_configured"]
HealthStatus = Literal["ok", "degraded", "down"]
CheckName = Literal["database", "temporal", "stripe", "ai", "backup"]


class HeartbeatInput(BaseModel):
    error_window_s: int = Field(default=900, ge=1)
    """Telemetry errors of this many seconds count as `error_count_recent`."""


class ProbeRequest(BaseModel):
    timeout_s: float = Field(default=5.0, gt=0, le=60)


class CheckResult(BaseModel):
    name: CheckName
    status: CheckStatus
    latency_ms: float
    detail: str | None = None
    workers: int | None = None
    """Temporal only: pollers on the platform's task queue."""
    last_backup_at: datetime | None = None
    """Backup only: when the latest finished backup was made."""
    backup_verified: bool | None = None
    """Backup only: whether that backup was restored into a scratch database and matched its manifest."""


class ErrorWindow(BaseModel):
    window_s: int


class ErrorCount(BaseModel):
    count: int


class HealthRecordCreate(BaseModel):
    at: datetime
    status: HealthStatus
    checks: list[CheckResult]
    error_count_recent: int
    worker_count: int | None


class HeartbeatResult(BaseModel):
    record_id: str
    status: HealthStatus


class HealthRecordPublic(BaseModel):
    id: str
    at: datetime
    status: HealthStatus
    db_ok: bool
    temporal_ok: bool
    stripe_status: CheckStatus
    ai_status: CheckStatus
    error_count_recent: int
    worker_count: int | None


class BackupHealthPublic(BaseModel):
    """The latest Heartbeat record's `backup` check, its age counted now; `unknown` before the first record
    with one, `not_configured` when scheduled backups are off (BACKUP_SCHEDULE_ENABLED)."""

    status: Literal["ok", "failed", "not_configured", "unknown"] = "unknown"
    last_backup_at: datetime | None = None
    verified: bool | None = None
    age_seconds: float | None = None
    detail: str | None = None


class RunArchiveHealthPublic(BaseModel):
    """How far the RunArchiver has gone, read live: `behind` when the newest run it took closed more than
    `behind_after_s` ago (the archiver is not running, or falling behind: Temporal drops closed runs after its
    retention, archived or not); `unknown` before its first pass."""

    status: Literal["ok", "behind", "unknown"] = "unknown"
    archived_through: datetime | None = None
    lag_seconds: float | None = None
    behind_after_s: float | None = None


class HeartbeatPublic(BaseModel):
    """Live database and Temporal checks, with the latest Heartbeat record's Stripe (`stripe_ok`), AI
    (`brain_ok`) and error figures; `*_ok` is null when the service is not configured or not checked yet."""

    status: Literal["ok", "degraded", "down"]
    db_ok: bool
    temporal_ok: bool
    stripe_ok: bool | None
    brain_ok: bool | None
    stripe: Literal["ok", "failed", "not_configured", "unknown"]
    brain: Literal["ok", "failed", "not_configured", "unknown"]
    error_count_recent: int | None
    worker_count: int | None
    last_heartbeat_at: datetime | None
    heartbeat_stale: bool
    uptime_seconds: float
    version: str
    backup: BackupHealthPublic = Field(default_factory=BackupHealthPublic)
    run_archive: RunArchiveHealthPublic = Field(default_factory=RunArchiveHealthPublic)
