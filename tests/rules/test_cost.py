"""The spike rule at its thresholds: above the floor and above the factor times the trailing average."""

import pytest

from rules.cost import is_spike
from schemas.cost import CostAutopilotInput, SpendRate

RULE = CostAutopilotInput(spike_factor=3.0, floor_micros_per_hour=1_000_000)


@pytest.mark.parametrize(
    ("rate", "trailing", "spike"),
    [
        (3_000_001, 1_000_000, True),  # just over 3x, over the floor
        (3_000_000, 1_000_000, False),  # exactly 3x is not over it
        (1_000_000, 0.0, False),  # no history, but only at the floor
        (1_000_001, None, True),  # no history and over the floor
        (900_000, 100_000, False),  # 9x, but under the floor
        (None, 100_000, False),  # a first sample has no rate
    ],
)
def test_a_spike_is_over_the_floor_and_over_the_factor(rate: int | None, trailing: float | None, spike: bool) -> None:
    sample = SpendRate(tenant_id="t", spend_micros=0, rate_micros_per_hour=rate, trailing_micros_per_hour=trailing)

    assert is_spike(sample, RULE) is spike
