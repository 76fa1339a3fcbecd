"""Request and response bodies of the HTTP API."""

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from schemas.runs import PendingApproval, RunStatus, StepError, StepOutcome
from schemas.tenants import Throttle, Transition

KeyRole = Literal["member", "admin"]
Plan = Literal["free", "starter", "pro", "enterprise"]
PLANS: tuple[Plan, ...] = get_args(Plan)


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    """Every error the API answers. Some codes add fields of their own (a 429 says which limit, an invalid
    definition carries its full report)."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Stable and machine-readable, e.g. `run_not_found`, `usage_limit_reached`.")
    message: str = Field(description="For a human; may change.")
    field: str | None = Field(default=None, description="The offending input's path, e.g. `body.steps[0].url`.")


class TenantCreate(StrictBody):
    name: str = Field(min_length=1, max_length=200)
    plan: Plan = "free"


class TenantPublic(BaseModel):
    id: str
    name: str
    plan: str
    status: str = "active"
    created_at: datetime


class TenantDetail(TenantPublic):
    history: list[Transition] = Field(default_factory=list)
    purge_at: datetime | None = None
    throttle: Throttle | None = None


class TenantChangeCreate(StrictBody):
    reason: str | None = Field(default=None, max_length=500)


class ThrottleCreate(StrictBody):
    max_concurrent_runs: int = Field(default=2, ge=0, le=10_000)
    ai_paused: bool = True
    reason: str = Field(min_length=1, max_length=500)


class ThrottleLiftCreate(StrictBody):
    reason: str | None = Field(default=None, max_length=500)


class UpgradePlanUpdate(StrictBody):
    status: Literal["in_progress", "applied", "archived"]


class CostCheckCreate(StrictBody):
    tenant_ids: list[str] | None = Field(default=None, max_length=1000)


class ApiKeyCreate(StrictBody):
    role: KeyRole = "member"
    label: str | None = Field(default=None, max_length=200)


class ApiKeyCreated(BaseModel):
    id: str
    tenant_id: str
    role: KeyRole
    prefix: str
    key: str = Field(description="Shown once; only its hash is stored.")


class TenantCreated(BaseModel):
    tenant: TenantPublic
    api_key: ApiKeyCreated


class WorkflowPublic(BaseModel):
    id: str
    name: str
    version: int
    definition: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class WorkflowSummary(BaseModel):
    id: str
    name: str
    version: int
    updated_at: datetime


class RunCreate(StrictBody):
    input: dict[str, Any] = Field(default_factory=dict)


class RunAccepted(BaseModel):
    run_id: str
    workflow_id: str
    definition_id: str
    version: int


class RunSummary(BaseModel):
    run_id: str
    definition_id: str | None
    status: str
    trigger: str
    started_at: datetime | None
    closed_at: datetime | None


class RunPage(BaseModel):
    runs: list[RunSummary]
    next_page_token: str | None = None


class RunPublic(BaseModel):
    run_id: str
    definition_id: str
    version: int
    status: RunStatus
    current_step: str | None
    waiting: PendingApproval | None
    steps: list[StepOutcome]
    vars: dict[str, Any]
    error: StepError | None
    trigger: str
    resumed_from: str | None
    input: dict[str, Any]
    started_at: datetime | None
    closed_at: datetime | None


class StepDecisionCreate(StrictBody):
    decision: Literal["approve", "reject"]
    comment: str | None = Field(default=None, max_length=2000)


class ApprovalPublic(BaseModel):
    run_id: str
    tenant_id: str
    definition_id: str
    gate: PendingApproval


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


class SecretUpdate(StrictBody):
    value: str = Field(min_length=1, max_length=8192)


class SecretPublic(BaseModel):
    """A secret's name and dates; its value is never answered."""

    name: str
    created_at: datetime
    updated_at: datetime


class FailurePublic(BaseModel):
    id: str
    tenant_id: str
    run_id: str
    workflow_id: str = Field(validation_alias="definition_id")
    version: int
    step_id: str
    error_type: str
    message: str
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime
    priority: str
    status: str
    redriven_run_id: str | None
    category: str | None
    suggestion: str | None
    auto_applicable: bool
    assessed_at: datetime | None


class HealingSuggestion(BaseModel):
    failure_id: str = Field(validation_alias="id")
    tenant_id: str
    run_id: str
    step_id: str
    error_type: str
    category: str
    suggestion: str
    auto_applicable: bool
    status: str
    assessed_at: datetime
