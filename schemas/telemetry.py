"""Telemetry as the API takes and serves it: the ingestion batch and the guardian answers."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from schemas.health import HealthRecordPublic
from schemas.telemetry_analysis import Anomaly, TelemetryKind, TelemetrySummary

SOURCE_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
RESERVED_SOURCES = frozenset({"api", "worker"})
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
    at: datetime | None = Field(default=None, description="When it happened; the receipt time when omitted "
                                "or more than a day away from it.")
    attributes: dict[AttributeKey, str | int | float | bool | None] = Field(default_factory=dict,
                                                                           max_length=MAX_ATTRIBUTES)

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


class GuardianSummary(BaseModel):
    """One screen of platform health: the latest heartbeat, telemetry, anomalies and the last report."""

    checked_at: datetime
    heartbeat: HealthRecordPublic | None
    telemetry: TelemetrySummary
    anomalies: list[Anomaly]
    open_failures: int
    report_score: int | None
    report_day: str | None
