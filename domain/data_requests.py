"""A tenant's data-subject requests (GDPR/CCPA): starting an export, deleting the account, reading an
export, listing them. Each is recorded with its legal deadline and an audit entry; the DataExport workflow
and the tenant's lifecycle complete them."""

from datetime import UTC, datetime, timedelta

from anyio import to_thread
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from core.errors import ApiError
from core.settings import Settings
from orchestrator.data_export import DataExport, export_workflow_id
from orchestrator.tenant_lifecycle import TenantLifecycle
from schemas.data_requests import (
    AccountDeletionStarted,
    DataExportInput,
    DataExportPublic,
    DataExportStarted,
    DataRequestPublic,
    RequestKind,
)
from schemas.i18n import tr
from schemas.tables import AuditEntry, DataRequest
from schemas.tenants import STATUS_NAMES, TenantChange
from starters.tenants import ensure_lifecycle

# GDPR art. 12(3): one month to answer a data-subject request.
RESPONSE_DEADLINE = timedelta(days=30)
AUDIT_ACTIONS: dict[RequestKind, str] = {
    "export": "data_export_requested",
    "erasure": "account_deletion_requested",
}


async def start_export(
    engine: Engine, temporal: Client, task_queue: str, tenant_id: str, key_id: str
) -> DataExportStarted:
    """Records the export request, then starts the DataExport workflow that gathers the archive."""
    request = await to_thread.run_sync(record_data_request, engine, tenant_id, key_id, "export")
    workflow_id = export_workflow_id(request.id)
    await temporal.start_workflow(
        DataExport.run,
        DataExportInput(request_id=request.id, tenant_id=request.tenant_id),
        id=workflow_id,
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    return DataExportStarted(request_id=request.id, workflow_id=workflow_id)


async def request_account_deletion(
    engine: Engine, temporal: Client, settings: Settings, tenant_id: str, key_id: str
) -> AccountDeletionStarted:
    """Deletes the tenant through its lifecycle (soft now, purged when the grace period ends), then records
    the erasure request, which the purge completes. 409 `illegal_transition` when the lifecycle refuses."""
    handle = await ensure_lifecycle(temporal, tenant_id, settings.tenant_grace_period_s, settings.task_queue)
    change = TenantChange(name="delete", by=f"key:{key_id}", reason="data-subject erasure request")
    try:
        state = await handle.execute_update(TenantLifecycle.change, change)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        current = cause.details[0] if isinstance(cause, ApplicationError) and cause.details else None
        raise ApiError(
            409,
            "illegal_transition",
            tr("Cannot delete an account that is %(state)s", state=STATUS_NAMES.get(str(current), str(current))),
            field="authorization",
            current_state=current,
        ) from err
    except RPCError as err:  # the lifecycle has ended: the tenant was purged
        raise ApiError(
            409,
            "illegal_transition",
            tr("Cannot delete a purged account"),
            field="authorization",
            current_state="purged",
        ) from err
    request = await to_thread.run_sync(record_data_request, engine, tenant_id, key_id, "erasure")
    return AccountDeletionStarted(request_id=request.id, state=state.status, purge_at=state.purge_at)


def record_data_request(engine: Engine, tenant_id: str, key_id: str, kind: RequestKind) -> DataRequest:
    """The pending request, due RESPONSE_DEADLINE from now, and its audit entry, in one transaction."""
    now = datetime.now(UTC)
    with Session(engine, expire_on_commit=False) as session:
        request = DataRequest(tenant_id=tenant_id, kind=kind, requested_at=now, deadline_at=now + RESPONSE_DEADLINE)
        detail = {"request_id": request.id, "deadline_at": request.deadline_at.isoformat()}
        session.add(request)
        session.add(AuditEntry(tenant_id=tenant_id, actor=key_id, action=AUDIT_ACTIONS[kind], detail=detail))
        session.commit()
        return request


def tenant_export(session: Session, tenant_id: str, request_id: str) -> DataExportPublic:
    """The tenant's export request with its archive once ready; 404 `data_request_not_found` for another
    tenant's request, an erasure or an unknown id."""
    row = session.get(DataRequest, request_id)
    if row is None or row.tenant_id != tenant_id or row.kind != "export":
        raise ApiError(404, "data_request_not_found", tr("No export with this id"), field="request_id")
    return DataExportPublic.model_validate(row, from_attributes=True)


def tenant_data_requests(session: Session, tenant_id: str) -> list[DataRequestPublic]:
    """The tenant's requests, newest first, without archives."""
    rows = session.exec(
        select(DataRequest).where(DataRequest.tenant_id == tenant_id).order_by(col(DataRequest.requested_at).desc())
    ).all()
    return [DataRequestPublic.model_validate(row, from_attributes=True) for row in rows]
