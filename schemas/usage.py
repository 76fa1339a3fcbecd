"""Usage metering as data: what each plan may use per calendar month, what usage costs the platform,
and how AI tokens become credits."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Metric = Literal["runs", "steps", "api_calls", "ai_credits"]
METRICS: tuple[Metric, ...] = ("runs", "steps", "api_calls", "ai_credits")
# The price list of the models the platform allows (rules/ai_policy.py: a model with no price here is refused).
CREDITS_PER_1K_TOKENS = {"gpt-4o-mini": 1, "gpt-4.1-nano": 1, "gpt-4.1-mini": 2, "gpt-4.1": 8, "gpt-4o": 10}
DEFAULT_CREDITS_PER_1K_TOKENS = 5


class UsageRecord(BaseModel):
    """Usage added in one transaction by the `record_usage` activity. Runs send only their own start, where the
    API did not admit them; steps and AI credits are counted by the worker's StepMetering as steps succeed."""

    tenant_id: str
    run_id: str
    runs: int = Field(default=0, ge=0, le=1)
    steps: int = Field(default=0, ge=0)
    ai_tokens: dict[str, int] = {}


class MetricUsage(BaseModel):
    used: int
    limit: int | None


class UsagePublic(BaseModel):
    tenant_id: str
    plan: str
    period: str
    resets_at: datetime
    metrics: dict[Metric, MetricUsage]
    spend_usd: float
