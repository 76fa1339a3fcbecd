"""Database tables: the domain entities. Executions live in Temporal, not here."""

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from schemas.columns import UtcDateTime

# Every constraint gets a name of its own, the same on PostgreSQL and SQLite, so that a migration can
# address it. Set before the first table is defined: names are given as constraints attach to a table.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

LIVE_PLAN = "status IN ('open', 'in_progress')"


def _now() -> datetime:
    return datetime.now(UTC)


def _id() -> str:
    return str(uuid4())


class Tenant(SQLModel, table=True):
    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    plan: str = Field(default="free", max_length=32)
    # Mirrored from the tenant's TenantLifecycle workflow, which owns it.
    status: str = Field(default="active", max_length=16)
    # Mirrored from the lifecycle's throttle (the cost autopilot's cap); None and False when unthrottled.
    max_concurrent_runs: int | None = None
    ai_paused: bool = False
    created_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


class ApiKey(SQLModel, table=True):
    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=36)
    role: str = Field(max_length=16)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(unique=True, max_length=64)
    label: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Written at most about once an hour per key, after the response (api/deps.py); the compliance audit reads it.
    last_used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class WorkflowDefinitionRow(SQLModel, table=True):
    __tablename__ = "workflow_definition"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=36)
    name: str = Field(max_length=120)
    latest_version: int = 1
    created_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


class WorkflowVersionRow(SQLModel, table=True):
    __tablename__ = "workflow_version"
    __table_args__ = (UniqueConstraint("definition_id", "version"),)

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    definition_id: str = Field(foreign_key="workflow_definition.id", index=True, max_length=36)
    version: int
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


class TenantSecret(SQLModel, table=True):
    """A tenant's named secret, encrypted at rest; steps read it as `{{ secrets.NAME }}`."""

    __tablename__ = "tenant_secret"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=36)
    name: str = Field(max_length=64)
    ciphertext: str = Field(max_length=20_000)
    created_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


class FailureEntry(SQLModel, table=True):
    """A run whose step failed for good: the failure queue that re-drive and AutoRecovery work from."""

    __tablename__ = "failure_entry"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    # No foreign key: the queue records what Temporal reports, even for a tenant since removed.
    tenant_id: str = Field(index=True, max_length=36)
    run_id: str = Field(unique=True, max_length=200)
    definition_id: str = Field(index=True, max_length=36)
    version: int
    step_id: str = Field(max_length=64)
    error_type: str = Field(max_length=100)
    message: str = Field(max_length=4000)
    attempts: int
    first_failed_at: datetime = Field(sa_type=UtcDateTime)
    last_failed_at: datetime = Field(sa_type=UtcDateTime)
    priority: str = Field(default="normal", max_length=16)
    status: str = Field(default="open", index=True, max_length=16)
    redriven_run_id: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=32)
    suggestion: str | None = Field(default=None, max_length=2000)
    auto_applicable: bool = False
    assessed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


class WebhookTrigger(SQLModel, table=True):
    """An inbound webhook that starts runs of one definition; its URL token is stored hashed."""

    __tablename__ = "webhook_trigger"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=36)
    definition_id: str = Field(foreign_key="workflow_definition.id", unique=True, max_length=36)
    token_hash: str = Field(unique=True, max_length=64)
    signing_secret: str | None = Field(default=None, max_length=1000)
    wait_for_result: bool = False
    wait_timeout_s: float = 10.0
    created_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


class UsageCounter(SQLModel, table=True):
    """One metered quantity of a tenant in a billing period; incremented atomically in the database."""

    __tablename__ = "usage_counter"
    __table_args__ = (UniqueConstraint("tenant_id", "period", "metric"),)

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    tenant_id: str = Field(index=True, max_length=36)
    period: str = Field(max_length=7)
    metric: str = Field(max_length=32)
    value: int = 0
    updated_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


class UsageBatch(SQLModel, table=True):
    """A batch of a process's usage outbox, added to the counters in the transaction that wrote this row:
    a batch drained again after a crash finds its id and adds nothing."""

    __tablename__ = "usage_batch"

    id: str = Field(primary_key=True, max_length=64)
    applied_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime, index=True)


class DataRequest(SQLModel, table=True):
    """A data-subject request (export or erasure) with its legal deadline."""

    __tablename__ = "data_request"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    tenant_id: str = Field(index=True, max_length=36)
    kind: str = Field(max_length=16)
    status: str = Field(default="pending", max_length=16)
    requested_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    deadline_at: datetime = Field(sa_type=UtcDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    archive: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class AuditEntry(SQLModel, table=True):
    """Who did what to which tenant: founders' actions, lifecycle and billing events, autopilot throttles."""

    __tablename__ = "audit_entry"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    tenant_id: str | None = Field(default=None, index=True, max_length=36)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


class SpendSample(SQLModel, table=True):
    """A tenant's spend so far this period, as the cost autopilot saw it; consecutive samples give the rate."""

    __tablename__ = "spend_sample"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    tenant_id: str = Field(index=True, max_length=36)
    at: datetime = Field(default_factory=_now, index=True, sa_type=UtcDateTime)
    period: str = Field(max_length=7)
    spend_micros: int = Field(sa_column=Column(BigInteger, nullable=False))
    # Micro-dollars an hour since the previous sample; None for a tenant's first sample.
    rate_micros_per_hour: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class UpgradePlan(SQLModel, table=True):
    """A design-only improvement the UpgradePlanner proposes; the founder moves its status."""

    __tablename__ = "upgrade_plan"
    # One live plan per fingerprint, even when two rebuilds race; applied and archived ones may repeat.
    __table_args__ = (
        Index(
            "uq_upgrade_plan_live_fingerprint",
            "fingerprint",
            unique=True,
            postgresql_where=text(LIVE_PLAN),
            sqlite_where=text(LIVE_PLAN),
        ),
    )

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    fingerprint: str = Field(index=True, max_length=200)
    title: str = Field(max_length=200)
    description: str = Field(max_length=2000)
    status: str = Field(default="open", index=True, max_length=16)
    priority: int
    category: str = Field(index=True, max_length=16)
    risk_level: str = Field(max_length=8)
    source: str = Field(max_length=32)
    # Named plan_metadata in Python: SQLModel reserves `metadata`.
    plan_metadata: dict[str, Any] = Field(default_factory=dict, sa_column=Column("metadata", JSON, nullable=False))
    auto_applicable: bool = False
    safe_mode: bool = True
    created_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    last_seen_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    archived_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ComplianceReport(SQLModel, table=True):
    """One ComplianceAudit: when it ran, over whose data, its 0-100 score and findings per severity."""

    __tablename__ = "compliance_report"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    status: str = Field(default="running", index=True, max_length=16)
    trigger: str = Field(max_length=16)
    tenant_id: str | None = Field(default=None, max_length=36)
    started_at: datetime = Field(default_factory=_now, index=True, sa_type=UtcDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    score: int | None = None
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    founder_notified: bool = False


class ComplianceFinding(SQLModel, table=True):
    """One finding of a compliance report; `tenant_id` is None for platform-wide ones."""

    __tablename__ = "compliance_finding"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    report_id: str = Field(foreign_key="compliance_report.id", index=True, max_length=36)
    check: str = Field(max_length=64)
    severity: str = Field(max_length=16)
    penalty: int
    title: str = Field(max_length=200)
    remediation: str = Field(max_length=2000)
    tenant_id: str | None = Field(default=None, index=True, max_length=36)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class LegalDocument(SQLModel, table=True):
    """One published version of a legal document or the cookie-consent configuration; versions are immutable."""

    __tablename__ = "legal_document"
    __table_args__ = (UniqueConstraint("kind", "version"),)

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    kind: str = Field(index=True, max_length=32)
    version: str = Field(max_length=32)
    url: str | None = Field(default=None, max_length=2048)
    text: str | None = Field(default=None, max_length=100_000)
    config: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    effective_at: datetime = Field(sa_type=UtcDateTime)
    published_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


class LegalTranslation(SQLModel, table=True):
    """A legal document version in one tier-1 language other than English; immutable like the version itself.
    `descriptions` (cookie_consent only) are the categories' descriptions in that language, by category id."""

    __tablename__ = "legal_translation"
    __table_args__ = (UniqueConstraint("document_id", "language"),)

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    document_id: str = Field(foreign_key="legal_document.id", index=True, max_length=36)
    language: str = Field(max_length=16)
    url: str | None = Field(default=None, max_length=2048)
    text: str | None = Field(default=None, max_length=100_000)
    descriptions: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    published_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


class ConsentRecord(SQLModel, table=True):
    """One cookie choice: the visitor (a random id from the essential consent cookie), the signed-in user if any,
    the optional categories allowed (empty: essential only) under which cookie-consent configuration version."""

    __tablename__ = "consent_record"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    visitor_id: str = Field(index=True, max_length=64)
    user_id: str | None = Field(default=None, index=True, max_length=36)
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    config_version: str = Field(max_length=32)
    at: datetime = Field(default_factory=_now, index=True, sa_type=UtcDateTime)


class HealthRecord(SQLModel, table=True):
    """One Heartbeat: reachability of the database, Temporal, Stripe and the AI provider at `at`."""

    __tablename__ = "health_record"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    at: datetime = Field(index=True, sa_type=UtcDateTime)
    status: str = Field(max_length=16)
    db_ok: bool
    temporal_ok: bool
    stripe_status: str = Field(max_length=16)
    ai_status: str = Field(max_length=16)
    error_count_recent: int
    worker_count: int | None = None
    checks: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class TelemetryEvent(SQLModel, table=True):
    """An error, event or performance sample from a client, the API or a worker."""

    __tablename__ = "telemetry_event"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    source: str = Field(index=True, max_length=64)
    kind: str = Field(max_length=16)
    message: str = Field(max_length=1000)
    endpoint: str | None = Field(default=None, max_length=300)
    duration_ms: float | None = None
    status: int | None = None
    tenant_id: str | None = Field(default=None, index=True, max_length=36)
    at: datetime = Field(default_factory=_now, index=True, sa_type=UtcDateTime)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class DailyReportRow(SQLModel, table=True):
    """The DailyReport workflow's output: a 0-100 health score, its parts and suggestions."""

    __tablename__ = "daily_report"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    day: str = Field(index=True, max_length=10)
    generated_at: datetime = Field(sa_type=UtcDateTime)
    score: int
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class BillingAccount(SQLModel, table=True):
    """A tenant's link to Stripe and its billing contact; the plan itself stays on the tenant row."""

    __tablename__ = "billing_account"

    tenant_id: str = Field(foreign_key="tenant.id", primary_key=True, max_length=36)
    billing_email: str | None = Field(default=None, max_length=320)
    stripe_customer_id: str | None = Field(default=None, unique=True, max_length=255)
    stripe_subscription_id: str | None = Field(default=None, max_length=255)
    subscription_status: str | None = Field(default=None, max_length=32)
    # The newest Stripe event applied to the subscription; older ones arriving late change nothing.
    last_event_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The country of the billing address Stripe collected at the last completed checkout.
    billing_country: str | None = Field(default=None, max_length=2)
    # Set when a checkout paid at a regional price from a billing address outside that region: the region
    # priced; the plan or package was withheld until the founder settles it in Stripe.
    region_mismatch: str | None = Field(default=None, max_length=8)
    created_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


class BillingEvent(SQLModel, table=True):
    """Every Stripe event billing acted on, once: the record that makes a repeated delivery a no-op."""

    __tablename__ = "billing_event"

    id: str = Field(primary_key=True, max_length=255)
    type: str = Field(max_length=100)
    # No foreign key: events for unknown tenants are recorded too.
    tenant_id: str | None = Field(default=None, index=True, max_length=36)
    outcome: str = Field(max_length=16)
    dunning: str | None = Field(default=None, max_length=16)
    invoice_id: str | None = Field(default=None, index=True, max_length=255)
    workflow_run_id: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UtcDateTime)
    processed_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


class TenantDataKey(SQLModel, table=True):
    """A tenant's data key for its run payloads in Temporal, wrapped by the platform key. Purge destroys it
    (wrapped_key None, destroyed_at set), which leaves the tenant's histories unreadable ciphertext."""

    __tablename__ = "tenant_data_key"

    # No foreign key: a run names its tenant, and the key follows the run, not the tenant row.
    tenant_id: str = Field(primary_key=True, max_length=200)
    wrapped_key: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    destroyed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class RunArchiveEntry(SQLModel, table=True):
    """A closed run's record, kept for the tenant's history retention after Temporal drops the execution.
    Written in batches by the RunArchiver workflow, never on a run's own path. `record` is the run's record
    (RunProgress) as a Temporal payload, encoded by the platform's data converter: encrypted with the tenant's
    data key when the payload codec is on, so purging the tenant shreds its archive as it shreds its histories."""

    __tablename__ = "run_archive"
    __table_args__ = (
        Index("ix_run_archive_tenant_closed", "tenant_id", "closed_at", "run_id"),
        Index("ix_run_archive_closed", "closed_at", "run_id"),
    )

    run_id: str = Field(primary_key=True, max_length=200)
    # No foreign key: the archive records what Temporal closed, even for a tenant since removed.
    tenant_id: str = Field(max_length=36)
    definition_id: str = Field(index=True, max_length=36)
    version: int
    status: str = Field(max_length=16)
    trigger: str = Field(max_length=16)
    started_at: datetime = Field(sa_type=UtcDateTime)
    closed_at: datetime = Field(sa_type=UtcDateTime)
    archived_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    record: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # Step results too large to keep inline (each step's `result_ref` points here): {step_id: result}, encoded
    # like `record`, read only when asked for one of them.
    results: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    record_bytes: int = 0


class RunArchiveCursor(SQLModel, table=True):
    """How far the RunArchiver has gone: every run that closed at or before `archived_through` is in the
    archive (the run list reads closed runs up to there from it, and later ones from Temporal)."""

    __tablename__ = "run_archive_cursor"

    id: str = Field(default="runs", primary_key=True, max_length=16)
    archived_through: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


class RetentionOverride(SQLModel, table=True):
    """A founder's retention policy for one class of a tenant's data, within its plan's bounds when set
    (rules/retention.py); without a row the plan's default applies."""

    __tablename__ = "retention_override"
    __table_args__ = (UniqueConstraint("tenant_id", "data_class"),)

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    tenant_id: str = Field(foreign_key="tenant.id", max_length=36)
    data_class: str = Field(max_length=32)
    days: int
    set_by: str = Field(max_length=100)
    set_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


class RetentionReport(SQLModel, table=True):
    """One RetentionEnforcer pass: the moment its cutoffs were measured from, and rows deleted per class."""

    __tablename__ = "retention_report"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    status: str = Field(default="running", max_length=16)
    as_of: datetime = Field(index=True, sa_type=UtcDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The tenants of a pass limited to some; None for a full pass (every tenant and the platform's classes).
    tenant_ids: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    totals: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class RetentionReportEntry(SQLModel, table=True):
    """What one pass deleted of one class of one tenant (None: the platform's), counted in the transactions
    that deleted it, so a retried batch never counts twice."""

    __tablename__ = "retention_report_entry"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    report_id: str = Field(foreign_key="retention_report.id", index=True, max_length=36)
    data_class: str = Field(max_length=32)
    tenant_id: str | None = Field(default=None, max_length=36)
    deleted: int = 0
    cutoff: datetime = Field(sa_type=UtcDateTime)


class User(SQLModel, table=True):
    """A person who signs in to the web app: a tenant's admin or member, or a founder (no tenant). The e-mail is
    stored lower-cased, so it is unique however it was typed. A removed user keeps the row (audit) but cannot sign
    in; inviting the address again brings it back."""

    __tablename__ = "app_user"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    tenant_id: str | None = Field(default=None, foreign_key="tenant.id", index=True, max_length=36)
    email: str = Field(unique=True, max_length=254)
    name: str | None = Field(default=None, max_length=200)
    role: str = Field(max_length=16)
    language: str = Field(default="en", max_length=16)
    invited_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class SignInLink(SQLModel, table=True):
    """A magic link e-mailed to `email`: single use, until `expires_at`. Only the token's SHA-256 is stored, written
    by the activity that mints and sends it (so the token never enters a workflow's history)."""

    __tablename__ = "sign_in_link"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    token_hash: str | None = Field(default=None, unique=True, max_length=64)
    email: str = Field(index=True, max_length=254)
    user_id: str = Field(foreign_key="app_user.id", max_length=36)
    # A keyed hash of the requesting address: rate limits count by it; the address itself is never stored.
    requested_ip: str | None = Field(default=None, index=True, max_length=64)
    created_at: datetime = Field(default_factory=_now, index=True, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class WebSession(SQLModel, table=True):
    """A signed-in browser. `id` is the SHA-256 of the cookie's secret, so the table alone signs nobody in."""

    __tablename__ = "web_session"

    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="app_user.id", index=True, max_length=36)
    csrf_secret: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    last_seen_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class SystemToggle(SQLModel, table=True):
    """A system toggle a founder has changed (schemas/toggles.py names them): its value now, who changed it last,
    when and why. A toggle without a row still has its initial value from settings; the audit log keeps each change."""

    __tablename__ = "system_toggle"

    name: str = Field(primary_key=True, max_length=64)
    value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    changed_by: str = Field(max_length=100)
    changed_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    reason: str = Field(max_length=500)


# --- The Brain: AI interactions and daily AI credits (migration 0021) ---


class AiInteraction(SQLModel, table=True):
    """One AI call as the Brain's audit keeps it: masked excerpts of what was sent and answered (kept for the
    tenant's `ai_transcripts` retention; none for the platform's own calls), the tokens and credits, the outcome."""

    __tablename__ = "ai_interaction"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    # No foreign key: the audit outlives nothing, a tenant's purge deletes its rows.
    tenant_id: str | None = Field(default=None, index=True, max_length=36)
    purpose: str = Field(max_length=32)
    model: str | None = Field(default=None, max_length=100)
    outcome: str = Field(max_length=32)
    prompt_excerpt: str | None = Field(default=None, max_length=2000)
    answer_excerpt: str | None = Field(default=None, max_length=2000)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    credits: int = 0
    workflow_id: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime, index=True)


class AiCreditDay(SQLModel, table=True):
    """A tenant's AI credits used in one UTC day (the daily cap); incremented atomically in the database."""

    __tablename__ = "ai_credit_day"
    __table_args__ = (UniqueConstraint("tenant_id", "day"),)

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    tenant_id: str = Field(index=True, max_length=36)
    day: str = Field(max_length=10)
    credits: int = 0
    updated_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


# --- The Brain: knowledge base (migration 0022) ---


class KnowledgePassageRow(SQLModel, table=True):
    """One passage of the knowledge base: a README section, a language reference entry or a template, rebuilt from
    those sources at start-up when its digest changes. Full-text search runs on an index the migration adds per
    database (SEARCH_INDEX_OBJECTS): a GIN index on `to_tsvector('english', title || ' ' || body)` on PostgreSQL,
    an FTS5 table kept by triggers on SQLite."""

    __tablename__ = "knowledge_passage"

    # Stable from source and anchor (`readme-the-definition-language`), so links to a passage survive a rebuild.
    id: str = Field(primary_key=True, max_length=120)
    source: str = Field(index=True, max_length=16)
    title: str = Field(max_length=300)
    url: str = Field(max_length=300)
    body: str = Field(max_length=8_000)
    digest: str = Field(max_length=64)
    position: int = 0
    """Its place in its source (the browser lists passages in this order)."""
    updated_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)


# The search objects migration 0022 adds beside knowledge_passage, which no table model describes.
SEARCH_INDEX_OBJECTS = frozenset({"ix_knowledge_passage_search", "knowledge_fts"})


def is_search_index_object(name: str | None) -> bool:
    """Whether `name` is one of SEARCH_INDEX_OBJECTS or a table SQLite's FTS5 keeps for one (`knowledge_fts_data`
    ...): derived from knowledge_passage's rows, described by no table model, never data of their own."""
    return name is not None and any(name == n or name.startswith(f"{n}_") for n in SEARCH_INDEX_OBJECTS)


# --- The Brain: the debugger's fixes (migration 0023) ---


class AiFix(SQLModel, table=True):
    """A fix the debugger proposed for a failed or rejected run: a JSON Patch against the version that ran, which
    applied and validated when it was proposed; once applied, the version it made and the run it re-drove."""

    __tablename__ = "ai_fix"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    # No foreign keys: like the failure queue, a fix records what happened; a tenant's purge deletes its rows.
    tenant_id: str = Field(index=True, max_length=36)
    run_id: str = Field(index=True, max_length=200)
    definition_id: str = Field(max_length=36)
    base_version: int
    patch: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    summary: str = Field(max_length=2000)
    source: str = Field(max_length=16)
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """The validator's report on the patched definition (DraftReport)."""
    created_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    applied_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    applied_by: str | None = Field(default=None, max_length=100)
    applied_version: int | None = None
    redriven_run_id: str | None = Field(default=None, max_length=200)


# --- The support desk (migration 0024) ---


class SupportTicket(SQLModel, table=True):
    """A customer's question and its SLA: from a tenant's user or key (`origin` app) or the public contact form
    (`origin` contact, no tenant). The `SupportTicket` workflow owns the triage, the deadlines, escalations and
    closing; the requester's address lives only here. `reply_token` makes the founders' reply address
    (support+<token>@...); only the hash of the satisfaction link's token is kept."""

    __tablename__ = "support_ticket"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    tenant_id: str | None = Field(default=None, foreign_key="tenant.id", index=True, max_length=36)
    user_id: str | None = Field(default=None, max_length=36)
    origin: str = Field(max_length=16)
    subject: str = Field(max_length=200)
    body: str = Field(max_length=5_000)
    status: str = Field(default="new", index=True, max_length=16)
    language: str = Field(default="en", max_length=16)
    plan: str = Field(default="free", max_length=32)
    requester_name: str | None = Field(default=None, max_length=200)
    requester_email: str | None = Field(default=None, max_length=254)
    category: str | None = Field(default=None, max_length=32)
    priority: str | None = Field(default=None, max_length=16)
    sentiment: str | None = Field(default=None, max_length=16)
    suggested_reply: str | None = Field(default=None, max_length=5_000)
    triage_source: str | None = Field(default=None, max_length=16)
    fallback_reason: str | None = Field(default=None, max_length=32)
    triage_credits: int = 0
    reply_token: str = Field(unique=True, max_length=64)
    csat_token_hash: str | None = Field(default=None, unique=True, max_length=64)
    created_at: datetime = Field(default_factory=_now, index=True, sa_type=UtcDateTime)
    first_response_due: datetime | None = Field(default=None, sa_type=UtcDateTime)
    resolution_due: datetime | None = Field(default=None, sa_type=UtcDateTime)
    first_response_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed_at: datetime | None = Field(default=None, index=True, sa_type=UtcDateTime)
    closed_by: str | None = Field(default=None, max_length=100)
    escalations: int = 0
    last_escalated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    csat_score: int | None = None
    csat_comment: str | None = Field(default=None, max_length=1_000)
    rated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class SupportMessage(SQLModel, table=True):
    """One message on a ticket after its first: a founder's reply or the customer's follow-up."""

    __tablename__ = "support_message"

    id: str = Field(default_factory=_id, primary_key=True, max_length=36)
    ticket_id: str = Field(foreign_key="support_ticket.id", index=True, max_length=36)
    author: str = Field(max_length=16)
    author_name: str | None = Field(default=None, max_length=200)
    body: str = Field(max_length=5_000)
    created_at: datetime = Field(default_factory=_now, sa_type=UtcDateTime)
    emailed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
