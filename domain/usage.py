"""A tenant's usage: this billing period's counters against its plan's limits."""

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from core.errors import ApiError
from rules.usage import limits_for, period_end, period_of, spend_micros
from schemas.i18n import tr
from schemas.tables import Tenant, UsageCounter
from schemas.usage import METRICS, MetricUsage, UsagePublic


def period_usage(engine: Engine, tenant_id: str | None) -> UsagePublic:
    """The tenant's counters this period (0 for a metric not used yet), its limits and what it cost;
    404 when there is no such tenant (or None is given: the caller may not see the one it asked for)."""
    period = period_of(datetime.now(UTC))
    with Session(engine) as session:
        tenant = session.get(Tenant, tenant_id) if tenant_id else None
        if tenant is None:
            raise ApiError(404, "tenant_not_found", tr("No tenant with this id"), field="tenant_id")
        rows = session.exec(
            select(UsageCounter).where(UsageCounter.tenant_id == tenant.id, UsageCounter.period == period)
        ).all()
    used = {row.metric: row.value for row in rows}
    limits = limits_for(tenant.plan)
    return UsagePublic(
        tenant_id=tenant.id,
        plan=tenant.plan,
        period=period,
        resets_at=period_end(period),
        metrics={metric: MetricUsage(used=used.get(metric, 0), limit=limits[metric]) for metric in METRICS},
        spend_usd=round(spend_micros(used) / 1_000_000, 6),
    )
