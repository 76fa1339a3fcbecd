"""Plan limits and metering: the monthly period, what each plan allows, AI credits and spend."""

from datetime import UTC, datetime
from math import ceil
from typing import TypeGuard

from schemas.usage import CREDITS_PER_1K_TOKENS, DEFAULT_CREDITS_PER_1K_TOKENS, METRICS, Metric

# Per calendar month (UTC); None is unlimited. A run start is refused once runs, steps or AI credits are used up.
PLAN_LIMITS: dict[str, dict[Metric, int | None]] = {
    "free": {"runs": 100, "steps": 1_000, "api_calls": 10_000, "ai_credits": 100},
    "starter": {"runs": 2_000, "steps": 20_000, "api_calls": 100_000, "ai_credits": 2_000},
    "pro": {"runs": 20_000, "steps": 200_000, "api_calls": 1_000_000, "ai_credits": 20_000},
    "enterprise": {"runs": None, "steps": None, "api_calls": None, "ai_credits": None},
}


START_LIMITED: tuple[Metric, ...] = ("runs", "steps", "ai_credits")


# What a unit of usage costs the platform, in micro-dollars: the cost autopilot's spend.
COST_MICROS: dict[Metric, int] = {"runs": 1_000, "steps": 200, "api_calls": 10, "ai_credits": 2_000}


# Triggers whose runs the API admits (and counts) before they start; the run counts the others itself.
ADMITTED_TRIGGERS = frozenset({"api", "webhook"})


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


def spend_micros(used: dict[str, int]) -> int:
    """What this much usage costs the platform."""
    return sum(cost * used.get(metric, 0) for metric, cost in COST_MICROS.items())


def is_metric(name: str) -> TypeGuard[Metric]:
    """Whether a counter's metric, a plain string in the database, is one of METRICS."""
    return name in METRICS


def limits_for(plan: str, limits: dict[str, dict[Metric, int | None]] = PLAN_LIMITS) -> dict[Metric, int | None]:
    """A plan's limits; an unknown plan gets the free plan's."""
    return limits.get(plan, limits["free"])
