"""Tenants and their API keys. The founder creates tenants; a tenant admin may add keys to its own tenant."""

from typing import Literal

from fastapi import APIRouter, status

from api.deps import CallerDep, EngineDep, FounderDep, SessionDep, SettingsDep, TemporalDep
from core.errors import ApiError
from domain.tenants import (
    add_api_key,
    add_tenant,
    all_tenants,
    describe_tenant,
    update_lifecycle,
    visible_tenant,
)
from orchestrator.tenant_lifecycle import TenantLifecycle
from schemas.tenants import (
    ApiKeyCreate,
    ApiKeyCreated,
    TenantChange,
    TenantChangeCreate,
    TenantCreate,
    TenantCreated,
    TenantDetail,
    TenantPublic,
)

router = APIRouter(prefix="/api/tenants", tags=["tenants"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_tenant(
    body: TenantCreate, _founder: FounderDep, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> TenantCreated:
    """Create a tenant, its lifecycle workflow and its first (admin) API key, shown only in this answer."""
    return await add_tenant(engine, temporal, settings, body)


@router.get("")
def list_tenants(_founder: FounderDep, session: SessionDep) -> list[TenantPublic]:
    """Every tenant (founder only)."""
    return all_tenants(session)


@router.get("/{tenant_id}")
async def get_tenant(tenant_id: str, caller: CallerDep, engine: EngineDep, temporal: TemporalDep) -> TenantDetail:
    """One tenant with its state and the history of its transitions (founder: any; a key: its own)."""
    return await describe_tenant(engine, temporal, tenant_id, caller.tenant_id)


@router.post("/{tenant_id}/api-keys", status_code=status.HTTP_201_CREATED)
def create_api_key(tenant_id: str, body: ApiKeyCreate, caller: CallerDep, session: SessionDep) -> ApiKeyCreated:
    """Issue another API key for a tenant (founder, or an admin key of that tenant)."""
    tenant = visible_tenant(session, tenant_id, caller.tenant_id)
    if not caller.is_founder and caller.role != "admin":
        raise ApiError(403, "admin_only", "Only an admin key may issue keys", field="authorization")
    return add_api_key(session, tenant.id, body.role, body.label)


# Declared after /api-keys, whose literal path must match first.
@router.post("/{tenant_id}/{transition}")
async def change_tenant(
    tenant_id: str,
    transition: Literal["suspend", "resume", "delete", "restore"],
    body: TenantChangeCreate,
    _founder: FounderDep,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> TenantDetail:
    """Suspend, resume, delete (soft, restorable for the grace period) or restore a tenant (founder)."""
    change = TenantChange(name=transition, by="founder", reason=body.reason)
    purged = ApiError(
        409, "illegal_transition", f"Cannot {transition} a purged tenant", field="transition", current_state="purged"
    )
    return await update_lifecycle(
        engine,
        temporal,
        settings,
        tenant_id,
        TenantLifecycle.change,
        change,
        purged=purged,
        refused=lambda current: ApiError(
            409,
            "illegal_transition",
            f"Cannot {transition} a tenant that is {current}",
            field="transition",
            current_state=current,
        ),
    )
