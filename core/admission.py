"""The database side of admission, shared by the API (domain/admission.py) and the worker (schedule-fired
runs, AutoRecovery): reading the tenant's gate facts, reserving a run against the plan's monthly limits, and
giving a reservation back. The decisions themselves are the pure rules in rules/admission.py.

A reservation increments the runs counter and compares the value the database answered, so concurrent
starts each see a distinct value and at most `limit` pass. Plans without limits are counted, not checked."""

from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session, select

from core.metering import add_usage
from core.toggles import read_toggles
from rules.admission import ai_paused_refusal, limit_refusal, system_refusal, tenant_refusal
from rules.usage import PLAN_LIMITS, START_LIMITED, limits_for, period_of
from schemas.runs import Refusal
from schemas.tables import Tenant, UsageCounter
from schemas.toggles import LaunchStage
from schemas.usage import Metric

Limits = dict[str, dict[Metric, int | None]]


class TenantGate(BaseModel):
    """What admission reads about a tenant; the throttle fields decide after the database part."""

    refusal: Refusal | None = None
    reserved_in: str | None = None
    """The period whose runs counter holds this start's reservation; None when nothing was reserved."""
    max_concurrent_runs: int | None = None
    ai_paused: bool = False
    launch_stage: LaunchStage | None = None
    """The launch stage the admitted run carries (read once, here); None on a refusal."""


def is_limited(plan: dict[Metric, int | None]) -> bool:
    return any(plan[metric] is not None for metric in START_LIMITED)


def reserve_run(session: Session, tenant_id: str, plan: dict[Metric, int | None]) -> tuple[str, Refusal | None]:
    """Counts the run in this period and checks the limits; on a refusal the count is rolled back."""
    period = period_of(datetime.now(UTC))
    counters = select(UsageCounter.metric, UsageCounter.value).where(
        UsageCounter.tenant_id == tenant_id, UsageCounter.period == period
    )
    used: dict[str, int] = dict(session.exec(counters).all())
    used["runs"] = add_usage(session.connection(), tenant_id, period, "runs", 1)
    refusal = limit_refusal(plan, used, period, counted=True)
    if refusal is not None:
        session.rollback()
    return period, refusal


def exhausted(session: Session, tenant: Tenant, limits: Limits = PLAN_LIMITS) -> Refusal | None:
    """The limit refusal a start would get now, without reserving anything (for schedules)."""
    plan = limits_for(tenant.plan, limits)
    if not is_limited(plan):
        return None
    period = period_of(datetime.now(UTC))
    counters = select(UsageCounter.metric, UsageCounter.value).where(
        UsageCounter.tenant_id == tenant.id, UsageCounter.period == period
    )
    return limit_refusal(plan, dict(session.exec(counters).all()), period, counted=False)


def admit_tenant(engine: Engine, tenant_id: str, uses_ai: bool, limits: Limits = PLAN_LIMITS) -> TenantGate:
    """The tenant's state, AI pause and limits, with the run reserved (limited plans) or counted (unlimited
    ones) when it may start; nothing is written on a refusal. The caller checks the concurrency cap next and
    releases the reservation if that refuses. The founder's maintenance mode and AI switch refuse first."""
    refusal = system_refusal(read_toggles(engine), uses_ai)
    if refusal is not None:
        return TenantGate(refusal=refusal)
    with Session(engine) as session:
        tenant = session.get(Tenant, tenant_id)
        refusal = tenant_refusal(tenant.status if tenant else None)
        if tenant is not None and refusal is None:
            refusal = ai_paused_refusal(tenant.ai_paused, uses_ai)
        if tenant is None or refusal is not None:
            return TenantGate(refusal=refusal)
        gate = TenantGate(
            max_concurrent_runs=tenant.max_concurrent_runs,
            ai_paused=tenant.ai_paused,
            launch_stage=read_toggles(engine).launch_stage,
        )
        plan = limits_for(tenant.plan, limits)
        if is_limited(plan):
            period, gate.refusal = reserve_run(session, tenant_id, plan)
            gate.reserved_in = None if gate.refusal else period
        else:
            period = period_of(datetime.now(UTC))
            add_usage(session.connection(), tenant_id, period, "runs", 1)
            gate.reserved_in = period
        session.commit()
    return gate


def release_run(engine: Engine, tenant_id: str, period: str) -> None:
    """Gives back a reservation whose start did not start a run."""
    with engine.begin() as connection:
        add_usage(connection, tenant_id, period, "runs", -1)
