"""The Admin Power Panel's compliance: the latest reports with their score (and its trend as a picture) and their
findings by severity; a report's findings in detail, filtered by severity; and "run the audit now" (every tenant,
or one), through the functions behind /api/compliance, audited as the founder. A running report's page refreshes
itself (htmx) until the audit has finished. Founders only: 404 for anyone else."""

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from api.deps import EngineDep, SessionDep, SettingsDep, TemporalDep
from api.web.admin_ops_view import SEVERITIES, formats, founder_actor
from api.web.deps import FounderPage
from api.web.locale import page_redirect
from api.web.ops_charts import band, score_svg, severity_svg
from api.web.pages import page_locale, render
from core.i18n import render as render_text
from domain.compliance import report_detail, report_page, start_audit_as
from domain.tenant_admin import tenant_list, tenant_names
from schemas.compliance import Severity
from schemas.i18n import tr

router = APIRouter(prefix="/admin/power/compliance", include_in_schema=False)
SHOWN = 20
ReportId = Annotated[str, Path(max_length=36)]


@router.get("")
def compliance_page(request: Request, _me: FounderPage, session: SessionDep) -> HTMLResponse:
    """The latest reports, newest first, with the score's trend and each report's findings by severity."""
    page = report_page(session, None, None, None, SHOWN, 0)
    locale = page_locale(request)
    scored = [r for r in page.reports if r.score is not None]
    chart = None
    if scored:
        title = render_text(tr("Compliance score of the latest reports"), locale)
        desc = render_text(
            tr("Scores of the last %(count)s reports, from %(oldest)s to %(newest)s of 100.", count=len(scored),
               oldest=scored[-1].score or 0, newest=scored[0].score or 0),
            locale,
        )  # fmt: skip
        chart = score_svg(page.reports, title, desc)
    scopes = tenant_names(session, {r.tenant_id for r in page.reports if r.tenant_id})
    return render(
        request, "admin/compliance.html", title=tr("Compliance"), section="admin", page=page, chart=chart,
        scopes=scopes, severities=SEVERITIES, band=band, tenants=tenant_list(session, None, None, 500).tenants,
        fmt=formats(request),
    )  # fmt: skip


@router.post("/run")
async def run_audit(
    request: Request, me: FounderPage, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep,
    tenant: Annotated[str, Form(max_length=36)] = "",
) -> RedirectResponse:  # fmt: skip
    """Starts a compliance audit now, of every tenant or of one; shows its report (running until it finishes)."""
    started = await start_audit_as(engine, temporal, settings, tenant or None, founder_actor(me))
    return page_redirect(request, f"/admin/power/compliance/{started.report_id}?started=1")


@router.get("/{report_id}")
def report_page_view(
    request: Request, report_id: ReportId, _me: FounderPage, session: SessionDep,
    severity: Annotated[Severity | None, Query()] = None, started: Annotated[bool, Query()] = False,
) -> HTMLResponse:  # fmt: skip
    """One report: its score, its findings by severity as a picture, and every finding, most severe first."""
    report = report_detail(session, report_id, severity, None, None)
    locale = page_locale(request)
    labels = {key: render_text(label, locale) for key, label in SEVERITIES.items()}
    chart = severity_svg(report.counts, labels, render_text(tr("Findings by severity"), locale))
    names = tenant_names(session, {f.tenant_id for f in report.findings if f.tenant_id} | {report.tenant_id or ""})
    return render(
        request, "admin/compliance_report.html", title=tr("Compliance report"), section="admin", report=report,
        chart=chart, names=names, severities=SEVERITIES, chosen=severity, band=band, started=started,
        fmt=formats(request),
    )  # fmt: skip
