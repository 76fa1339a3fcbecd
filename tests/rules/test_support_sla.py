"""The support desk's service levels as data: each plan's first-response and resolution deadlines, shortened or
stretched by the ticket's priority."""

from datetime import UTC, datetime, timedelta

import pytest

from rules.support_sla import CONTACT_PLAN, PLAN_SLA, plan_sla, ticket_deadlines
from schemas.api import PLANS

OPENED = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("plan", "first_response", "resolution"),
    [
        ("free", timedelta(hours=48), timedelta(days=7)),
        ("starter", timedelta(hours=24), timedelta(days=3)),
        ("pro", timedelta(hours=8), timedelta(days=2)),
        ("enterprise", timedelta(hours=2), timedelta(days=1)),
    ],
)
def test_a_normal_tickets_deadlines_are_its_plans(plan: str, first_response: timedelta, resolution: timedelta) -> None:
    deadlines = ticket_deadlines(plan, "normal", OPENED)

    assert deadlines.first_response_due == OPENED + first_response
    assert deadlines.resolution_due == OPENED + resolution


def test_every_plan_has_a_service_level_and_better_plans_answer_sooner() -> None:
    ordered = [PLAN_SLA[plan] for plan in PLANS]

    assert set(PLAN_SLA) == set(PLANS)
    assert [sla.first_response for sla in ordered] == sorted((sla.first_response for sla in ordered), reverse=True)
    assert [sla.resolution for sla in ordered] == sorted((sla.resolution for sla in ordered), reverse=True)


def test_an_urgent_ticket_gets_half_the_time_and_a_low_one_half_as_long_again() -> None:
    urgent = ticket_deadlines("pro", "urgent", OPENED)
    high = ticket_deadlines("pro", "high", OPENED)
    low = ticket_deadlines("pro", "low", OPENED)

    assert urgent.first_response_due == OPENED + timedelta(hours=4)
    assert high.first_response_due == OPENED + timedelta(hours=6)
    assert low.first_response_due == OPENED + timedelta(hours=12)
    assert low.resolution_due == OPENED + timedelta(days=3)


def test_a_public_contact_and_an_unknown_plan_are_served_on_the_free_plans_terms() -> None:
    assert CONTACT_PLAN == "free"
    assert plan_sla("legacy-gold") == PLAN_SLA["free"]
