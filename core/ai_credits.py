"""A tenant's AI credits in the database: used today (the daily counter) and this month (the usage counter), read
against its plan's caps; and adding a call's credits to both in the caller's transaction. The Brain's activity
checks and meters through here, the API reads the same before starting an AI workflow."""

from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import Connection
from sqlmodel import Session, col, select

from core.metering import DIALECT_INSERTS, add_usage
from rules.ai_policy import daily_cap, out_of_credits
from rules.usage import limits_for, period_of
from schemas.brain import AiCreditStatus
from schemas.tables import AiCreditDay, Tenant, UsageCounter


def day_of(moment: datetime) -> str:
    """The UTC day the daily cap counts in, `YYYY-MM-DD`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def credit_status(session: Session, tenant_id: str, plan: str | None = None) -> AiCreditStatus:
    """The tenant's credits now; its plan is read from its row unless given (the free plan's for no row)."""
    now = datetime.now(UTC)
    day, period = day_of(now), period_of(now)
    tenant = session.get(Tenant, tenant_id)
    plan = plan or (tenant.plan if tenant is not None else "free")
    daily = session.exec(
        select(AiCreditDay.credits).where(AiCreditDay.tenant_id == tenant_id, AiCreditDay.day == day)
    ).first()
    monthly = session.exec(
        select(UsageCounter.value).where(
            UsageCounter.tenant_id == tenant_id, UsageCounter.period == period, UsageCounter.metric == "ai_credits"
        )
    ).first()
    paused = tenant is not None and tenant.ai_paused
    caps = daily_cap(plan), limits_for(plan)["ai_credits"]
    used = daily or 0, monthly or 0
    return AiCreditStatus(
        tenant_id=tenant_id,
        plan=plan,
        day=day,
        daily_used=used[0],
        daily_cap=caps[0],
        period=period,
        monthly_used=used[1],
        monthly_cap=caps[1],
        paused=paused,
        exhausted=paused or out_of_credits(used[0], caps[0]) or out_of_credits(used[1], caps[1]),
    )


def add_ai_credits(connection: Connection, tenant_id: str, credits: int, *, monthly: bool = True) -> None:
    """Adds a call's credits to today's counter and (unless the worker's StepMetering counts them: `ai` steps) to
    this month's `ai_credits` usage, each in one statement."""
    if credits <= 0:
        return
    now = datetime.now(UTC)
    insert = DIALECT_INSERTS[connection.dialect.name](AiCreditDay)
    connection.execute(
        insert.values(
            id=str(uuid4()), tenant_id=tenant_id, day=day_of(now), credits=credits, updated_at=now
        ).on_conflict_do_update(
            index_elements=["tenant_id", "day"],
            set_={"credits": col(AiCreditDay.credits) + credits, "updated_at": now},
        )
    )
    if monthly:
        add_usage(connection, tenant_id, period_of(now), "ai_credits", credits)
