"""Usage: the current billing period's counters against the plan's limits."""

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api.deps import CallerDep, EngineDep
from core.errors import ApiError
from domain.usage import period_usage
from schemas.i18n import tr
from schemas.usage import UsagePublic

router = APIRouter(prefix="/api", tags=["usage"])


@router.get("/usage")
async def get_usage(
    caller: CallerDep, engine: EngineDep, tenant_id: Annotated[str | None, Query(max_length=36)] = None
) -> UsagePublic:
    """This month's runs, steps, API calls and AI credits against the plan; the founder names a tenant.
    API calls and runs of unlimited plans are counted in memory and written every few seconds."""
    if caller.is_founder and tenant_id is None:
        raise ApiError(
            422, "tenant_id_required", tr("The founder names the tenant with ?tenant_id="), field="tenant_id"
        )
    wanted = tenant_id or caller.tenant_id
    if not caller.is_founder and wanted != caller.tenant_id:
        wanted = None  # another tenant's usage answers exactly as a tenant that does not exist
    return await run_in_threadpool(period_usage, engine, wanted)
