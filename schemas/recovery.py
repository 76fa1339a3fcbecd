"""What crosses the boundary of `AutoRecovery`: the failures it reads and the assessments it writes."""

from typing import Literal

from pydantic import BaseModel, Field

from schemas.brain import DiagnosisInput
from schemas.runs import RetryDefaults

Category = Literal[
    "transient_network", "target_5xx", "auth_4xx", "validation", "timeout", "approval_timed_out", "unknown"
]


class AutoRecoveryInput(BaseModel):
    apply: bool = False
    max_redrives: int = Field(default=10, ge=0, le=1000)
    tenant_id: str | None = None
    """Only this tenant's failures; all tenants' when None (the platform schedule)."""
    retry_defaults: RetryDefaults = Field(default_factory=RetryDefaults)
    follow_toggles: bool = False
    """Take `apply` and `max_redrives` from the founder's system toggles at the start of the cycle (the platform
    schedule); False keeps the values given here (and the command sequence of cycles started before the toggles)."""


class FailureToAssess(BaseModel):
    failure_id: str
    run_id: str
    error_type: str
    message: str


class FailuresToDiagnose(BaseModel):
    """The failures a cycle assessed, in order: the first `limit` without an AI suggestion yet get a diagnosis."""

    failure_ids: list[str]
    limit: int


class FailureDiagnosis(BaseModel):
    failure_id: str
    diagnosis: DiagnosisInput


class DiagnosisPicks(BaseModel):
    """Empty while AI is off or not configured."""

    items: list[FailureDiagnosis] = Field(default_factory=list)
    kept: dict[str, str] = Field(default_factory=dict)
    """The AI suggestions earlier cycles wrote, by failure id: kept, not asked again."""


class FailureScan(BaseModel):
    failures: list[FailureToAssess]


class Assessment(BaseModel):
    failure_id: str
    category: Category
    suggestion: str
    auto_applicable: bool


class Assessments(BaseModel):
    items: list[Assessment]


class RedriveRequest(BaseModel):
    failure_id: str
    retry_defaults: RetryDefaults


class Redriven(BaseModel):
    failure_id: str
    new_run_id: str = ""
    refused: str | None = None
    """Admission's code when the tenant may not run now: nothing started, the entry stays open."""


class AutoRecoveryResult(BaseModel):
    assessed: int
    auto_applicable: int
    redriven: list[str]
    redrive_errors: list[str]
    refused: dict[str, str] = Field(default_factory=dict)
    """Failures left open because their tenant may not run now, with admission's code."""
