"""Compliance reports (founder only): list them, read one with its findings, start an audit now."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, status

from api.deps import EngineDep, FounderDep, SessionDep, SettingsDep, TemporalDep
from domain.compliance import report_detail, report_page, start_founder_audit
from schemas.compliance import ComplianceRunCreate, ComplianceRunStarted, ReportDetail, ReportPage, Severity

router = APIRouter(prefix="/api/compliance", tags=["compliance"])


@router.get("/reports")
def list_reports(
    _founder: FounderDep,
    session: SessionDep,
    status: Literal["running", "completed"] | None = None,
    since: datetime | None = None,
    with_severity: Annotated[Severity | None, Query(description="only reports with a finding of this severity")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ReportPage:
    """Compliance reports, newest first, with their score and counts per severity."""
    return report_page(session, status, since, with_severity, limit, offset)


@router.get("/reports/{report_id}")
def get_report(
    report_id: str,
    _founder: FounderDep,
    session: SessionDep,
    severity: Severity | None = None,
    tenant_id: Annotated[str | None, Query(max_length=36)] = None,
    check: Annotated[str | None, Query(max_length=64)] = None,
) -> ReportDetail:
    """One report and its findings, most severe first; filter by severity, tenant or check."""
    return report_detail(session, report_id, severity, tenant_id, check)


@router.post("/reports/run", status_code=status.HTTP_202_ACCEPTED)
async def run_audit(
    _founder: FounderDep,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    body: Annotated[ComplianceRunCreate | None, Body()] = None,
) -> ComplianceRunStarted:
    """Start a compliance audit now; answers the report's id, readable at once (status `running`)."""
    return await start_founder_audit(engine, temporal, settings, body.tenant_id if body else None)
