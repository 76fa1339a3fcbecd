"""Usage counters in the database: one atomic upsert per increment, so concurrent writers lose nothing."""

from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from schemas.tables import UsageCounter
from schemas.usage import Metric, UsageRecord, ai_credits, period_of

DIALECT_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def add_usage(connection: Connection, tenant_id: str, period: str, metric: Metric, amount: int) -> int:
    """Adds `amount` to a counter (creating it) in one statement and answers the new value."""
    insert = DIALECT_INSERTS[connection.dialect.name](UsageCounter)
    now = datetime.now(UTC)
    table = UsageCounter.__table__  # type: ignore[attr-defined]
    statement = insert.values(
        id=str(uuid4()), tenant_id=tenant_id, period=period, metric=metric, value=amount, updated_at=now
    ).on_conflict_do_update(
        index_elements=["tenant_id", "period", "metric"],
        set_={"value": table.c.value + amount, "updated_at": now},
    ).returning(table.c.value)
    return connection.execute(statement).scalar_one()


class UsageActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name="record_usage")
    def record_usage(self, record: UsageRecord) -> None:
        """Adds a finished run's start (where the API did not count it), steps and AI credits to its
        tenant's counters in one transaction."""
        period = period_of(datetime.now(UTC))
        amounts: dict[Metric, int] = {"runs": record.runs, "steps": record.steps, "ai_credits": ai_credits(record.ai_tokens)}
        try:
            with self._engine.begin() as connection:
                for metric, amount in amounts.items():
                    if amount:
                        add_usage(connection, record.tenant_id, period, metric, amount)
        except DataError as err:  # a value the columns refuse will be refused on every retry
            raise ApplicationError(f"usage not recorded: {err.orig}", type="UsageRejected", non_retryable=True) from err
        activity.logger.info("usage recorded", extra={"run_id": record.run_id, **amounts})
