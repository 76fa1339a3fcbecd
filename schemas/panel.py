"""What the Admin Power Panel's overview and approval queue show: the platform's health at a glance (live probes,
uptime, errors, the daily reports' score trend) and the class C gates waiting across tenants with their context."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from schemas.health import CheckResult, HeartbeatPublic
from schemas.runs import PendingApproval
from schemas.telemetry import TenantFailureRate


class UptimeShare(BaseModel):
    """The share of the stored heartbeats within `window_s` that found the platform ok (None without any)."""

    window_s: int
    heartbeats: int
    healthy: int

    @property
    def share(self) -> float | None:
        return self.healthy / self.heartbeats if self.heartbeats else None


class ErrorFigures(BaseModel):
    """The platform's own errors of the last `window_s` seconds, in total and by source (most first), and the
    tenants whose runs failed because of their own targets or definitions, apart."""

    window_s: int
    errors: int
    events: int
    by_source: dict[str, int] = Field(default_factory=dict)
    tenant_failures: list[TenantFailureRate] = Field(default_factory=list)
    tenant_names: dict[str, str] = Field(default_factory=dict)


class ScorePoint(BaseModel):
    day: date
    score: int | None
    """None on a day without a daily report (drawn as a gap)."""


class HealthTrend(BaseModel):
    points: list[ScorePoint]
    latest_day: str | None = None
    latest_score: int | None = None
    suggestions: list[str] = Field(default_factory=list)


class PlatformOverview(BaseModel):
    checked_at: datetime
    heartbeat: HeartbeatPublic
    checks: list[CheckResult]
    """The latest Heartbeat record's probes (database, temporal, stripe, ai, backup) with latency and detail."""
    uptime: list[UptimeShare] = Field(default_factory=list)
    errors: ErrorFigures | None = None
    trend: HealthTrend | None = None
    """The stored figures are None (unknown) while the database does not answer."""

    @property
    def checks_by_name(self) -> dict[str, CheckResult]:
        return {check.name: check for check in self.checks}


class QueuedGate(BaseModel):
    """A class C gate waiting for a founder, with what the founder needs to decide it; `inputs` and `next_steps`
    are masked (secret references, secret-looking values and e-mail addresses)."""

    run_id: str
    tenant_id: str
    tenant_name: str
    definition_id: str
    workflow_name: str
    version: int
    gate: PendingApproval
    inputs: dict[str, Any] = Field(default_factory=dict)
    next_steps: list[dict[str, Any]] = Field(default_factory=list)
