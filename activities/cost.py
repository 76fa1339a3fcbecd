"""The cost autopilot's side effects: sampling each tenant's spend and throttling a tenant through its
lifecycle workflow."""

from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity

from rules.cost import trailing_average
from rules.usage import period_of, spend_micros
from schemas.cost import SpendRate, SpendRates, SpendScan, ThrottleOrder
from schemas.tables import SpendSample, Tenant, UsageCounter
from schemas.tenants import Throttle

LIVE_STATUSES = ("active", "suspended")
# Samples closer than this (an on-demand check right after the scheduled one) give no rate: a few cents
# over a few seconds would read as a huge hourly rate.
MIN_SAMPLE_INTERVAL_H = 1 / 60


class ThrottleControl(Protocol):
    async def throttle_tenant(self, tenant_id: str, throttle: Throttle) -> bool: ...


class CostActivities:
    def __init__(self, engine: Engine, control: ThrottleControl) -> None:
        self._engine, self._control = engine, control

    @activity.defn(name="sample_spend")
    def sample_spend(self, scan: SpendScan) -> SpendRates:
        """Records each live tenant's spend this period and answers its rate since the previous sample
        and the trailing average of its earlier rates."""
        now = datetime.now(UTC)
        period = period_of(now)
        with Session(self._engine) as session:
            query = select(Tenant).where(col(Tenant.status).in_(LIVE_STATUSES))
            if scan.tenant_ids is not None:
                query = query.where(col(Tenant.id).in_(scan.tenant_ids))
            rates = [
                self._sample(session, tenant, now, period, scan.trailing_samples) for tenant in session.exec(query)
            ]
            session.commit()
        return SpendRates(rates=rates)

    def _sample(self, session: Session, tenant: Tenant, now: datetime, period: str, trailing: int) -> SpendRate:
        counters = select(UsageCounter.metric, UsageCounter.value).where(
            UsageCounter.tenant_id == tenant.id, UsageCounter.period == period
        )
        spend = spend_micros(dict(session.exec(counters).all()))
        earlier = session.exec(
            select(SpendSample)
            .where(SpendSample.tenant_id == tenant.id)
            .order_by(col(SpendSample.at).desc())
            .limit(trailing)
        ).all()
        rate = _rate(earlier[0], spend, now, period) if earlier else None
        session.add(
            SpendSample(tenant_id=tenant.id, at=now, period=period, spend_micros=spend, rate_micros_per_hour=rate)
        )
        return SpendRate(
            tenant_id=tenant.id,
            spend_micros=spend,
            rate_micros_per_hour=rate,
            trailing_micros_per_hour=trailing_average(sample.rate_micros_per_hour for sample in earlier),
            throttled=tenant.max_concurrent_runs is not None or tenant.ai_paused,
        )

    @activity.defn(name="throttle_tenant")
    async def throttle_tenant(self, order: ThrottleOrder) -> bool:
        """Caps the tenant through its lifecycle; False when the lifecycle refused (deleted, purged)."""
        applied = await self._control.throttle_tenant(order.tenant_id, order.throttle)
        activity.logger.info("tenant throttle", extra={"tenant_id": order.tenant_id, "applied": applied})
        return applied


def _rate(previous: SpendSample, spend: int, now: datetime, period: str) -> int | None:
    """Micro-dollars an hour since `previous`; a new period starts its spend from zero."""
    hours = (now - previous.at).total_seconds() / 3600
    if hours < MIN_SAMPLE_INTERVAL_H:
        return None
    spent = spend - previous.spend_micros if previous.period == period else spend
    return round(max(spent, 0) / hours)
