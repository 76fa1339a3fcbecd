"""What crosses the boundary of `DataExport` and the data-subject request API: requests, runs, answers."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

RequestKind = Literal["export", "erasure"]
RequestStatus = Literal["pending", "completed", "failed"]


class DataExportInput(BaseModel):
    request_id: str
    tenant_id: str
    run_limit: int = 10_000


class DataExportResult(BaseModel):
    request_id: str
    counts: dict[str, int]
    """How many records each section of the archive holds."""


class RunRecord(BaseModel):
    """One run as Temporal visibility lists it: no inputs or step results."""

    run_id: str
    definition_id: str | None
    status: str
    started_at: datetime | None
    closed_at: datetime | None


class DataRequestPublic(BaseModel):
    id: str
    kind: RequestKind
    status: RequestStatus
    requested_at: datetime
    deadline_at: datetime
    completed_at: datetime | None = None


class DataExportStarted(BaseModel):
    request_id: str
    workflow_id: str
    status: RequestStatus = "pending"


class DataExportPublic(DataRequestPublic):
    archive: dict[str, Any] | None = None


class AccountDeletionStarted(BaseModel):
    request_id: str
    state: str
    purge_at: datetime | None
