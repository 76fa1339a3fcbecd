"""Compliance reports (founder only): list them, read one with its findings, start an audit now."""

from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import uuid4

from fastapi import APIRouter, Body, Query, status
from sqlalchemy import func
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, FounderDep, SessionDep, SettingsDep, TemporalDep
from core.errors import ApiError
from orchestrator.compliance_audit import ComplianceAudit
from schemas.compliance import Severity
from schemas.compliance_api import (
    ComplianceRunCreate,
    ComplianceRunStarted,
    FindingPublic,
    ReportDetail,
    ReportPage,
    ReportSummary,
)
from schemas.tables import ComplianceFinding, ComplianceReport, Tenant
from starters.platform_schedules import compliance_audit_input, compliance_audit_workflow_id

router = APIRouter(prefix="/api/compliance", tags=["compliance"])


@router.get("/reports")
def list_reports(
    _founder: FounderDep, session: SessionDep,
    status: Literal["running", "completed"] | None = None,
    since: datetime | None = None,
    with_severity: Annotated[Severity | None, Query(description="only reports with a finding of this severity")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ReportPage:
    """Compliance reports, newest first, with their score and counts per severity."""
    query = select(ComplianceReport)
    if status is not None:
        query = query.where(ComplianceReport.status == status)
    if since is not None:
        query = query.where(col(ComplianceReport.started_at) >= (since if since.tzinfo else since.replace(tzinfo=UTC)))
    if with_severity is not None:
        having = select(ComplianceFinding.report_id).where(ComplianceFinding.severity == with_severity)
        query = query.where(col(ComplianceReport.id).in_(having))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(ComplianceReport.started_at).desc()).offset(offset).limit(limit)).all()
    return ReportPage(reports=[ReportSummary.model_validate(r, from_attributes=True) for r in rows],
                      total=total, offset=offset, limit=limit)


@router.get("/reports/{report_id}")
def get_report(
    report_id: str, _founder: FounderDep, session: SessionDep,
    severity: Severity | None = None,
    tenant_id: Annotated[str | None, Query(max_length=36)] = None,
    check: Annotated[str | None, Query(max_length=64)] = None,
) -> ReportDetail:
    """One report and its findings, most severe first; filter by severity, tenant or check."""
    report = session.get(ComplianceReport, report_id)
    if report is None:
        raise ApiError(404, "report_not_found", "No compliance report with this id", field="report_id")
    query = select(ComplianceFinding).where(ComplianceFinding.report_id == report_id)
    for column, value in ((ComplianceFinding.severity, severity), (ComplianceFinding.tenant_id, tenant_id),
                          (ComplianceFinding.check, check)):
        if value is not None:
            query = query.where(column == value)
    findings = sorted(session.exec(query).all(), key=lambda f: (-f.penalty, f.check, f.title))
    return ReportDetail(**ReportSummary.model_validate(report, from_attributes=True).model_dump(),
                        findings=[FindingPublic.model_validate(f, from_attributes=True) for f in findings])


@router.post("/reports/run", status_code=status.HTTP_202_ACCEPTED)
async def run_audit(
    _founder: FounderDep, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep,
    body: Annotated[ComplianceRunCreate | None, Body()] = None,
) -> ComplianceRunStarted:
    """Start a compliance audit now; answers the report's id, readable at once (status `running`)."""
    tenant_id = body.tenant_id if body else None
    report_id = str(uuid4())
    await run_in_threadpool(_open_report, engine, report_id, tenant_id)
    workflow_id = compliance_audit_workflow_id(report_id)
    await temporal.start_workflow(
        ComplianceAudit.run, compliance_audit_input(settings, report_id, tenant_id, "founder"),
        id=workflow_id, task_queue=settings.task_queue,
    )
    return ComplianceRunStarted(report_id=report_id, workflow_id=workflow_id)


def _open_report(engine: EngineDep, report_id: str, tenant_id: str | None) -> None:
    with Session(engine) as session:
        if tenant_id is not None and session.get(Tenant, tenant_id) is None:
            raise ApiError(404, "tenant_not_found", "No tenant with this id", field="tenant_id")
        session.add(ComplianceReport(id=report_id, trigger="founder", tenant_id=tenant_id,
                                     started_at=datetime.now(UTC)))
        session.commit()
