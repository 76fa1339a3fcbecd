"""The cost autopilot for the founder: every tenant's spend and throttle, its actions, and lifting a throttle."""

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, FounderDep, SettingsDep, TemporalDep
from core.errors import ApiError
from domain import cost
from domain.cost import cost_overview
from domain.tenants import update_lifecycle
from orchestrator.tenant_lifecycle import TenantLifecycle
from schemas.cost import CostAutopilotResult, CostCheckCreate, CostOverview
from schemas.i18n import tr
from schemas.tenants import TenantDetail, Throttle, ThrottleCreate, ThrottleLift, ThrottleLiftCreate

router = APIRouter(prefix="/api/admin/cost", tags=["cost"])


@router.get("")
async def get_cost(_founder: FounderDep, engine: EngineDep, settings: SettingsDep) -> CostOverview:
    """Every tenant's spend this period, its latest rate against its trailing average, its throttle, and the
    autopilot's and founder's recent throttle actions."""
    return await run_in_threadpool(
        cost_overview,
        engine,
        settings.cost_trailing_samples,
        settings.cost_spike_factor,
        settings.cost_spike_floor_usd_per_hour,
    )


@router.post("/check")
async def check_cost(
    body: CostCheckCreate, _founder: FounderDep, temporal: TemporalDep, settings: SettingsDep
) -> CostAutopilotResult:
    """Run the cost autopilot now (all live tenants, or the ones named) and answer what it found and did."""
    return await cost.check_now(temporal, settings, body.tenant_ids)


@router.post("/{tenant_id}/throttle")
async def throttle_tenant(
    tenant_id: str,
    body: ThrottleCreate,
    _founder: FounderDep,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> TenantDetail:
    """Throttle a tenant by hand, as the autopilot would."""
    throttle = Throttle(
        max_concurrent_runs=body.max_concurrent_runs, ai_paused=body.ai_paused, by="founder", reason=body.reason
    )
    refused = ApiError(
        409, "illegal_transition", tr("Only an active or suspended tenant can be throttled"), field="tenant_id"
    )
    return await update_lifecycle(
        engine,
        temporal,
        settings,
        tenant_id,
        TenantLifecycle.throttle,
        throttle,
        refused=lambda _current: refused,
        purged=_purged(),
    )


@router.post("/{tenant_id}/lift")
async def lift_throttle(
    tenant_id: str,
    body: ThrottleLiftCreate,
    _founder: FounderDep,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> TenantDetail:
    """Lift a tenant's throttle: its plan's normal limits apply again."""
    lift = ThrottleLift(by="founder", reason=body.reason)
    refused = ApiError(409, "not_throttled", tr("This tenant is not throttled"), field="tenant_id")
    return await update_lifecycle(
        engine,
        temporal,
        settings,
        tenant_id,
        TenantLifecycle.lift_throttle,
        lift,
        refused=lambda _current: refused,
        purged=_purged(),
    )


def _purged() -> ApiError:
    return ApiError(409, "illegal_transition", tr("This tenant was purged"), field="tenant_id")
