"""The support desk's figures over a window: volume, the share of SLA deadlines met, escalations and the average
satisfaction score."""

from datetime import UTC, datetime, timedelta

from rules.support_summary import TicketTimes, summarize

UNTIL = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
SINCE = UNTIL - timedelta(hours=24)


def times(hours_ago: float, **moments: float | int | None) -> TicketTimes:
    """A ticket opened `hours_ago`; every other moment is given in hours ago too (None: not yet)."""

    def at(name: str) -> datetime | None:
        value = moments.get(name)
        return None if value is None else UNTIL - timedelta(hours=float(value))

    score = moments.get("csat_score")
    return TicketTimes(
        created_at=UNTIL - timedelta(hours=hours_ago),
        first_response_due=at("first_response_due"),
        first_response_at=at("first_response_at"),
        resolution_due=at("resolution_due"),
        closed_at=at("closed_at"),
        last_escalated_at=at("last_escalated_at"),
        rated_at=at("rated_at"),
        csat_score=int(score) if score is not None else None,
    )


def test_the_summary_counts_volume_sla_met_escalations_and_scores() -> None:
    tickets = [
        # answered in time, closed in time, rated 5
        times(20, first_response_due=12, first_response_at=15, resolution_due=-10, closed_at=5, rated_at=4,
              csat_score=5),
        # its first reply came late (an escalation); resolution still ahead and open: not counted yet
        times(30, first_response_due=6, first_response_at=2, resolution_due=-40, last_escalated_at=6),
        # unanswered past its deadline
        times(10, first_response_due=1, resolution_due=-20, last_escalated_at=1),
        # opened two days ago, closed late yesterday, rated 2
        times(60, first_response_due=50, first_response_at=55, resolution_due=12, closed_at=3, rated_at=2,
              csat_score=2),
    ]  # fmt: skip

    summary = summarize(tickets, SINCE, UNTIL)

    assert (summary.opened, summary.closed, summary.escalations) == (2, 2, 2)
    assert summary.first_response_met_pct == 33.3  # of 3 counted: in time, late, missing
    assert summary.resolution_met_pct == 50.0  # of 2 counted: early, late
    assert (summary.csat_average, summary.csat_count) == (3.5, 2)


def test_a_quiet_window_has_no_percentages_and_no_average() -> None:
    summary = summarize([], SINCE, UNTIL)

    assert (summary.opened, summary.closed, summary.escalations, summary.csat_count) == (0, 0, 0, 0)
    assert summary.first_response_met_pct is None and summary.resolution_met_pct is None
    assert summary.csat_average is None
