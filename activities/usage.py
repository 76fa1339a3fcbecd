"""Usage a run reports itself: the start of a run the API did not admit (schedules, re-drives)."""

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import DataError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.metering import add_usage
from rules.usage import ai_credits, period_of
from schemas.usage import Metric, UsageRecord


class UsageActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name="record_usage")
    def record_usage(self, record: UsageRecord) -> None:
        """Adds a run's own usage to its tenant's counters in one transaction."""
        period = period_of(datetime.now(UTC))
        amounts: dict[Metric, int] = {
            "runs": record.runs,
            "steps": record.steps,
            "ai_credits": ai_credits(record.ai_tokens),
        }
        try:
            with self._engine.begin() as connection:
                for metric, amount in amounts.items():
                    if amount:
                        add_usage(connection, record.tenant_id, period, metric, amount)
        except DataError as err:  # a value the columns refuse will be refused on every retry
            raise ApplicationError(f"usage not recorded: {err.orig}", type="UsageRejected", non_retryable=True) from err
        activity.logger.info("usage recorded", extra={"run_id": record.run_id, **dict(amounts.items())})
