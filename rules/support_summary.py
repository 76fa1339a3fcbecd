"""The support desk's figures over a window, from its tickets' timestamps: volume, the share of SLA deadlines met
(first response and resolution), escalations and the average satisfaction score.

A deadline counts in the window when it fell in it, or when it was met in it (early); one still ahead and unmet
does not count yet. A ticket answered after its deadline misses it, however soon after."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.support import SupportSummary


@dataclass(frozen=True)
class TicketTimes:
    created_at: datetime
    first_response_due: datetime | None
    first_response_at: datetime | None
    resolution_due: datetime | None
    closed_at: datetime | None
    last_escalated_at: datetime | None
    rated_at: datetime | None
    csat_score: int | None


MOMENTS = ("created_at", "first_response_due", "first_response_at", "resolution_due", "closed_at",
           "last_escalated_at", "rated_at")  # fmt: skip
"""A ticket's timestamps the summary reads (columns of `support_ticket`)."""


def ticket_times(row: Any) -> TicketTimes:
    """The timestamps of a `support_ticket` row."""
    return TicketTimes(**{moment: getattr(row, moment) for moment in MOMENTS}, csat_score=row.csat_score)


def summarize(tickets: Iterable[TicketTimes], since: datetime, until: datetime) -> SupportSummary:
    rows = list(tickets)

    def within(moment: datetime | None) -> bool:
        return moment is not None and since <= moment < until

    scores = [t.csat_score for t in rows if t.csat_score is not None and within(t.rated_at)]
    return SupportSummary(
        since=since,
        until=until,
        opened=sum(1 for t in rows if within(t.created_at)),
        closed=sum(1 for t in rows if within(t.closed_at)),
        first_response_met_pct=_met_pct([(t.first_response_due, t.first_response_at) for t in rows], within),
        resolution_met_pct=_met_pct([(t.resolution_due, t.closed_at) for t in rows], within),
        escalations=sum(1 for t in rows if within(t.last_escalated_at)),
        csat_average=round(sum(scores) / len(scores), 2) if scores else None,
        csat_count=len(scores),
    )


def _met_pct(
    deadlines: list[tuple[datetime | None, datetime | None]], within: Callable[[datetime | None], bool]
) -> float | None:
    counted = met = 0
    for due, done in deadlines:
        if due is None:
            continue
        if within(due) or within(done):
            counted += 1
            met += done is not None and done <= due
    return round(100 * met / counted, 1) if counted else None
