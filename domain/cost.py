"""The founder's view of cost: every live tenant's spend and throttle, and the recent throttle actions."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowFailureError

from core.errors import ApiError
from core.settings import Settings
from orchestrator.cost_autopilot import CostAutopilot
from rules.cost import trailing_average
from rules.usage import period_of, spend_micros
from schemas.cost import CostAction, CostAutopilotResult, CostOverview, TenantCost
from schemas.i18n import tr
from schemas.tables import AuditEntry, SpendSample, Tenant, UsageCounter

ACTIONS = ("tenant.throttled", "tenant.throttle_lifted")
RECENT_ACTIONS = 100


def cost_overview(
    engine: Engine, trailing_samples: int, spike_factor: float, floor_usd_per_hour: float
) -> CostOverview:
    """Each tenant not purged, oldest first, with its spend this period, its latest sampled rate against the
    average of up to `trailing_samples` earlier ones, and its throttle; the latest throttle actions first."""
    period = period_of(datetime.now(UTC))
    with Session(engine) as session:
        tenants = session.exec(select(Tenant).where(Tenant.status != "purged").order_by(col(Tenant.created_at))).all()
        used: dict[str, dict[str, int]] = {}
        for row in session.exec(select(UsageCounter).where(UsageCounter.period == period)):
            used.setdefault(row.tenant_id, {})[row.metric] = row.value
        costs = [_tenant_cost(session, tenant, used.get(tenant.id, {}), trailing_samples) for tenant in tenants]
        audit = session.exec(
            select(AuditEntry)
            .where(col(AuditEntry.action).in_(ACTIONS))
            .order_by(col(AuditEntry.at).desc())
            .limit(RECENT_ACTIONS)
        ).all()
        actions = [CostAction.model_validate(entry, from_attributes=True) for entry in audit]
    return CostOverview(
        spike_factor=spike_factor, floor_usd_per_hour=floor_usd_per_hour, tenants=costs, actions=actions
    )


def _tenant_cost(session: Session, tenant: Tenant, used: dict[str, int], trailing: int) -> TenantCost:
    samples = session.exec(
        select(SpendSample)
        .where(SpendSample.tenant_id == tenant.id)
        .order_by(col(SpendSample.at).desc())
        .limit(trailing + 1)
    ).all()
    latest = samples[0] if samples else None
    earlier = trailing_average(sample.rate_micros_per_hour for sample in samples[1:])
    return TenantCost(
        tenant_id=tenant.id,
        name=tenant.name,
        plan=tenant.plan,
        status=tenant.status,
        period_spend_usd=spend_micros(used) / 1e6,
        rate_usd_per_hour=latest.rate_micros_per_hour / 1e6
        if latest and latest.rate_micros_per_hour is not None
        else None,
        trailing_usd_per_hour=earlier / 1e6 if earlier is not None else None,
        sampled_at=latest.at if latest else None,
        max_concurrent_runs=tenant.max_concurrent_runs,
        ai_paused=tenant.ai_paused,
    )


async def check_now(temporal: Client, settings: Settings, tenant_ids: list[str] | None) -> CostAutopilotResult:
    """Runs the cost autopilot now (every live tenant, or the ones named) and answers what it found and did;
    503 `autopilot_failed` when its run fails."""
    try:
        return await temporal.execute_workflow(
            CostAutopilot.run,
            settings.cost_autopilot_input(tenant_ids),
            id=f"cost-autopilot-check-{uuid.uuid4()}",
            task_queue=settings.task_queue,
        )
    except WorkflowFailureError as err:
        raise ApiError(503, "autopilot_failed", tr("The cost autopilot could not finish; try again shortly")) from err
