"""The calling tenant's data-subject requests (GDPR/CCPA): export its data, delete its account, list
requests."""

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from api.deps import CallersDep, CurrentTenant, EngineDep, SessionDep, SettingsDep, TemporalDep, require_admin
from domain.data_requests import request_account_deletion, start_export, tenant_data_requests, tenant_export
from schemas.data_requests import (
    AccountDeletionStarted,
    DataExportPublic,
    DataExportStarted,
    DataRequestPublic,
)
from schemas.i18n import tr

router = APIRouter(prefix="/api/me", tags=["data requests"])


@router.post("/export-data", status_code=status.HTTP_202_ACCEPTED)
async def export_data(
    tenant: CurrentTenant, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> DataExportStarted:
    """Start exporting all of the tenant's data as one JSON archive (admin keys only)."""
    require_admin(tenant, tr("data requests"))
    return await start_export(engine, temporal, settings.task_queue, str(tenant.tenant_id), str(tenant.key_id))


@router.get("/export-data/{request_id}", response_model=DataExportPublic)
def get_export(request_id: str, tenant: CurrentTenant, session: SessionDep) -> DataExportPublic | JSONResponse:
    """The export's archive once it is ready; 202 `{"status": "pending"}` while it is gathered (admin keys
    only)."""
    require_admin(tenant, tr("data requests"))
    export = tenant_export(session, str(tenant.tenant_id), request_id)
    if export.status == "pending":
        pending = {"status": "pending", "request_id": export.id}
        return JSONResponse(status_code=status.HTTP_202_ACCEPTED, content=pending)
    return export


@router.post("/delete-account", status_code=status.HTTP_202_ACCEPTED)
async def delete_account(
    tenant: CurrentTenant, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep, callers: CallersDep
) -> AccountDeletionStarted:
    """Delete the tenant's account: soft at once, purged when the grace period ends (admin keys only). From
    then on its keys may only read its data requests and state (403 `tenant_deleted` otherwise)."""
    require_admin(tenant, tr("the account"))
    started = await request_account_deletion(engine, temporal, settings, str(tenant.tenant_id), str(tenant.key_id))
    callers.forget(tenant_id=tenant.tenant_id)
    return started


@router.get("/data-requests")
def list_data_requests(tenant: CurrentTenant, session: SessionDep) -> list[DataRequestPublic]:
    """The tenant's data-subject requests with their deadlines, newest first; archives are not included."""
    return tenant_data_requests(session, str(tenant.tenant_id))
