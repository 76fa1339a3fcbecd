"""Tenants and their API keys: creating them, finding the tenant a caller may see, and a tenant together
with the state its lifecycle workflow owns (status, history, throttle)."""

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from core.errors import ApiError
from core.security import new_api_key
from core.settings import Settings
from domain.api_keys import audit_key
from schemas.api import KeyRole
from schemas.i18n import tr
from schemas.tables import ApiKey, AuditEntry, Tenant
from schemas.tenants import (
    ApiKeyCreated,
    TenantChange,
    TenantCreate,
    TenantCreated,
    TenantDetail,
    TenantPublic,
    TenantState,
    Throttle,
    ThrottleLift,
)
from starters.tenants import ensure_lifecycle, lifecycle_state

AUDITED = {"suspend": "tenant.suspended", "resume": "tenant.resumed", "delete": "tenant.deleted",
           "restore": "tenant.restored"}  # fmt: skip

# Builds the answer to a refused lifecycle update from the tenant's current status, when the refusal names it.
Refusal = Callable[[str | None], ApiError]


async def add_tenant(engine: Engine, temporal: Client, settings: Settings, body: TenantCreate) -> TenantCreated:
    """Creates the tenant with its first (admin) API key, then starts its lifecycle workflow."""
    created = await asyncio.to_thread(_insert_tenant, engine, body)
    await ensure_lifecycle(temporal, created.tenant.id, settings.tenant_grace_period_s, settings.task_queue)
    return created


async def add_keyless_tenant(engine: Engine, temporal: Client, settings: Settings, body: TenantCreate) -> TenantPublic:
    """`add_tenant` without the first API key, whose plaintext nobody would see: a team that signs itself up gets
    its admin user instead, who makes keys when they are wanted."""
    tenant = await asyncio.to_thread(_insert_keyless_tenant, engine, body)
    await ensure_lifecycle(temporal, tenant.id, settings.tenant_grace_period_s, settings.task_queue)
    return tenant


def _insert_keyless_tenant(engine: Engine, body: TenantCreate) -> TenantPublic:
    with Session(engine, expire_on_commit=False) as session:
        tenant = Tenant(name=body.name.strip(), plan=body.plan)
        session.add(tenant)
        session.commit()
        return TenantPublic.model_validate(tenant, from_attributes=True)


def all_tenants(session: Session) -> list[TenantPublic]:
    """Every tenant, oldest first."""
    tenants = session.exec(select(Tenant).order_by(col(Tenant.created_at))).all()
    return [TenantPublic.model_validate(tenant, from_attributes=True) for tenant in tenants]


def visible_tenant(session: Session, tenant_id: str, scope: str | None) -> Tenant:
    """The tenant, if `scope` (the caller's own tenant id; None for the founder, who sees all) may see it;
    404 otherwise, so another tenant's id answers exactly as one that does not exist."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None or not (scope is None or scope == tenant.id):
        raise ApiError(404, "tenant_not_found", tr("No tenant with this id"), field="tenant_id")
    return tenant


def find_tenant(engine: Engine, tenant_id: str, scope: str | None) -> Tenant:
    """`visible_tenant` in a session of its own; the row stays readable after it closes."""
    with Session(engine, expire_on_commit=False) as session:
        return visible_tenant(session, tenant_id, scope)


def add_api_key(session: Session, tenant_id: str, role: KeyRole, label: str | None, actor: str) -> ApiKeyCreated:
    """Issues, audits and commits another key for the tenant; its plaintext is in this answer only."""
    key = _issue_key(session, tenant_id, role, label, actor)
    session.commit()
    return key


async def describe_tenant(engine: Engine, temporal: Client, tenant_id: str, scope: str | None) -> TenantDetail:
    """The visible tenant with its lifecycle's state; only the row's fields when the lifecycle cannot answer."""
    tenant = await asyncio.to_thread(find_tenant, engine, tenant_id, scope)
    state = await lifecycle_state(temporal, tenant_id)
    if state is None:
        return TenantDetail.model_validate(tenant, from_attributes=True)
    return _detail(tenant, state)


async def update_lifecycle(
    engine: Engine,
    temporal: Client,
    settings: Settings,
    tenant_id: str,
    update: Any,
    message: TenantChange | Throttle | ThrottleLift,
    refused: Refusal,
    purged: ApiError,
) -> TenantDetail:
    """Sends any tenant's lifecycle `update` (starting the lifecycle if it is not running) and answers the
    tenant with the state the update returns. 404 for an unknown tenant, `refused(current status)` when the
    update's validator says no, `purged` when the lifecycle has ended."""
    tenant = await asyncio.to_thread(find_tenant, engine, tenant_id, None)
    handle = await ensure_lifecycle(temporal, tenant.id, settings.tenant_grace_period_s, settings.task_queue)
    try:
        state = await handle.execute_update(update, message)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        raise refused(cause.details[0] if isinstance(cause, ApplicationError) and cause.details else None) from err
    except RPCError as err:  # the lifecycle has ended: the tenant was purged
        raise purged from err
    detail = _detail(tenant, state)
    if isinstance(message, TenantChange):  # throttles are audited by the lifecycle's own activity
        await asyncio.to_thread(_audit_change, engine, detail, message)
    return detail


def _audit_change(engine: Engine, detail: TenantDetail, change: TenantChange) -> None:
    """Records a lifecycle change as whoever asked for it (the JSON route's founder token, the panel's founder)."""
    entry = {"status": detail.status, "reason": change.reason}
    if detail.purge_at is not None:
        entry["purge_at"] = detail.purge_at.isoformat()
    with Session(engine) as session:
        session.add(AuditEntry(tenant_id=detail.id, actor=change.by[:100], action=AUDITED[change.name], detail=entry))
        session.commit()


def _detail(tenant: Tenant, state: TenantState) -> TenantDetail:
    """The row's fields with the lifecycle's state, which owns status, history and throttle."""
    public = TenantPublic.model_validate(tenant, from_attributes=True).model_dump(exclude={"status"})
    return TenantDetail(
        **public, status=state.status, history=state.history, purge_at=state.purge_at, throttle=state.throttle
    )


def _insert_tenant(engine: Engine, body: TenantCreate) -> TenantCreated:
    with Session(engine, expire_on_commit=False) as session:
        tenant = Tenant(name=body.name.strip(), plan=body.plan)
        session.add(tenant)
        session.flush()
        key = _issue_key(session, tenant.id, "admin", "first key", "founder")
        session.commit()
        return TenantCreated(tenant=TenantPublic.model_validate(tenant, from_attributes=True), api_key=key)


def _issue_key(session: Session, tenant_id: str, role: KeyRole, label: str | None, actor: str) -> ApiKeyCreated:
    fresh = new_api_key()
    row = ApiKey(tenant_id=tenant_id, role=role, prefix=fresh.prefix, key_hash=fresh.key_hash, label=label)
    session.add(row)
    session.flush()
    audit_key(session, row, "api_key.created", actor)
    return ApiKeyCreated(
        id=row.id, tenant_id=tenant_id, role=role, prefix=fresh.prefix, label=label, key=fresh.plaintext
    )
