"""The cost autopilot for the founder: every tenant's spend and throttle, its actions, and lifting a throttle."""

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.service import RPCError

from api.deps import EngineDep, FounderDep, SettingsDep, TemporalDep
from api.routes.tenants import tenant_detail
from core.errors import ApiError
from orchestrator.cost_autopilot import CostAutopilot
from orchestrator.tenant_lifecycle import TenantLifecycle
from rules.usage import period_of, spend_micros
from schemas.api import CostCheckCreate, TenantDetail, ThrottleCreate, ThrottleLiftCreate
from schemas.cost import CostAction, CostAutopilotResult, CostOverview, TenantCost
from schemas.tables import AuditEntry, SpendSample, Tenant, UsageCounter
from schemas.tenants import Throttle, ThrottleLift
from starters.tenants import ensure_lifecycle

router = APIRouter(prefix="/api/admin/cost", tags=["cost"])
ACTIONS = ("tenant.throttled", "tenant.throttle_lifted")
RECENT_ACTIONS = 100


@router.get("")
async def get_cost(_founder: FounderDep, engine: EngineDep, settings: SettingsDep) -> CostOverview:
    """Every tenant's spend this period, its latest rate against its trailing average, its throttle, and the
    autopilot's and founder's recent throttle actions."""
    tenants, actions = await run_in_threadpool(_overview, engine, settings.cost_trailing_samples)
    return CostOverview(spike_factor=settings.cost_spike_factor, floor_usd_per_hour=settings.cost_spike_floor_usd_per_hour,
                        tenants=tenants, actions=actions)


@router.post("/check")
async def check_cost(
    body: CostCheckCreate, _founder: FounderDep, temporal: TemporalDep, settings: SettingsDep
) -> CostAutopilotResult:
    """Run the cost autopilot now (all live tenants, or the ones named) and answer what it found and did."""
    try:
        return await temporal.execute_workflow(
            CostAutopilot.run, settings.cost_autopilot_input(body.tenant_ids), id=f"cost-autopilot-check-{uuid.uuid4()}",
            task_queue=settings.task_queue,
        )
    except WorkflowFailureError as err:
        raise ApiError(503, "autopilot_failed", "The cost autopilot could not finish; try again shortly") from err


@router.post("/{tenant_id}/throttle")
async def throttle_tenant(
    tenant_id: str, body: ThrottleCreate, _founder: FounderDep, engine: EngineDep, temporal: TemporalDep,
    settings: SettingsDep,
) -> TenantDetail:
    """Throttle a tenant by hand, as the autopilot would."""
    throttle = Throttle(max_concurrent_runs=body.max_concurrent_runs, ai_paused=body.ai_paused, by="founder",
                        reason=body.reason)
    refused = ApiError(409, "illegal_transition", "Only an active or suspended tenant can be throttled",
                       field="tenant_id")
    return await _update(tenant_id, engine, temporal, settings, TenantLifecycle.throttle, throttle, refused)


@router.post("/{tenant_id}/lift")
async def lift_throttle(
    tenant_id: str, body: ThrottleLiftCreate, _founder: FounderDep, engine: EngineDep, temporal: TemporalDep,
    settings: SettingsDep,
) -> TenantDetail:
    """Lift a tenant's throttle: its plan's normal limits apply again."""
    refused = ApiError(409, "not_throttled", "This tenant is not throttled", field="tenant_id")
    return await _update(tenant_id, engine, temporal, settings, TenantLifecycle.lift_throttle,
                         ThrottleLift(by="founder", reason=body.reason), refused)


async def _update(tenant_id: str, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep, update: Any,
                  message: Throttle | ThrottleLift, refused: ApiError) -> TenantDetail:
    """Sends the tenant's lifecycle `update`; `refused` when its validator says no."""
    tenant = await run_in_threadpool(_tenant, engine, tenant_id)
    handle = await ensure_lifecycle(temporal, tenant.id, settings.tenant_grace_period_s, settings.task_queue)
    try:
        state = await handle.execute_update(update, message)
    except WorkflowUpdateFailedError as err:
        raise refused from err
    except RPCError as err:  # the lifecycle has ended: the tenant was purged
        raise ApiError(409, "illegal_transition", "This tenant was purged", field="tenant_id") from err
    return tenant_detail(tenant, state)


def _tenant(engine: EngineDep, tenant_id: str) -> Tenant:
    with Session(engine, expire_on_commit=False) as session:
        tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise ApiError(404, "tenant_not_found", "No tenant with this id", field="tenant_id")
    return tenant


def _overview(engine: EngineDep, trailing: int) -> tuple[list[TenantCost], list[CostAction]]:
    period = period_of(datetime.now(UTC))
    with Session(engine) as session:
        tenants = session.exec(select(Tenant).where(Tenant.status != "purged").order_by(col(Tenant.created_at))).all()
        used: dict[str, dict[str, int]] = {}
        for row in session.exec(select(UsageCounter).where(UsageCounter.period == period)):
            used.setdefault(row.tenant_id, {})[row.metric] = row.value
        costs = [_tenant_cost(session, tenant, used.get(tenant.id, {}), trailing) for tenant in tenants]
        audit = session.exec(select(AuditEntry).where(col(AuditEntry.action).in_(ACTIONS))
                             .order_by(col(AuditEntry.at).desc()).limit(RECENT_ACTIONS)).all()
        actions = [CostAction.model_validate(entry, from_attributes=True) for entry in audit]
    return costs, actions


def _tenant_cost(session: Session, tenant: Tenant, used: dict[str, int], trailing: int) -> TenantCost:
    samples = session.exec(select(SpendSample).where(SpendSample.tenant_id == tenant.id)
                           .order_by(col(SpendSample.at).desc()).limit(trailing + 1)).all()
    latest = samples[0] if samples else None
    earlier = [s.rate_micros_per_hour for s in samples[1:] if s.rate_micros_per_hour is not None]
    return TenantCost(
        tenant_id=tenant.id, name=tenant.name, plan=tenant.plan, status=tenant.status,
        period_spend_usd=spend_micros(used) / 1e6,
        rate_usd_per_hour=latest.rate_micros_per_hour / 1e6 if latest and latest.rate_micros_per_hour is not None else None,
        trailing_usd_per_hour=sum(earlier) / len(earlier) / 1e6 if earlier else None,
        sampled_at=latest.at if latest else None, max_concurrent_runs=tenant.max_concurrent_runs,
        ai_paused=tenant.ai_paused,
    )
