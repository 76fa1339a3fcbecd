"""Tenants and their API keys. The founder creates tenants; a tenant admin may add keys to its own tenant."""

from typing import Literal

from fastapi import APIRouter, status
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from api.deps import CallerDep, EngineDep, FounderDep, SessionDep, SettingsDep, TemporalDep
from core.errors import ApiError
from core.security import new_api_key
from orchestrator.tenant_lifecycle import TenantLifecycle
from schemas.api import (
    ApiKeyCreate,
    ApiKeyCreated,
    KeyRole,
    TenantChangeCreate,
    TenantCreate,
    TenantCreated,
    TenantDetail,
    TenantPublic,
)
from schemas.tables import ApiKey, Tenant
from schemas.tenants import TenantChange, TenantState
from starters.tenants import ensure_lifecycle, tenant_workflow_id

router = APIRouter(prefix="/api/tenants", tags=["tenants"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_tenant(
    body: TenantCreate, _founder: FounderDep, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> TenantCreated:
    """Create a tenant, its lifecycle workflow and its first (admin) API key, shown only in this answer."""
    created = await run_in_threadpool(_create_tenant, engine, body)
    await ensure_lifecycle(temporal, created.tenant.id, settings.tenant_grace_period_s, settings.task_queue)
    return created


@router.get("")
def list_tenants(_founder: FounderDep, session: SessionDep) -> list[TenantPublic]:
    """Every tenant (founder only)."""
    tenants = session.query(Tenant).order_by(Tenant.created_at).all()
    return [TenantPublic.model_validate(tenant, from_attributes=True) for tenant in tenants]


@router.get("/{tenant_id}")
async def get_tenant(tenant_id: str, caller: CallerDep, engine: EngineDep, temporal: TemporalDep) -> TenantDetail:
    """One tenant with its state and the history of its transitions (founder: any; a key: its own)."""
    tenant = await run_in_threadpool(_visible_tenant_by_id, engine, tenant_id, caller)
    try:
        state = await temporal.get_workflow_handle(tenant_workflow_id(tenant_id)).query(TenantLifecycle.state)
    except RPCError:
        return TenantDetail.model_validate(tenant, from_attributes=True)
    return tenant_detail(tenant, state)


@router.post("/{tenant_id}/api-keys", status_code=status.HTTP_201_CREATED)
def create_api_key(tenant_id: str, body: ApiKeyCreate, caller: CallerDep, session: SessionDep) -> ApiKeyCreated:
    """Issue another API key for a tenant (founder, or an admin key of that tenant)."""
    tenant = _visible_tenant(session, tenant_id, caller)
    if not caller.is_founder and caller.role != "admin":
        raise ApiError(403, "admin_only", "Only an admin key may issue keys", field="authorization")
    key = _issue_key(session, tenant.id, body.role, body.label)
    session.commit()
    return key


# Declared after /api-keys, whose literal path must match first.
@router.post("/{tenant_id}/{transition}")
async def change_tenant(
    tenant_id: str, transition: Literal["suspend", "resume", "delete", "restore"], body: TenantChangeCreate,
    founder: FounderDep, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep,
) -> TenantDetail:
    """Suspend, resume, delete (soft, restorable for the grace period) or restore a tenant (founder)."""
    tenant = await run_in_threadpool(_visible_tenant_by_id, engine, tenant_id, founder)
    handle = await ensure_lifecycle(temporal, tenant.id, settings.tenant_grace_period_s, settings.task_queue)
    try:
        state = await handle.execute_update(
            TenantLifecycle.change, TenantChange(name=transition, by="founder", reason=body.reason)
        )
    except WorkflowUpdateFailedError as err:
        current = err.cause.details[0] if isinstance(err.cause, ApplicationError) and err.cause.details else None
        raise ApiError(409, "illegal_transition", f"Cannot {transition} a tenant that is {current}",
                       field="transition", current_state=current) from err
    except RPCError as err:  # the lifecycle has ended: the tenant was purged
        raise ApiError(409, "illegal_transition", f"Cannot {transition} a purged tenant", field="transition",
                       current_state="purged") from err
    return tenant_detail(tenant, state)


def tenant_detail(tenant: Tenant, state: TenantState) -> TenantDetail:
    """The row's fields with the lifecycle's state, which owns status, history and throttle."""
    public = TenantPublic.model_validate(tenant, from_attributes=True).model_dump(exclude={"status"})
    return TenantDetail(**public, status=state.status, history=state.history, purge_at=state.purge_at,
                        throttle=state.throttle)


def _create_tenant(engine: EngineDep, body: TenantCreate) -> TenantCreated:
    with Session(engine, expire_on_commit=False) as session:
        tenant = Tenant(name=body.name.strip(), plan=body.plan)
        session.add(tenant)
        session.flush()
        key = _issue_key(session, tenant.id, "admin", "first key")
        session.commit()
        return TenantCreated(tenant=TenantPublic.model_validate(tenant, from_attributes=True), api_key=key)


def _visible_tenant_by_id(engine: EngineDep, tenant_id: str, caller: CallerDep) -> Tenant:
    with Session(engine, expire_on_commit=False) as session:
        return _visible_tenant(session, tenant_id, caller)


def _visible_tenant(session: SessionDep, tenant_id: str, caller: CallerDep) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None or not (caller.is_founder or caller.tenant_id == tenant.id):
        raise ApiError(404, "tenant_not_found", "No tenant with this id", field="tenant_id")
    return tenant


def _issue_key(session: SessionDep, tenant_id: str, role: KeyRole, label: str | None) -> ApiKeyCreated:
    fresh = new_api_key()
    row = ApiKey(tenant_id=tenant_id, role=role, prefix=fresh.prefix, key_hash=fresh.key_hash, label=label)
    session.add(row)
    session.flush()
    return ApiKeyCreated(id=row.id, tenant_id=tenant_id, role=role, prefix=fresh.prefix, key=fresh.plaintext)
