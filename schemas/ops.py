"""What the Admin Power Panel's operations views show: every tenant at a glance, one tenant with its people and
its trail, the failure queue across tenants, and the founder's actions' answers."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from schemas.accounts import UserPublic
from schemas.failures import FailurePublic
from schemas.tenants import ApiKeyPublic, TenantDetail
from schemas.usage import UsagePublic

# What the founder may do to a tenant from its page: the lifecycle's transitions and its throttle.
TenantAction = Literal["suspend", "resume", "delete", "restore", "throttle", "lift"]


class TenantGlance(BaseModel):
    """One row of the tenants list: the row's mirror of the lifecycle's status and throttle, and this month's runs
    against the plan (`runs_limit` None when the plan has none)."""

    id: str
    name: str
    plan: str
    status: str
    throttled: bool
    created_at: datetime
    runs_used: int
    runs_limit: int | None

    @property
    def runs_share(self) -> float | None:
        return self.runs_used / self.runs_limit if self.runs_limit else None


class TenantList(BaseModel):
    tenants: list[TenantGlance]
    by_status: dict[str, int] = Field(default_factory=dict)
    """Every tenant counted by status, whatever the filter."""
    total: int = 0
    """How many match the filter (the list holds at most the page's bound)."""


class TrailEntry(BaseModel):
    """An audit entry as the founder reads it: who (a user's e-mail where known), what, when, and why if given."""

    actor: str
    action: str
    at: datetime
    reason: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class TenantDossier(BaseModel):
    """One tenant for the founder: its lifecycle's state, this month's usage, its people and keys, its recent trail."""

    tenant: TenantDetail
    usage: UsagePublic
    users: list[UserPublic]
    keys: list[ApiKeyPublic] = Field(default_factory=list)
    trail: list[TrailEntry]
    failures_open: int
    actors: dict[str, str] = Field(default_factory=dict)
    """A user's e-mail by the actor the log and the lifecycle's history name them with (`user:<id>`)."""


class FailureQueue(BaseModel):
    """The failure queue across tenants, with the names the founder reads instead of ids."""

    failures: list[FailurePublic]
    tenant_names: dict[str, str] = Field(default_factory=dict)
    workflow_names: dict[str, str] = Field(default_factory=dict)
