"""Bodies of the compliance API: reports, their findings, and starting an audit."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from schemas.compliance import Severity


class ComplianceRunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: str | None = Field(default=None, max_length=36)
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
