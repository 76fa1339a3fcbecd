"""Compliance reports for the founder: listing them, reading one with its findings, and starting an audit
now. The ComplianceAudit workflow fills the reports in."""

from datetime import UTC, datetime
from uuid import uuid4

from anyio import to_thread
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from temporalio.client import Client

from core.errors import ApiError
from core.settings import Settings
from orchestrator.compliance_audit import ComplianceAudit
from schemas.compliance import (
    ComplianceRunStarted,
    FindingPublic,
    ReportDetail,
    ReportPage,
    ReportSummary,
    Severity,
)
from schemas.i18n import tr
from schemas.tables import AuditEntry, ComplianceFinding, ComplianceReport, Tenant
from starters.platform_schedules import compliance_audit_input, compliance_audit_workflow_id


def report_page(
    session: Session,
    status: str | None,
    since: datetime | None,
    with_severity: Severity | None,
    limit: int,
    offset: int,
) -> ReportPage:
    """Reports newest first, from `offset`, at most `limit`, with the total that match: of `status`, started
    at or after `since` (naive means UTC), with a finding of `with_severity`."""
    query = select(ComplianceReport)
    if status is not None:
        query = query.where(ComplianceReport.status == status)
    if since is not None:
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        query = query.where(col(ComplianceReport.started_at) >= since)
    if with_severity is not None:
        having = select(ComplianceFinding.report_id).where(ComplianceFinding.severity == with_severity)
        query = query.where(col(ComplianceReport.id).in_(having))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    newest_first = query.order_by(col(ComplianceReport.started_at).desc())
    rows = session.exec(newest_first.offset(offset).limit(limit)).all()
    return ReportPage(
        reports=[ReportSummary.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        offset=offset,
        limit=limit,
    )


def report_detail(
    session: Session, report_id: str, severity: Severity | None, tenant_id: str | None, check: str | None
) -> ReportDetail:
    """The report and its findings, most severe first, only those matching the filters that are given;
    404 `report_not_found`."""
    report = session.get(ComplianceReport, report_id)
    if report is None:
        raise ApiError(404, "report_not_found", tr("No compliance report with this id"), field="report_id")
    query = select(ComplianceFinding).where(ComplianceFinding.report_id == report_id)
    for column, value in (
        (ComplianceFinding.severity, severity),
        (ComplianceFinding.tenant_id, tenant_id),
        (ComplianceFinding.check, check),
    ):
        if value is not None:
            query = query.where(column == value)
    findings = sorted(session.exec(query).all(), key=lambda f: (-f.penalty, f.check, f.title))
    return ReportDetail(
        **ReportSummary.model_validate(report, from_attributes=True).model_dump(),
        findings=[FindingPublic.model_validate(f, from_attributes=True) for f in findings],
    )


async def start_founder_audit(
    engine: Engine, temporal: Client, settings: Settings, tenant_id: str | None
) -> ComplianceRunStarted:
    """Opens the report's row (status `running`, readable at once), then starts the ComplianceAudit of every
    tenant, or of `tenant_id` only; 404 `tenant_not_found` for a tenant that does not exist."""
    report_id = str(uuid4())
    await to_thread.run_sync(_open_founder_report, engine, report_id, tenant_id)
    workflow_id = compliance_audit_workflow_id(report_id)
    await temporal.start_workflow(
        ComplianceAudit.run,
        compliance_audit_input(settings, report_id, tenant_id, "founder"),
        id=workflow_id,
        task_queue=settings.task_queue,
    )
    return ComplianceRunStarted(report_id=report_id, workflow_id=workflow_id)


async def start_audit_as(
    engine: Engine, temporal: Client, settings: Settings, tenant_id: str | None, actor: str
) -> ComplianceRunStarted:
    """`start_founder_audit` on behalf of `actor` (a founder signed in to the panel), audited."""
    started = await start_founder_audit(engine, temporal, settings, tenant_id)
    detail = {"report_id": started.report_id, "scope": tenant_id or "all tenants"}
    entry = AuditEntry(tenant_id=tenant_id, actor=actor[:100], action="compliance.audit_started", detail=detail)
    await to_thread.run_sync(_add_entry, engine, entry)
    return started


def _add_entry(engine: Engine, entry: AuditEntry) -> None:
    with Session(engine) as session:
        session.add(entry)
        session.commit()


def _open_founder_report(engine: Engine, report_id: str, tenant_id: str | None) -> None:
    with Session(engine) as session:
        if tenant_id is not None and session.get(Tenant, tenant_id) is None:
            raise ApiError(404, "tenant_not_found", tr("No tenant with this id"), field="tenant_id")
        session.add(
            ComplianceReport(id=report_id, trigger="founder", tenant_id=tenant_id, started_at=datetime.now(UTC))
        )
        session.commit()
