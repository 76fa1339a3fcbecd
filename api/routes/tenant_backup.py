"""A tenant's own backup: export its configuration as one signed document, and restore one into an empty tenant
(the founder, or an admin key of that tenant; another tenant's id answers 404)."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, status

from api.deps import Caller, CallerDep, EngineDep, SessionDep, SettingsDep, TemporalDep
from core.errors import ApiError
from domain.tenant_backup import export_backup, restore_backup
from domain.tenants import visible_tenant
from schemas.i18n import tr
from schemas.tables import Tenant
from schemas.tenant_backup import TenantBackup, TenantRestored

router = APIRouter(prefix="/api/tenants", tags=["tenants"])
BackupDocument = Annotated[
    dict[str, Any],
    Body(description="A document `POST /api/tenants/{id}/backup` answered, sent back unchanged (TenantBackup)."),
]
DOCUMENT_SCHEMA = {"$ref": "#/components/schemas/TenantBackup"}


def administered_tenant(tenant_id: str, caller: CallerDep, session: SessionDep) -> Tenant:
    """The tenant, for the founder or an admin key of it: another tenant's id answers 404 like a made-up one,
    a member key of it 403. (A plain function: FastAPI runs its query in the thread pool.)"""
    tenant = visible_tenant(session, tenant_id, caller.tenant_id)
    if not caller.is_founder and caller.role != "admin":
        raise ApiError(
            403, "admin_only", tr("Only an admin key may back up or restore its tenant"), field="authorization"
        )
    return tenant


AdministeredTenant = Annotated[Tenant, Depends(administered_tenant)]


@router.post("/{tenant_id}/backup")
async def backup_tenant(
    tenant: AdministeredTenant,
    caller: CallerDep,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> TenantBackup:
    """Export the tenant's configuration as one signed document.

    Format `levqor.tenant-backup`, version 1: definitions with every version as stored, schedules, webhook
    settings, secret names and API keys (prefix, role, label). No URL token, signing secret, secret value or key
    hash is in it. 409 `backup_too_large` when it would hold more than a restore accepts."""
    return await export_backup(engine, temporal, settings, tenant, _actor(caller))


@router.post(
    "/{tenant_id}/backup/restore",
    status_code=status.HTTP_201_CREATED,
    responses={
        413: {
            "description": "The document is over API_MAX_BODY_BYTES (`payload_too_large`) or a schedule's input "
            "over its limit (`input_too_large`)."
        },
        429: {"description": "A schedule's admission: the plan's limit is used up or the cost throttle holds."},
    },
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": DOCUMENT_SCHEMA}}}},
)
async def restore_tenant_backup(
    tenant: AdministeredTenant,
    document: BackupDocument,
    caller: CallerDep,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> TenantRestored:
    """Restore a backup into an empty tenant.

    The signature, the format version, every definition version (the language's validator, against this
    tenant's plan) and every schedule are checked before anything is written (422); a tenant with definitions,
    schedules, webhooks or secrets answers 409 `tenant_not_empty`. Definitions keep their version numbers under
    new ids; webhooks get new credentials, shown only here; schedules pass the admission every schedule passes.
    The answer maps each source id to its new one and lists the secrets to set again and the keys to issue."""
    return await restore_backup(engine, temporal, settings, tenant.id, document, _actor(caller))


def _actor(caller: Caller) -> str:
    return "founder" if caller.is_founder else f"key:{caller.key_id}"
