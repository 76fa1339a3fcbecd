"""The shapes of telemetry analysis: a stored event as read back (`TelemetrySample`), the summary by
source with latency percentiles, the anomaly rules' thresholds and their findings. rules/telemetry.py
computes them."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

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


