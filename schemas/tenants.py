"""What crosses the boundary of `TenantLifecycle` (its state, transitions and messages) and the API's tenant and
API-key bodies."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from schemas.api import KeyRole, Plan, StrictBody
from schemas.i18n import Text, tr

TenantStatus = Literal["active", "suspended", "deleted", "purged"]
# A state as a sentence names it ("This tenant is suspended"), in the reader's language.
STATUS_NAMES: dict[str, Text] = {
    "active": tr("active"),
    "suspended": tr("suspended"),
    "deleted": tr("deleted"),
    "purged": tr("purged"),
}
TransitionName = Literal["suspend", "resume", "delete", "restore", "purge"]
# Which transition may leave which state; purge happens only by the grace-period timer.
LEGAL: dict[TransitionName, tuple[tuple[TenantStatus, ...], TenantStatus]] = {
    "suspend": (("active",), "suspended"),
    "resume": (("suspended",), "active"),
    "delete": (("active", "suspended"), "deleted"),
    "restore": (("deleted",), "active"),
    "purge": (("deleted",), "purged"),
}


class Transition(BaseModel):
    name: TransitionName
    from_status: TenantStatus
    to_status: TenantStatus
    at: datetime
    by: str
    reason: str | None = None


class TenantChange(BaseModel):
    """A request to move a tenant through a transition (the update's argument)."""

    name: Literal["suspend", "resume", "delete", "restore"]
    by: str
    reason: str | None = Field(default=None, max_length=500)


class Throttle(BaseModel):
    """A cap the cost autopilot (or the founder) put on a tenant until the founder lifts it: at most
    `max_concurrent_runs` runs at once, and no new runs with AI steps while `ai_paused`."""

    max_concurrent_runs: int = Field(ge=0, le=10_000)
    ai_paused: bool = True
    by: str = Field(max_length=100)
    reason: str = Field(max_length=500)
    detail: dict[str, float] = Field(default_factory=dict)
    since: datetime | None = None


class ThrottleLift(BaseModel):
    by: str = Field(max_length=100)
    reason: str | None = Field(default=None, max_length=500)


class TenantState(BaseModel):
    tenant_id: str
    status: TenantStatus = "active"
    history: list[Transition] = Field(default_factory=list)
    purge_at: datetime | None = None
    throttle: Throttle | None = None


class LifecycleInput(BaseModel):
    state: TenantState
    grace_period_s: float = 30 * 24 * 3600


class StatusRecord(BaseModel):
    tenant_id: str
    status: TenantStatus


class SchedulesPause(BaseModel):
    tenant_id: str
    paused: bool
    note: str


class RunsCancel(BaseModel):
    """The tenant's runs in flight to cancel, and the reason each records."""

    tenant_id: str
    reason: str


class ThrottleRecord(BaseModel):
    """A throttle put on or lifted, as mirrored to the tenant row and the audit log."""

    tenant_id: str
    throttle: Throttle | None
    by: str
    reason: str | None = None


class TenantCreate(StrictBody):
    name: str = Field(min_length=1, max_length=200)
    plan: Plan = "free"


class TenantPublic(BaseModel):
    id: str
    name: str
    plan: str
    status: str = "active"
    created_at: datetime


class TenantDetail(TenantPublic):
    history: list[Transition] = Field(default_factory=list)
    purge_at: datetime | None = None
    throttle: Throttle | None = None


class TenantChangeCreate(StrictBody):
    reason: str | None = Field(default=None, max_length=500)


class ThrottleCreate(StrictBody):
    max_concurrent_runs: int = Field(default=2, ge=0, le=10_000)
    ai_paused: bool = True
    reason: str = Field(min_length=1, max_length=500)


class ThrottleLiftCreate(StrictBody):
    reason: str | None = Field(default=None, max_length=500)


class ApiKeyCreate(StrictBody):
    role: KeyRole = "member"
    label: str | None = Field(default=None, max_length=200)


class ApiKeyCreated(BaseModel):
    id: str
    tenant_id: str
    role: KeyRole
    prefix: str
    label: str | None = None
    key: str = Field(description="Shown once; only its hash is stored.")


class ApiKeyPublic(BaseModel):
    """A key as its tenant's admin or the founder sees it: never the key or its hash."""

    id: str
    tenant_id: str
    role: str
    prefix: str
    label: str | None
    created_at: datetime
    last_used_at: datetime | None = Field(description="Stamped at most about once an hour per key.")
    revoked_at: datetime | None


class TenantCreated(BaseModel):
    tenant: TenantPublic
    api_key: ApiKeyCreated
