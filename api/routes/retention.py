"""Data retention: a tenant's policies per class of data; founders set them within the plan's bounds and
read the RetentionEnforcer's latest report."""

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api.deps import CallerDep, CurrentTenant, EngineDep, FounderDep, SessionDep
from domain.retention import latest_report, set_tenant_retention, tenant_retention
from schemas.retention import RetentionPublic, RetentionReportPublic, RetentionUpdate

router = APIRouter(prefix="/api", tags=["retention"])


@router.get("/retention")
def get_retention(tenant: CurrentTenant, session: SessionDep) -> RetentionPublic:
    """How long each class of the tenant's data is kept (days, from the plan or an override, and the bounds),
    with the oldest record kept of each."""
    return tenant_retention(session, tenant.tenant_id, tenant.tenant_id)


@router.get("/retention/reports/latest")
def get_latest_retention_report(
    _founder: FounderDep, session: SessionDep, limit: Annotated[int, Query(ge=1, le=5000)] = 500
) -> RetentionReportPublic:
    """The RetentionEnforcer's latest pass: when, and what it deleted per class and tenant (founder only)."""
    return latest_report(session, limit)


@router.get("/tenants/{tenant_id}/retention")
def get_tenant_retention(tenant_id: str, caller: CallerDep, session: SessionDep) -> RetentionPublic:
    """A tenant's retention policies and oldest records kept (founder: any tenant; a key: its own)."""
    return tenant_retention(session, tenant_id, caller.tenant_id)


@router.put("/tenants/{tenant_id}/retention")
async def set_retention(
    tenant_id: str, body: RetentionUpdate, _founder: FounderDep, engine: EngineDep
) -> RetentionPublic:
    """Set a tenant's retention per class within its plan's bounds; null goes back to the plan's default
    (founder only, audited)."""
    return await run_in_threadpool(set_tenant_retention, engine, tenant_id, body, "founder")
