"""Compliance reports for the founder: listing them, reading one with its findings, and opening the row of
an audit started now. The ComplianceAudit workflow fills the reports in."""

from datetime import UTC, datetime

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from core.errors import ApiError
from schemas.compliance import Severity
from schemas.compliance_api import FindingPublic, ReportDetail, ReportPage, ReportSummary
from schemas.tables import ComplianceFinding, ComplianceReport, Tenant


def report_page(session: Session, status: str | None, since: datetime | None, with_severity: Severity | None,
                limit: int, offset: int) -> ReportPage:
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
    return ReportPage(reports=[ReportSummary.model_validate(r, from_attributes=True) for r in rows],
                      total=total, offset=offset, limit=limit)


def report_detail(session: Session, report_id: str, severity: Severity | None, tenant_id: str | None,
                  check: str | None) -> ReportDetail:
    """The report and its findings, most severe first, only those matching the filters that are given;
    404 `report_not_found`."""
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


def open_founder_report(engine: Engine, report_id: str, tenant_id: str | None) -> None:
    """The `running` row of a report the founder starts now, readable before the audit writes anything;
    404 `tenant_not_found` when the audit is for a tenant that does not exist."""
    with Session(engine) as session:
        if tenant_id is not None and session.get(Tenant, tenant_id) is None:
            raise ApiError(404, "tenant_not_found", "No tenant with this id", field="tenant_id")
        session.add(ComplianceReport(id=report_id, trigger="founder", tenant_id=tenant_id,
                                     started_at=datetime.now(UTC)))
        session.commit()
