"""Usage metering as data: what each plan may use per calendar month, and how AI tokens become credits."""

from datetime import UTC, datetime
from math import ceil
from typing import Literal

from pydantic import BaseModel

Metric = Literal["runs", "steps", "api_calls", "ai_credits"]
METRICS: tuple[Metric, ...] = ("runs", "steps", "api_calls", "ai_credits")
# Per calendar month (UTC); None is unlimited.
PLAN_LIMITS: dict[str, dict[Metric, int | None]] = {
    "free": {"runs": 100, "steps": 1_000, "api_calls": 10_000, "ai_credits": 100},
    "starter": {"runs": 2_000, "steps": 20_000, "api_calls": 100_000, "ai_credits": 2_000},
    "pro": {"runs": 20_000, "steps": 200_000, "api_calls": 1_000_000, "ai_credits": 20_000},
    "enterprise": {"runs": None, "steps": None, "api_calls": None, "ai_credits": None},
}
CREDITS_PER_1K_TOKENS = {"gpt-4o-mini": 1, "gpt-4o": 10}
DEFAULT_CREDITS_PER_1K_TOKENS = 5


class UsageRecord(BaseModel):
    """What one finished run used: steps it executed and AI tokens by model."""

    tenant_id: str
    run_id: str
    steps: int
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


def period_of(moment: datetime) -> str:
    """The billing period, `YYYY-MM` in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def period_end(period: str) -> datetime:
    """The first instant of the next period, when the counters start again."""
    year, month = map(int, period.split("-"))
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


def ai_credits(tokens_by_model: dict[str, int]) -> int:
    """Credits for tokens, priced per model and rounded up per model."""
    return sum(
        ceil(tokens * CREDITS_PER_1K_TOKENS.get(model, DEFAULT_CREDITS_PER_1K_TOKENS) / 1000)
        for model, tokens in tokens_by_model.items()
    )


def limits_for(plan: str, limits: dict[str, dict[Metric, int | None]] = PLAN_LIMITS) -> dict[Metric, int | None]:
    """A plan's limits; an unknown plan gets the free plan's."""
    return limits.get(plan, limits["free"])
