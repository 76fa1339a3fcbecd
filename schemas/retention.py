"""Data retention: the classes of data the platform keeps and for how long, what crosses the boundary of the
`RetentionEnforcer` workflow, and the retention API's bodies."""

from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

# A tenant's classes of data; each has a plan default and the bounds a founder may set for the tenant.
DataClass = Literal[
    "run_history",
    "failure_queue",
    "audit_log",
    "telemetry",
    "export_archive",
    "support_transcripts",
    "ai_transcripts",
]
DATA_CLASSES: tuple[DataClass, ...] = get_args(DataClass)
# The platform's own records, with no tenant: one policy each, from the settings.
PlatformClass = Literal["health_records", "platform_telemetry", "platform_audit_log"]
PLATFORM_CLASSES: tuple[PlatformClass, ...] = get_args(PlatformClass)
RetentionClass = DataClass | PlatformClass
PolicySource = Literal["plan", "override", "platform"]
# The longest any policy may be, to keep dates in range: 100 years.
MAX_RETENTION_DAYS = 36_500


class RetentionBounds(BaseModel):
    """A plan's policy for one class: its default and the range a founder may set."""

    model_config = ConfigDict(frozen=True)

    default_days: int
    min_days: int
    max_days: int


class PlatformRetention(BaseModel):
    """The platform classes' days, from HEALTH_RETENTION_DAYS, TELEMETRY_RETENTION_DAYS and DATA_RETENTION_DAYS
    (defaults in rules/retention.py)."""

    health_records: int = Field(ge=1, le=MAX_RETENTION_DAYS)
    platform_telemetry: int = Field(ge=1, le=MAX_RETENTION_DAYS)
    platform_audit_log: int = Field(ge=1, le=MAX_RETENTION_DAYS)


class ResolvedPolicy(BaseModel):
    """How long one class of one tenant's (or the platform's) records is kept, and why."""

    data_class: RetentionClass
    days: int
    source: PolicySource
    default_days: int
    min_days: int
    max_days: int
    collected: bool
    """False for data the platform does not collect yet: the policy applies once it does."""


class RetentionEnforcerInput(BaseModel):
    platform: PlatformRetention
    batch_size: int = Field(default=1000, ge=1, le=10_000)
    """Rows deleted per transaction; a class is done when a batch finds fewer."""
    tenant_ids: list[str] | None = None
    """Only these tenants, and no platform classes; every tenant and the platform when None."""
    report_id: str | None = None
    as_of: datetime | None = None
    """Set by the pass itself when it continues as new, so every cutoff is measured from one moment."""
    after_tenant_id: str | None = None
    platform_done: bool = False


class ReportOpening(BaseModel):
    report_id: str
    as_of: datetime
    tenant_ids: list[str] | None


class TenantPage(BaseModel):
    after_tenant_id: str | None
    limit: int
    tenant_ids: list[str] | None


class TenantPolicies(BaseModel):
    tenant_id: str
    days: dict[RetentionClass, int]
    """The collected classes only."""


class PolicyPage(BaseModel):
    tenants: list[TenantPolicies]
    next_after: str | None
    """The last tenant of this page when more may follow; None at the end."""


class ExpiryBatch(BaseModel):
    """One batch per class of one tenant (None: the platform's classes): rows older than their cutoff."""

    report_id: str
    tenant_id: str | None
    cutoffs: dict[RetentionClass, datetime]
    batch_size: int


class ExpiryDeleted(BaseModel):
    deleted: dict[RetentionClass, int]


class ReportClosing(BaseModel):
    report_id: str
    finished_at: datetime


class RetentionEnforcerResult(BaseModel):
    report_id: str
    totals: dict[str, int]
    """Rows deleted (archives emptied) per class, every tenant together."""


class RetentionPolicyPublic(ResolvedPolicy):
    oldest_kept_at: datetime | None
    """The oldest record of this class still kept; None when there is none (or it is not collected)."""


class RetentionPublic(BaseModel):
    tenant_id: str
    plan: str
    policies: list[RetentionPolicyPublic]
    last_enforced_at: datetime | None
    """When the latest completed RetentionEnforcer pass measured its cutoffs."""


class RetentionUpdate(BaseModel):
    """Days per class within the plan's bounds; null removes the override (back to the plan's default).
    Classes left out keep what they have."""

    model_config = ConfigDict(extra="forbid")

    policies: dict[DataClass, int | None] = Field(min_length=1)


class RetentionReportEntryPublic(BaseModel):
    data_class: str
    tenant_id: str | None
    deleted: int
    cutoff: datetime


class RetentionReportPublic(BaseModel):
    id: str
    status: str
    as_of: datetime
    finished_at: datetime | None
    tenant_ids: list[str] | None
    totals: dict[str, int]
    entries: list[RetentionReportEntryPublic]
    """Per class and tenant, only where something was deleted; the platform's classes have no tenant."""
