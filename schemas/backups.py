"""Platform backups of the application database: the manifest written beside each backup file, and what
crosses the boundary of the `PlatformBackup` workflow."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

BackupEngine = Literal["sqlite", "postgresql"]


class BackupVerification(BaseModel):
    """The outcome of restoring a backup into a scratch database and counting its rows."""

    verified: bool
    at: datetime
    detail: str | None = None
    """Why it failed: the tables whose counts differ, or the restore's error."""


class BackupManifest(BaseModel):
    """`<backup_id>.json` beside the backup file `file`. A backup that could not be made has `error` set and
    no file; `verification` is None until the backup was restored into a scratch database."""

    backup_id: str
    created_at: datetime
    engine: BackupEngine
    file: str | None = None
    size_bytes: int = 0
    sha256: str | None = None
    schema_revision: str | None = None
    row_counts: dict[str, int] = Field(default_factory=dict)
    verification: BackupVerification | None = None
    error: str | None = None
    version: str | None = None
    """Levqor's version that made it."""

    @property
    def verified(self) -> bool:
        return self.verification is not None and self.verification.verified

    @property
    def failed(self) -> bool:
        return self.error is not None or (self.verification is not None and not self.verification.verified)


class PlatformBackupInput(BaseModel):
    keep_daily: int = Field(default=7, ge=1)
    keep_weekly: int = Field(default=4, ge=0)


class BackupRequest(BaseModel):
    """Make a backup named `backup_id` (the workflow chooses it, so a retried activity overwrites its own)."""

    backup_id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$")
    at: datetime


class BackupFailed(BaseModel):
    """A backup that could not be made or verified: recorded as a manifest, mailed and audited."""

    backup_id: str
    at: datetime
    error: str


class BackupRef(BaseModel):
    backup_id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$")


class RetentionPolicy(BaseModel):
    keep_daily: int = Field(ge=1)
    keep_weekly: int = Field(ge=0)


class PruneResult(BaseModel):
    removed: list[str] = Field(default_factory=list)
    kept: list[str] = Field(default_factory=list)


class FounderNotice(BaseModel):
    sent: bool


class PlatformBackupResult(BaseModel):
    backup_id: str
    status: Literal["verified", "failed"]
    size_bytes: int = 0
    error: str | None = None
    pruned: list[str] = Field(default_factory=list)
    founder_notified: bool = False


class RestoreResult(BaseModel):
    """What `restore` did: the revision the backup had and the one it was migrated to, and the row counts."""

    backup_id: str
    from_revision: str | None
    to_revision: str | None
    row_counts: dict[str, int]
