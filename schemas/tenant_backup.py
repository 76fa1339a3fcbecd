"""A tenant's backup: one signed, versioned JSON document of its configuration (format `levqor.tenant-backup`,
version 1), and the answer of restoring one into an empty tenant.

The document carries no credential: definitions with every version as stored, schedules, webhook settings
(not their URL tokens or signing secrets), secret names (not values) and identities (API keys by prefix, role
and label, never a hash). `signature` is the HMAC-SHA256 of the canonical JSON of every other field."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from schemas.api import KeyRole, StrictBody
from schemas.schedules import ScheduleCreate
from schemas.webhooks import WebhookConfig, WebhookCreated

BACKUP_FORMAT: Literal["levqor.tenant-backup"] = "levqor.tenant-backup"
BACKUP_FORMAT_VERSION = 1
SIGNATURE_ALGORITHM: Literal["HMAC-SHA256"] = "HMAC-SHA256"
# What one document may hold; an export that would hold more is refused, so every backup can be restored.
MAX_DEFINITIONS = 500
MAX_VERSIONS = 2000  # all definitions together: each is validated (about 3 ms for ten steps) before any write
MAX_SCHEDULES = 500
MAX_ITEMS = 1000  # secrets, API keys
SourceId = Annotated[str, Field(min_length=1, max_length=64)]  # an id in the source tenant


class BackupTenant(StrictBody):
    id: SourceId
    name: str = Field(max_length=200)
    plan: str = Field(max_length=32)


class BackupVersion(StrictBody):
    version: int = Field(ge=1)
    created_at: datetime
    definition: dict[str, Any] = Field(description="The version's body as stored; immutable.")


class BackupDefinition(StrictBody):
    id: SourceId
    name: str = Field(max_length=120)
    versions: list[BackupVersion] = Field(
        min_length=1, max_length=MAX_VERSIONS, description="Every version, numbered 1..N in order."
    )


class BackupSchedule(ScheduleCreate):
    """A schedule's settings as its creation takes them, and the source ids it had."""

    id: SourceId
    workflow_id: SourceId
    version: int = Field(ge=1, description="The version it ran; a restored schedule runs the latest.")


class BackupWebhook(WebhookConfig):
    """A hook's settings; a restored hook gets a new URL token (and signing secret, when signed)."""

    workflow_id: SourceId


class BackupSecret(StrictBody):
    name: str = Field(min_length=1, max_length=64)


class BackupApiKey(StrictBody):
    prefix: str = Field(max_length=16)
    role: KeyRole
    label: str | None = Field(default=None, max_length=200)
    created_at: datetime


class BackupIdentities(StrictBody):
    api_keys: list[BackupApiKey] = Field(default_factory=list, max_length=MAX_ITEMS)
    users: list[dict[str, Any]] = Field(
        default_factory=list, max_length=0, description="Reserved for web-app users; empty in format version 1."
    )


class BackupSignature(StrictBody):
    algorithm: Literal["HMAC-SHA256"] = SIGNATURE_ALGORITHM
    value: str = Field(pattern=r"^[0-9a-f]{64}$", description="Hex HMAC-SHA256 of the rest, as canonical JSON.")


class TenantBackupBody(StrictBody):
    """Everything the signature covers."""

    format: Literal["levqor.tenant-backup"] = BACKUP_FORMAT
    format_version: int = BACKUP_FORMAT_VERSION
    exported_at: datetime
    source_tenant: BackupTenant
    definitions: list[BackupDefinition] = Field(max_length=MAX_DEFINITIONS)
    schedules: list[BackupSchedule] = Field(max_length=MAX_SCHEDULES)
    webhooks: list[BackupWebhook] = Field(max_length=MAX_DEFINITIONS)
    secrets: list[BackupSecret] = Field(max_length=MAX_ITEMS)
    identities: BackupIdentities


class TenantBackup(TenantBackupBody):
    """The whole document, as `POST /api/tenants/{id}/backup` answers it and the restore takes it back."""

    signature: BackupSignature


class RestoredDefinition(BaseModel):
    source_id: str
    id: str
    name: str
    versions: int


class RestoredSchedule(BaseModel):
    source_id: str
    id: str
    source_workflow_id: str
    workflow_id: str
    version: int
    paused: bool


class RestoredWebhook(WebhookCreated):
    source_workflow_id: str


class RestoreCounts(BaseModel):
    definitions: int
    versions: int
    schedules: int
    webhooks: int


class TenantRestored(BaseModel):
    """What a restore created, with the id each source id maps to, and what must be done by hand."""

    tenant_id: str
    source_tenant: BackupTenant
    created: RestoreCounts
    definitions: list[RestoredDefinition]
    schedules: list[RestoredSchedule]
    webhooks: list[RestoredWebhook] = Field(description="New URL tokens and signing secrets, shown only here.")
    secrets_to_set: list[str] = Field(description="Secret names the definitions may use: set each value again.")
    api_keys_not_restored: list[BackupApiKey] = Field(description="Keys are never copied: issue new ones.")
    users_not_restored: list[dict[str, Any]] = Field(default_factory=list)
