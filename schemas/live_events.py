"""One event of the founder's live log stream (core/live_events.py): masked before it is made."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

LiveLevel = Literal["debug", "info", "warning", "error", "critical"]
LIVE_LEVELS: tuple[LiveLevel, ...] = ("debug", "info", "warning", "error", "critical")
# Where an event comes from: a run started or failed, a telemetry error, an audit entry, a billing event,
# or any other log line of the API or a worker.
LiveSource = Literal["run", "telemetry", "audit", "billing", "log"]
LIVE_SOURCES: tuple[LiveSource, ...] = ("run", "telemetry", "audit", "billing", "log")
FieldValue = str | int | float | bool | None


class LiveEvent(BaseModel):
    seq: int = 0
    """This process's order of arrival; a stream resumes after the last one it showed."""
    at: datetime
    level: LiveLevel
    source: LiveSource
    tenant_id: str | None = None
    event: str
    fields: dict[str, FieldValue]
    origin: str
    """The process that made it (events from other processes arrive over PostgreSQL NOTIFY)."""
