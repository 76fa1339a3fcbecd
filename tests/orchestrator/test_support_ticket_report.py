"""The daily report's support summary: the day's tickets opened and closed, the share of SLA deadlines met,
escalations and the average satisfaction score, as the report stores them and the guardian API serves them."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from domain.support import support_summary
from orchestrator.daily_report import DailyReport
from schemas.daily_report import DailyReportInput
from schemas.tables import SupportTicket
from tests.conftest import founder_headers


def planted(now: datetime) -> list[SupportTicket]:
    """Three tickets of the last day: one answered and closed in time and rated 5, one escalated and still
    unanswered, one closed a day late and rated 2."""
    hours = lambda n: now - timedelta(hours=n)  # noqa: E731
    return [
        ticket(created_at=hours(20), first_response_due=hours(-28), first_response_at=hours(19),
               resolution_due=hours(-148), closed_at=hours(10), status="closed", rated_at=hours(9), csat_score=5),
        ticket(created_at=hours(23), first_response_due=hours(1), resolution_due=hours(-100), escalations=1,
               last_escalated_at=hours(1), status="open"),
        ticket(created_at=hours(200), first_response_due=hours(152), first_response_at=hours(160),
               resolution_due=hours(32), closed_at=hours(8), status="closed", rated_at=hours(7), csat_score=2),
    ]  # fmt: skip


def ticket(**moments: Any) -> SupportTicket:
    return SupportTicket(origin="contact", subject="Report", body="Figures", plan="free",
                         reply_token=uuid.uuid4().hex, **moments)  # fmt: skip


async def test_the_daily_report_carries_the_days_support_summary(
    api: TestClient, client: Client, worker_queue: str, engine: Engine
) -> None:
    now = datetime.now(UTC)
    before = support_summary(engine, now - timedelta(hours=24), now)
    with Session(engine) as session:
        session.add_all(planted(now))
        session.commit()

    await client.execute_workflow(
        DailyReport.run, DailyReportInput(), id=f"report-{uuid.uuid4()}", task_queue=worker_queue
    )
    served = api.get("/api/guardian/daily-report", headers=founder_headers())

    assert served.status_code == 200, served.text
    support = served.json()["support"]
    assert support["opened"] - before.opened == 2
    assert support["closed"] - before.closed == 2
    assert support["escalations"] - before.escalations == 1
    assert support["csat_count"] - before.csat_count == 2
    generated = datetime.fromisoformat(served.json()["generated_at"])
    same_window = support_summary(engine, generated - timedelta(hours=24), generated)
    assert support == same_window.model_dump(mode="json")
    assert support["first_response_met_pct"] is not None and support["csat_average"] is not None
