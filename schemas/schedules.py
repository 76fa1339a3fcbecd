"""Request and response bodies of tenant schedules: when a definition runs, in which zone, with what input."""

import re
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Overlap = Literal["skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all"]
# A tenant schedule fires at most once a minute; anything faster is a job for a loop inside one run.
MIN_INTERVAL_S = 60
MAX_INTERVAL_S = 366 * 24 * 3600
CRON_FIELD = re.compile(r"[0-9A-Za-z*/,-]+")


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _checked_cron(value: str) -> str:
    """Five cron fields, names (MON, JAN) allowed; no seconds, no @macros. Only the shape is checked here:
    the Temporal server is the one judge of the values, and its refusal answers 422 like this one."""
    fields = value.split()
    if len(fields) != 5 or not all(CRON_FIELD.fullmatch(f) for f in fields):
        raise ValueError("not a five-field cron expression (minute hour day-of-month month day-of-week)")
    return " ".join(fields)


def _checked_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError("not an IANA time zone name such as Europe/Berlin or UTC")
    return value


Cron = Annotated[
    str,
    Field(max_length=200, description="Five fields: minute hour day-of-month month day-of-week"),
    AfterValidator(_checked_cron),
]
Zone = Annotated[
    str, Field(max_length=64, description="An IANA time zone, e.g. Europe/Berlin"), AfterValidator(_checked_zone)
]
IntervalSeconds = Annotated[int, Field(ge=MIN_INTERVAL_S, le=MAX_INTERVAL_S)]


class ScheduleTiming(BaseModel):
    """When a schedule fires: exactly one of `cron` and `interval_s`, read in `timezone`."""

    cron: str | None = None
    interval_s: int | None = None
    timezone: str = "UTC"
    overlap: Overlap = "skip"


class ScheduleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cron: Cron | None = None
    interval_s: IntervalSeconds | None = None
    timezone: Zone = "UTC"
    input: dict[str, Any] = Field(default_factory=dict)
    overlap: Overlap = "skip"
    paused: bool = False
    note: str | None = Field(default=None, max_length=500)

    def timing(self) -> ScheduleTiming:
        return ScheduleTiming(cron=self.cron, interval_s=self.interval_s, timezone=self.timezone, overlap=self.overlap)


class ScheduleUpdate(BaseModel):
    """Only the fields sent change. Sending `cron` replaces an interval and the other way round."""

    model_config = ConfigDict(extra="forbid")

    cron: Cron | None = None
    interval_s: IntervalSeconds | None = None
    timezone: Zone | None = None
    input: dict[str, Any] | None = None
    overlap: Overlap | None = None
    paused: bool | None = None
    note: str | None = Field(default=None, max_length=500)

    def applied_to(self, timing: ScheduleTiming) -> ScheduleTiming:
        """The timing after this change: a new cron drops the interval and the other way round."""
        changes = self.model_dump(include={"cron", "interval_s", "timezone", "overlap"}, exclude_none=True)
        if self.cron is not None:
            changes["interval_s"] = None
        elif self.interval_s is not None:
            changes["cron"] = None
        return timing.model_copy(update=changes)


class ScheduledRun(BaseModel):
    run_id: str
    scheduled_at: datetime
    started_at: datetime


class SchedulePublic(BaseModel):
    id: str
    tenant_id: str
    workflow_id: str
    version: int
    cron: str | None
    interval_s: int | None
    timezone: str
    description: str
    overlap: Overlap
    paused: bool
    note: str | None
    input: dict[str, Any]
    next_run_times: list[datetime] = Field(
        description="The next three fire times in the schedule's zone; none while paused"
    )
    recent_runs: list[ScheduledRun]
    created_at: datetime
    updated_at: datetime | None


class ScheduleTriggered(BaseModel):
    schedule_id: str
    status: Literal["triggered"] = "triggered"
    run_id: str | None
    """The run this fire started; None when the overlap policy skipped or buffered it (a run of the schedule
    is still in progress) or it had not started within a few seconds."""
