"""What crosses the boundary of `CostAutopilot`: its thresholds, the spend rates it samples and what it did."""

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.api import EntityId, StrictBody
from schemas.tenants import Throttle


class CostAutopilotInput(BaseModel):
    """A spike is a spend rate above `floor_micros_per_hour` and above `spike_factor` times the tenant's
    trailing average (the mean of its last `trailing_samples` rates); a spike throttles the tenant."""

    spike_factor: float = Field(default=3.0, gt=1)
    floor_micros_per_hour: int = Field(default=1_000_000, ge=0)
    trailing_samples: int = Field(default=12, ge=1, le=1000)
    throttle_max_concurrent_runs: int = Field(default=2, ge=0)
    tenant_ids: list[str] | None = None
    """Only these tenants (the founder's on-demand check); every live tenant when None."""


class SpendScan(BaseModel):
    tenant_ids: list[str] | None = None
    trailing_samples: int


class SpendRate(BaseModel):
    tenant_id: str
    spend_micros: int
    rate_micros_per_hour: int | None = None
    """Since the previous sample; None for a tenant's first sample."""
    trailing_micros_per_hour: float | None = None
    throttled: bool = False


class SpendRates(BaseModel):
    rates: list[SpendRate]


class ThrottleOrder(BaseModel):
    tenant_id: str
    throttle: Throttle


class CostAutopilotResult(BaseModel):
    scanned: int
    spikes: list[SpendRate]
    throttled: list[str]


class TenantCost(BaseModel):
    tenant_id: str
    name: str
    plan: str
    status: str
    period_spend_usd: float
    rate_usd_per_hour: float | None
    trailing_usd_per_hour: float | None
    sampled_at: datetime | None
    max_concurrent_runs: int | None
    ai_paused: bool


class CostAction(BaseModel):
    tenant_id: str | None
    actor: str
    action: str
    detail: dict
    at: datetime


class CostOverview(BaseModel):
    spike_factor: float
    floor_usd_per_hour: float
    tenants: list[TenantCost]
    actions: list[CostAction]


class CostCheckCreate(StrictBody):
    tenant_ids: list[EntityId] | None = Field(default=None, max_length=1000)
