"""When a tenant's spend rate is a spike the cost autopilot throttles, against its trailing average."""

from collections.abc import Iterable

from schemas.cost import CostAutopilotInput, SpendRate


def is_spike(rate: SpendRate, params: CostAutopilotInput) -> bool:
    """Above the floor and above `spike_factor` times the trailing average (0 with no history yet)."""
    if rate.rate_micros_per_hour is None:
        return False
    trailing = rate.trailing_micros_per_hour or 0.0
    return (
        rate.rate_micros_per_hour > params.floor_micros_per_hour
        and rate.rate_micros_per_hour > params.spike_factor * trailing
    )


def trailing_average(rates: Iterable[int | None]) -> float | None:
    """The mean of the known hourly spend rates (micro-dollars); None when none is known yet."""
    known = [rate for rate in rates if rate is not None]
    return sum(known) / len(known) if known else None
