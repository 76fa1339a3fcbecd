"""Usage counters: atomic increments, a finished run's steps and AI credits, and the pricing of tokens."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.usage import UsageActivities
from core.metering import add_usage
from rules.usage import ai_credits, period_end, period_of
from schemas.tables import Tenant, UsageCounter
from schemas.usage import UsageRecord


def counter(engine: Engine, tenant_id: str, metric: str) -> int | None:
    with Session(engine) as session:
        row = session.exec(
            select(UsageCounter).where(
                UsageCounter.tenant_id == tenant_id,
                UsageCounter.period == period_of(datetime.now(UTC)),
                UsageCounter.metric == metric,
            )
        ).first()
    return row.value if row else None


def new_tenant_row(engine: Engine, plan: str = "free") -> str:
    tenant = Tenant(name="Metered", plan=plan)
    with Session(engine) as session:
        session.add(tenant)
        session.commit()
        return tenant.id


def test_concurrent_increments_lose_nothing(engine: Engine) -> None:
    tenant_id = new_tenant_row(engine)

    def one(_: int) -> int:
        with engine.begin() as connection:
            return add_usage(connection, tenant_id, period_of(datetime.now(UTC)), "api_calls", 2)

    with ThreadPoolExecutor(max_workers=32) as pool:
        answered = list(pool.map(one, range(200)))

    assert sorted(answered) == list(range(2, 401, 2))
    assert counter(engine, tenant_id, "api_calls") == 400


def test_a_finished_run_adds_its_steps_and_ai_credits(engine: Engine) -> None:
    tenant_id = new_tenant_row(engine)
    activities = UsageActivities(engine)
    record = UsageRecord(tenant_id=tenant_id, run_id="r-1", steps=3, ai_tokens={"gpt-4o": 1500, "gpt-4o-mini": 10})

    ActivityEnvironment().run(activities.record_usage, record)
    ActivityEnvironment().run(activities.record_usage, record.model_copy(update={"ai_tokens": {}}))

    assert counter(engine, tenant_id, "steps") == 6
    assert counter(engine, tenant_id, "ai_credits") == 15 + 1


def test_tokens_are_priced_by_model_and_rounded_up() -> None:
    assert ai_credits({"gpt-4o-mini": 1000}) == 1
    assert ai_credits({"gpt-4o": 1001}) == 11
    assert ai_credits({"some-other-model": 200}) == 1
    assert ai_credits({}) == 0


def test_a_period_resets_at_the_first_instant_of_the_next_month() -> None:
    assert period_of(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == "2026-12"
    assert period_end("2026-12") == datetime(2027, 1, 1, tzinfo=UTC)
    assert period_end("2026-02") == datetime(2026, 3, 1, tzinfo=UTC)


def test_usage_the_columns_refuse_is_not_retried(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite does not enforce column lengths")
    record = UsageRecord(tenant_id="t-" + "x" * 60, run_id="r-2", steps=1)

    with pytest.raises(ApplicationError) as refused:
        ActivityEnvironment().run(UsageActivities(engine).record_usage, record)

    assert (refused.value.type, refused.value.non_retryable) == ("UsageRejected", True)
