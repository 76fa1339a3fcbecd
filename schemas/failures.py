"""The API's bodies for the failure queue and AutoRecovery's healing suggestions."""

from datetime import datetime

from pydantic import BaseModel, Field


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
