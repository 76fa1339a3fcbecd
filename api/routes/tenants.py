"""Tenants and their API keys. The founder creates tenants; the founder or a tenant's admin key lists, adds and
revokes that tenant's keys."""

from typing import Literal

from fastapi import APIRouter, status

from api.deps import (
    Caller,
    CallerDep,
    CallersDep,
    EngineDep,
    FounderDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
    audit_actor,
)
from core.errors import ApiError
from domain.api_keys import revoke_key, tenant_keys
from domain.tenants import (
    add_api_key,
    add_tenant,
    all_tenants,
    describe_tenant,
    update_lifecycle,
    visible_tenant,
)
from orchestrator.tenant_lifecycle import TenantLifecycle
from schemas.i18n import Text, tr
from schemas.tenants import (
    STATUS_NAMES,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    TenantChange,
    TenantChangeCreate,
    TenantCreate,
    TenantCreated,
    TenantDetail,
    TenantPublic,
)

router = APIRouter(prefix="/api/tenants", tags=["tenants"])
# Why each change is refused, one sentence per change: of a purged tenant, and of one in a state it does not leave.
PURGED_REFUSALS: dict[str, Text] = {
    "suspend": tr("Cannot suspend a purged tenant"),
    "resume": tr("Cannot resume a purged tenant"),
    "delete": tr("Cannot delete a purged tenant"),
    "restore": tr("Cannot restore a purged tenant"),
}
STATE_REFUSALS: dict[str, Text] = {
    "suspend": tr("Cannot suspend a tenant that is %(state)s"),
    "resume": tr("Cannot resume a tenant that is %(state)s"),
    "delete": tr("Cannot delete a tenant that is %(state)s"),
    "restore": tr("Cannot restore a tenant that is %(state)s"),
}


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
    """Issue another API key for a tenant, with an optional label (founder, or an admin key of that tenant)."""
    tenant = visible_tenant(session, tenant_id, caller.tenant_id)
    _require_key_admin(caller, tr("issue keys"))
    return add_api_key(session, tenant.id, body.role, body.label, audit_actor(caller))


@router.get("/{tenant_id}/api-keys")
def list_api_keys(tenant_id: str, caller: CallerDep, session: SessionDep) -> list[ApiKeyPublic]:
    """A tenant's keys, revoked ones included: prefix, role, label, created, last used; never the key
    (founder, or an admin key of that tenant)."""
    tenant = visible_tenant(session, tenant_id, caller.tenant_id)
    _require_key_admin(caller, tr("list keys"))
    return tenant_keys(session, tenant.id)


@router.delete("/{tenant_id}/api-keys/{key_id}")
def revoke_api_key(
    tenant_id: str, key_id: str, caller: CallerDep, session: SessionDep, callers: CallersDep
) -> ApiKeyPublic:
    """Revoke a key: refused at once by this process, within API_KEY_CACHE_TTL_S by every other. A tenant's
    admin cannot revoke its last admin key (409 `last_admin_key`); the founder can."""
    tenant = visible_tenant(session, tenant_id, caller.tenant_id)
    _require_key_admin(caller, tr("revoke keys"))
    revoked = revoke_key(session, tenant.id, key_id, audit_actor(caller), caller.is_founder)
    callers.forget(key_id=revoked.id)
    return revoked


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
    callers: CallersDep,
) -> TenantDetail:
    """Suspend, resume, delete (soft, restorable for the grace period) or restore a tenant (founder); its keys
    follow the new state at once in this process, within API_KEY_CACHE_TTL_S in every other."""
    change = TenantChange(name=transition, by="founder", reason=body.reason)
    purged = ApiError(
        409,
        "illegal_transition",
        PURGED_REFUSALS[transition],
        field="transition",
        current_state="purged",
    )
    detail = await update_lifecycle(
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
            STATE_REFUSALS[transition].model_copy(
                update={"params": {"state": STATUS_NAMES.get(str(current), str(current))}}
            ),
            field="transition",
            current_state=current,
        ),
    )
    callers.forget(tenant_id=detail.id)
    return detail


def _require_key_admin(caller: Caller, what: str | Text) -> None:
    if not caller.is_founder and caller.role != "admin":
        raise ApiError(403, "admin_only", tr("Only an admin key may %(act)s", act=what), field="authorization")
