"""What crosses the boundary of `ComplianceAudit` (its scope, the findings each check family returns, the
report) and the compliance API's bodies."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.api import EntityId
from schemas.retention import PlatformRetention

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "low", "medium", "high", "critical")
# What one finding costs the report's 0-100 score; one check costs at most CHECK_PENALTY_CAP, so a thousand idle
# keys do not hide every other problem behind a score of 0.
PENALTIES: dict[Severity, int] = {"info": 0, "low": 2, "medium": 5, "high": 10, "critical": 25}
AuditTrigger = Literal["schedule", "founder"]


class ComplianceAuditInput(BaseModel):
    report_id: str | None = None
    """Chosen by the API when the founder starts an audit; a fresh one for scheduled audits."""
    tenant_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,36}$")
    """Only this tenant's data; every tenant's when None. Platform-wide checks run either way."""
    trigger: AuditTrigger = "schedule"
    platform_retention: PlatformRetention | None = None
    """The platform classes' retention (the settings); the defaults of rules/retention.py when None. Tenants'
    policies are read from their plans and overrides."""
    dsar_warning_days: float = Field(default=7, ge=0)
    api_key_unused_days: float = Field(default=90, gt=0)


class AuditScope(BaseModel):
    """What every check family receives: whose data, as of when, and the thresholds."""

    report_id: str
    tenant_id: str | None
    as_of: datetime
    platform_retention: PlatformRetention
    dsar_warning_days: float
    api_key_unused_days: float


class Finding(BaseModel):
    check: str = Field(max_length=64)
    severity: Severity
    penalty: int
    title: str = Field(max_length=200)
    remediation: str = Field(max_length=2000)
    tenant_id: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    """Names, ids, counts and places; never a secret's value or an e-mail address."""

    @classmethod
    def of(
        cls, check: str, severity: Severity, title: str, remediation: str, tenant_id: str | None = None, **detail: Any
    ) -> "Finding":
        return cls(
            check=check,
            severity=severity,
            penalty=PENALTIES[severity],
            title=title[:200],
            remediation=remediation,
            tenant_id=tenant_id,
            detail=detail,
        )


class Findings(BaseModel):
    items: list[Finding] = Field(default_factory=list)


class ReportOpening(BaseModel):
    report_id: str
    tenant_id: str | None
    trigger: AuditTrigger
    started_at: datetime


class ReportDraft(BaseModel):
    report_id: str
    finished_at: datetime
    score: int
    counts: dict[str, int]
    findings: list[Finding]
    founder_notified: bool


class CriticalAlert(BaseModel):
    report_id: str
    score: int
    titles: list[str]


class FounderNotified(BaseModel):
    sent: bool


class ComplianceAuditResult(BaseModel):
    report_id: str
    score: int
    counts: dict[str, int]
    founder_notified: bool


class ComplianceRunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: EntityId | None = None
    """Audit only this tenant's data (platform-wide checks still run); every tenant's when unset."""


class ComplianceRunStarted(BaseModel):
    report_id: str
    workflow_id: str
    status: str = "running"


class FindingPublic(BaseModel):
    id: str
    check: str
    severity: Severity
    penalty: int
    title: str
    remediation: str
    tenant_id: str | None
    detail: dict[str, Any]


class ReportSummary(BaseModel):
    id: str
    status: str
    trigger: str
    tenant_id: str | None
    started_at: datetime
    finished_at: datetime | None
    score: int | None
    counts: dict[str, int]
    founder_notified: bool


class ReportPage(BaseModel):
    reports: list[ReportSummary]
    total: int
    offset: int
    limit: int


class ReportDetail(ReportSummary):
    findings: list[FindingPublic]
