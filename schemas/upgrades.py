"""Upgrade plans: what `UpgradePlanner` reads (signals), proposes and writes. Plans are design-only
suggestions for the founder (`auto_applicable` is always false, `safe_mode` always true)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from schemas.api import StrictBody
from schemas.telemetry import Anomaly

PlanStatus = Literal["open", "in_progress", "applied", "archived"]
PlanCategory = Literal["performance", "reliability", "i18n", "UX", "pricing", "security"]
RiskLevel = Literal["low", "medium", "high"]


class FailureGroup(BaseModel):
    tenant_id: str
    definition_id: str
    step_id: str
    category: str
    count: int


class TenantSignal(BaseModel):
    tenant_id: str
    plan: str
    detail: dict[str, Any] = Field(default_factory=dict)


class FindingSignal(BaseModel):
    """A high or critical finding of the latest platform-wide compliance audit."""

    report_id: str
    check: str
    severity: str
    title: str
    remediation: str
    tenant_id: str | None = None


class FailedCheck(BaseModel):
    """A heartbeat check that failed repeatedly in the planner's window."""

    name: str
    failed: int
    total: int


class UpgradeSignals(BaseModel):
    failure_groups: list[FailureGroup] = Field(default_factory=list)
    throttled_tenants: list[TenantSignal] = Field(default_factory=list)
    near_limit_tenants: list[TenantSignal] = Field(default_factory=list)
    compliance_findings: list[FindingSignal] = Field(default_factory=list)
    failed_checks: list[FailedCheck] = Field(default_factory=list)
    anomalies: list[Anomaly] = Field(default_factory=list)


class PlanProposal(BaseModel):
    fingerprint: str = Field(max_length=200)
    """What makes two proposals the same plan: a rebuild refreshes the plan instead of adding another."""
    title: str = Field(max_length=200)
    description: str = Field(max_length=2000)
    priority: int = Field(ge=1, le=5)
    """1 is the most urgent."""
    category: PlanCategory
    risk_level: RiskLevel
    source: str = Field(max_length=32)
    metadata: dict[str, Any] = Field(default_factory=dict)


class UpgradePlannerInput(BaseModel):
    stale_after_s: float = Field(default=7 * 24 * 3600, ge=0)
    """An open plan no rebuild has proposed for this long is archived."""
    window_s: int = Field(default=6 * 3600, ge=60)
    """How far back heartbeats and telemetry anomalies are read: the schedule's interval."""


class PlanWrite(BaseModel):
    proposals: list[PlanProposal]
    stale_after_s: float


class UpgradePlannerResult(BaseModel):
    proposed: int
    created: int
    refreshed: int
    archived: int


class UpgradePlanPublic(BaseModel):
    id: str
    fingerprint: str
    title: str
    description: str
    status: PlanStatus
    priority: int
    category: PlanCategory
    risk_level: RiskLevel
    source: str
    metadata: dict[str, Any]
    auto_applicable: bool
    safe_mode: bool
    created_at: datetime
    last_seen_at: datetime
    archived_at: datetime | None


class UpgradeSummary(BaseModel):
    by_status: dict[str, int]
    by_category: dict[str, int]
    open_by_priority: dict[int, int]
    top_open: list[UpgradePlanPublic]


class UpgradePlanUpdate(StrictBody):
    status: Literal["in_progress", "applied", "archived"]
