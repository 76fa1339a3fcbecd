"""What crosses the boundary of `RunArchiver`: the window it archives and what it archived."""

from datetime import datetime

from pydantic import BaseModel, Field


class RunArchiverInput(BaseModel):
    """One pass of the archiver: it archives runs that closed up to `visibility_lag_s` before it started, at
    most `max_runs_per_window` per activity call, and at most `max_windows` calls (the next pass goes on)."""

    visibility_lag_s: float = Field(default=60.0, ge=0)
    max_runs_per_window: int = Field(default=2_000, ge=1)
    max_windows: int = Field(default=100, ge=1)
    first_window_s: float = Field(default=3 * 24 * 3600, gt=0)
    """How far back the very first pass looks: the namespace's retention, beyond which Temporal keeps nothing."""


class ArchiveWindow(BaseModel):
    """Archive runs that closed after the archive's cursor and at or before `through`."""

    through: datetime
    max_runs: int
    first_window_s: float


class ArchiveProgress(BaseModel):
    archived: int
    """Runs newly written (a run archived before is not counted again)."""
    listed: int
    archived_through: datetime
    caught_up: bool


class RunArchiverResult(BaseModel):
    archived: int
    windows: int
    archived_through: datetime | None


class ClosedRun(BaseModel):
    """A closed run as the archive keeps it: its summary and its record, encoded as a Temporal payload."""

    run_id: str
    tenant_id: str
    definition_id: str
    version: int
    status: str
    trigger: str
    started_at: datetime
    closed_at: datetime
    record: bytes | None
    results: bytes | None = None
    """The step results too large to keep in `record`, encoded like it: {step_id: result}."""
