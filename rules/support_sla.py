"""The support desk's service levels as data: per plan, how soon a ticket gets its first founder reply and how soon
it is resolved, and how a ticket's priority shortens or stretches both. A public contact (no account) is served on
the free plan's terms.

Why these numbers: what each plan sells — free 48 hours / 7 days, starter 24 hours / 3 days, pro 8 hours /
2 days, enterprise 2 hours / 1 day. An urgent ticket (something is down) gets half of that, a high one three
quarters, a low one half as long again."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.support import TicketDeadlines, TicketPriority


@dataclass(frozen=True)
class PlanSla:
    first_response: timedelta
    resolution: timedelta


PLAN_SLA: dict[str, PlanSla] = {
    "free": PlanSla(first_response=timedelta(hours=48), resolution=timedelta(days=7)),
    "starter": PlanSla(first_response=timedelta(hours=24), resolution=timedelta(days=3)),
    "pro": PlanSla(first_response=timedelta(hours=8), resolution=timedelta(days=2)),
    "enterprise": PlanSla(first_response=timedelta(hours=2), resolution=timedelta(days=1)),
}
PRIORITY_FACTOR: dict[TicketPriority, float] = {"urgent": 0.5, "high": 0.75, "normal": 1.0, "low": 1.5}
CONTACT_PLAN = "free"
"""The plan a public contact's ticket is served by."""


def plan_sla(plan: str) -> PlanSla:
    """The plan's service level; the free plan's for a plan this table does not know."""
    return PLAN_SLA.get(plan, PLAN_SLA["free"])


def ticket_deadlines(plan: str, priority: TicketPriority, opened_at: datetime) -> TicketDeadlines:
    """When the first founder reply and the resolution are due for a ticket opened at `opened_at`."""
    sla, factor = plan_sla(plan), PRIORITY_FACTOR[priority]
    return TicketDeadlines(
        first_response_due=opened_at + sla.first_response * factor,
        resolution_due=opened_at + sla.resolution * factor,
    )
