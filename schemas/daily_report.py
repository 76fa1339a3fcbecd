"""What crosses the boundary of the `DailyReport` workflow, and the scoring it applies: a pure function
from the day's figures to a 0-100 health score, its components and improvement suggestions."""

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.support import SupportSummary
from schemas.telemetry import Anomaly, AnomalyRules, MessageCount, TelemetrySummary, TenantFailureRate


class DailyReportInput(BaseModel):
    window_hours: int = Field(default=24, ge=1, le=24 * 7)
    rules: AnomalyRules = Field(default_factory=lambda: AnomalyRules(window_s=24 * 3600))


class ReportWindow(BaseModel):
    until: datetime
    window_hours: int
    rules: AnomalyRules


class ReportInputs(BaseModel):
    """The day's figures as the activity reads them from the database: `telemetry`, `anomalies` and
    `open_failures` are the platform's own; the tenants' failures are `tenant_failures`, which the score
    does not count."""

    heartbeats: int
    heartbeats_ok: int
    failed_checks: dict[str, int]
    telemetry: TelemetrySummary
    anomalies: list[Anomaly]
    open_failures: int
    tenant_failures: list[TenantFailureRate] = Field(default_factory=list)


class ScoreComponent(BaseModel):
    name: str
    score: int
    max: int
    detail: str


class DailyReportBody(BaseModel):
    day: str
    generated_at: datetime
    window_hours: int
    score: int = Field(ge=0, le=100)
    components: list[ScoreComponent]
    top_errors: list[MessageCount]
    top_events: list[MessageCount]
    anomalies: list[Anomaly]
    suggestions: list[str]
    tenant_failures: list[TenantFailureRate] = Field(default_factory=list)
    support: SupportSummary | None = None
    """The support desk over the window (reports written before it have none)."""


class Retention(BaseModel):
    """The input of the pruning step DailyReport runs begun before the RetentionEnforcer still have."""

    until: datetime
    days: int


class DailyReportResult(BaseModel):
    report_id: str
    score: int
