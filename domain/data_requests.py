"""A tenant's data-subject requests (GDPR/CCPA): recording one with its legal deadline and audit entry,
reading an export, listing them. The DataExport workflow and the tenant's lifecycle complete them."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from core.errors import ApiError
from schemas.data_requests import DataExportPublic, DataRequestPublic, RequestKind
from schemas.tables import AuditEntry, DataRequest

# GDPR art. 12(3): one month to answer a data-subject request.
RESPONSE_DEADLINE = timedelta(days=30)
AUDIT_ACTIONS: dict[RequestKind, str] = {"export": "data_export_requested", "erasure": "account_deletion_requested"}


def record_data_request(engine: Engine, tenant_id: str, key_id: str, kind: RequestKind) -> DataRequest:
    """The pending request, due RESPONSE_DEADLINE from now, and its audit entry, in one transaction."""
    now = datetime.now(UTC)
    with Session(engine, expire_on_commit=False) as session:
        request = DataRequest(tenant_id=tenant_id, kind=kind, requested_at=now, deadline_at=now + RESPONSE_DEADLINE)
        session.add(request)
        session.add(AuditEntry(tenant_id=tenant_id, actor=key_id, action=AUDIT_ACTIONS[kind],
                               detail={"request_id": request.id, "deadline_at": request.deadline_at.isoformat()}))
        session.commit()
        return request


def tenant_export(session: Session, tenant_id: str, request_id: str) -> DataExportPublic:
    """The tenant's export request with its archive once ready; 404 `data_request_not_found` for another
    tenant's request, an erasure or an unknown id."""
    row = session.get(DataRequest, request_id)
    if row is None or row.tenant_id != tenant_id or row.kind != "export":
        raise ApiError(404, "data_request_not_found", "No export with this id", field="request_id")
    return DataExportPublic.model_validate(row, from_attributes=True)


def tenant_data_requests(session: Session, tenant_id: str) -> list[DataRequestPublic]:
    """The tenant's requests, newest first, without archives."""
    rows = session.exec(select(DataRequest).where(DataRequest.tenant_id == tenant_id)
                        .order_by(col(DataRequest.requested_at).desc())).all()
    return [DataRequestPublic.model_validate(row, from_attributes=True) for row in rows]
