"""Usage: the current billing period's counters against the plan's limits."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from api.deps import CallerDep, EngineDep
from core.errors import ApiError
from rules.usage import limits_for, period_end, period_of, spend_micros
from schemas.tables import Tenant, UsageCounter
from schemas.usage import METRICS, MetricUsage, UsagePublic

router = APIRouter(prefix="/api", tags=["usage"])


@router.get("/usage")
async def get_usage(
    caller: CallerDep, engine: EngineDep, tenant_id: Annotated[str | None, Query(max_length=36)] = None
) -> UsagePublic:
    """This month's runs, steps, API calls and AI credits against the plan; the founder names a tenant.
    API calls and runs of unlimited plans are counted in memory and written every few seconds."""
    if caller.is_founder and tenant_id is None:
        raise ApiError(422, "tenant_id_required", "The founder names the tenant with ?tenant_id=", field="tenant_id")
    wanted = tenant_id or caller.tenant_id
    if not caller.is_founder and wanted != caller.tenant_id:
        wanted = None  # another tenant's usage answers exactly as a tenant that does not exist
    return await run_in_threadpool(_usage, engine, wanted)


def _usage(engine: EngineDep, tenant_id: str | None) -> UsagePublic:
    period = period_of(datetime.now(UTC))
    with Session(engine) as session:
        tenant = session.get(Tenant, tenant_id) if tenant_id else None
        if tenant is None:
            raise ApiError(404, "tenant_not_found", "No tenant with this id", field="tenant_id")
        rows = session.exec(
            select(UsageCounter).where(UsageCounter.tenant_id == tenant.id, UsageCounter.period == period)
        ).all()
    used = {row.metric: row.value for row in rows}
    limits = limits_for(tenant.plan)
    return UsagePublic(
        tenant_id=tenant.id, plan=tenant.plan, period=period, resets_at=period_end(period),
        metrics={metric: MetricUsage(used=used.get(metric, 0), limit=limits[metric]) for metric in METRICS},
        spend_usd=round(spend_micros(used) / 1_000_000, 6),
    )
