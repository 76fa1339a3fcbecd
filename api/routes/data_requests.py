"""The calling tenant's data-subject requests (GDPR/CCPA): export its data, delete its account, list requests."""

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from api.deps import CurrentTenant, EngineDep, SessionDep, SettingsDep, TemporalDep, require_admin
from core.errors import ApiError
from domain.data_requests import record_data_request, tenant_data_requests, tenant_export
from orchestrator.data_export import DataExport, export_workflow_id
from orchestrator.tenant_lifecycle import TenantLifecycle
from schemas.data_requests import (
    AccountDeletionStarted,
    DataExportInput,
    DataExportPublic,
    DataExportStarted,
    DataRequestPublic,
)
from schemas.tenants import TenantChange
from starters.tenants import ensure_lifecycle

router = APIRouter(prefix="/api/me", tags=["data requests"])


@router.post("/export-data", status_code=status.HTTP_202_ACCEPTED)
async def export_data(
    tenant: CurrentTenant, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> DataExportStarted:
    """Start exporting all of the tenant's data as one JSON archive (admin keys only)."""
    require_admin(tenant, "data requests")
    request = await run_in_threadpool(record_data_request, engine, str(tenant.tenant_id), str(tenant.key_id), "export")
    workflow_id = export_workflow_id(request.id)
    await temporal.start_workflow(
        DataExport.run, DataExportInput(request_id=request.id, tenant_id=request.tenant_id), id=workflow_id,
        task_queue=settings.task_queue, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    return DataExportStarted(request_id=request.id, workflow_id=workflow_id)


@router.get("/export-data/{request_id}", response_model=DataExportPublic)
def get_export(request_id: str, tenant: CurrentTenant, session: SessionDep) -> DataExportPublic | JSONResponse:
    """The export's archive once it is ready; 202 `{"status": "pending"}` while it is gathered (admin keys only)."""
    require_admin(tenant, "data requests")
    export = tenant_export(session, str(tenant.tenant_id), request_id)
    if export.status == "pending":
        return JSONResponse(status_code=status.HTTP_202_ACCEPTED, content={"status": "pending", "request_id": export.id})
    return export


@router.post("/delete-account", status_code=status.HTTP_202_ACCEPTED)
async def delete_account(
    tenant: CurrentTenant, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> AccountDeletionStarted:
    """Delete the tenant's account: soft at once, purged when the grace period ends (admin keys only)."""
    require_admin(tenant, "the account")
    handle = await ensure_lifecycle(
        temporal, str(tenant.tenant_id), settings.tenant_grace_period_s, settings.task_queue
    )
    change = TenantChange(name="delete", by=f"key:{tenant.key_id}", reason="data-subject erasure request")
    try:
        state = await handle.execute_update(TenantLifecycle.change, change)
    except WorkflowUpdateFailedError as err:
        current = err.cause.details[0] if isinstance(err.cause, ApplicationError) and err.cause.details else None
        raise ApiError(409, "illegal_transition", f"Cannot delete an account that is {current}",
                       field="authorization", current_state=current) from err
    except RPCError as err:  # the lifecycle has ended: the tenant was purged
        raise ApiError(409, "illegal_transition", "Cannot delete a purged account", field="authorization",
                       current_state="purged") from err
    # Completed by the lifecycle's purge, when the personal data is actually erased.
    request = await run_in_threadpool(record_data_request, engine, str(tenant.tenant_id), str(tenant.key_id), "erasure")
    return AccountDeletionStarted(request_id=request.id, state=state.status, purge_at=state.purge_at)


@router.get("/data-requests")
def list_data_requests(tenant: CurrentTenant, session: SessionDep) -> list[DataRequestPublic]:
    """The tenant's data-subject requests with their deadlines, newest first; archives are not included."""
    return tenant_data_requests(session, str(tenant.tenant_id))

