"""Telemetry's shapes: an event as the API ingests it and as it is read back (`TelemetrySample`), the
summary by source with latency percentiles, the anomaly rules' thresholds and findings (computed by
`rules/telemetry.py`), and the guardian answers."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from schemas.health import HealthRecordPublic, HealthStatus

TelemetryKind = Literal["error", "event", "performance"]
AnomalyRule = Literal["repeated_message", "slow_endpoint", "high_error_rate"]


class TelemetrySample(BaseModel):
    source: str
    kind: TelemetryKind
    message: str
    endpoint: str | None = None
    duration_ms: float | None = None
    status: int | None = None
    at: datetime
    tenant_id: str | None = None


class Latency(BaseModel):
    samples: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None


class SourceSummary(BaseModel):
    source: str
    total: int
    errors: int
    events: int
    performance: int
    error_rate: float
    latency: Latency


class EndpointLatency(BaseModel):
    endpoint: str
    latency: Latency


class MessageCount(BaseModel):
    source: str
    message: str
    count: int


class TelemetrySummary(BaseModel):
    """`sources` lists every source, the tenants' own among them; the totals, latency, slowest endpoints and top
    messages are the platform's own (rules.telemetry.is_platform)."""

    since: datetime
    until: datetime
    total: int
    errors: int
    error_rate: float
    latency: Latency
    sources: list[SourceSummary]
    slowest_endpoints: list[EndpointLatency]
    top_errors: list[MessageCount]
    top_events: list[MessageCount]


class AnomalyRules(BaseModel):
    """A message repeated `repeat_min` times, an endpoint whose p95 exceeds `slow_ms`, a source whose
    error rate exceeds `max_error_rate` over at least `min_events` events: each within `window_s`."""

    window_s: int = Field(default=900, ge=1)
    repeat_min: int = Field(default=3, ge=2)
    slow_ms: float = Field(default=2000, gt=0)
    max_error_rate: float = Field(default=0.10, gt=0, lt=1)
    min_events: int = Field(default=10, ge=1)


class Anomaly(BaseModel):
    rule: AnomalyRule
    severity: Literal["warning", "critical"]
    source: str
    subject: str
    value: float
    threshold: float
    count: int
    first_at: datetime
    last_at: datetime


class AnomalyReport(BaseModel):
    """The rules' findings at `checked_at` (the `scan_anomalies` activity's answer)."""

    checked_at: datetime
    rules: AnomalyRules
    anomalies: list[Anomaly]


SOURCE_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
# The platform's own faults: the API's 5xx and slow requests, the workers' failed activities of our own.
PLATFORM_SOURCES = frozenset({"api", "worker"})
# What tenants' runs did to themselves: each attempt of a run's HTTP, e-mail or AI step (`event` when it
# answered, `error` when the tenant's target, message or definition made it fail), and each failed run.
TENANT_STEPS = "tenant_steps"
TENANT_RUNS = "tenant_runs"
TENANT_SOURCES = frozenset({TENANT_STEPS, TENANT_RUNS})
RESERVED_SOURCES = PLATFORM_SOURCES | TENANT_SOURCES
MAX_ATTRIBUTES = 20
AttributeKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MAX_ATTRIBUTE_CHARS = 500


class TelemetryEventCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: TelemetryKind
    message: str = Field(min_length=1, max_length=1000)
    endpoint: str | None = Field(default=None, max_length=300)
    duration_ms: float | None = Field(default=None, ge=0, le=86_400_000)
    status: int | None = Field(default=None, ge=100, le=599)
    at: datetime | None = Field(
        default=None, description="When it happened; the receipt time when omitted or more than a day away from it."
    )
    attributes: dict[AttributeKey, str | int | float | bool | None] = Field(
        default_factory=dict, max_length=MAX_ATTRIBUTES
    )

    @field_validator("attributes")
    @classmethod
    def _short_values(cls, attributes: dict[str, object]) -> dict[str, object]:
        for key, value in attributes.items():
            if isinstance(value, str) and len(value) > MAX_ATTRIBUTE_CHARS:
                raise ValueError(f"attribute {key!r} is longer than {MAX_ATTRIBUTE_CHARS} characters")
        return attributes


class TelemetryBatch(BaseModel):
    """Events from one source. `api` and `worker` are the platform's own sources; clients name theirs."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(pattern=SOURCE_PATTERN)
    events: list[TelemetryEventCreate] = Field(min_length=1)


class TelemetryAccepted(BaseModel):
    accepted: int


class TenantFailureRate(BaseModel):
    """One tenant's own failures in a window: its runs' step attempts that failed because of its targets,
    messages or definitions (never a platform fault), and its runs that failed."""

    tenant_id: str
    attempts: int
    failed_attempts: int
    failure_rate: float
    failed_runs: int
    top_error: str | None = None
    last_failed_at: datetime | None = None


class GuardianSummary(BaseModel):
    """One screen of platform health: the latest heartbeat, the platform's own telemetry and anomalies
    (tenants' step failures are not among them), the last report, and the tenants' failure rates apart.
    `platform_status` is the heartbeat's status, degraded by a critical platform anomaly."""

    checked_at: datetime
    heartbeat: HealthRecordPublic | None
    platform_status: HealthStatus | None = None
    telemetry: TelemetrySummary
    anomalies: list[Anomaly]
    tenant_failures: list[TenantFailureRate] = Field(default_factory=list)
    open_failures: int
    report_score: int | None
    report_day: str | None
