"""The Admin Power Panel's failure queue: failed runs across tenants, newest failure first, with the error, the
attempts and AutoRecovery's healing suggestion; filtered by status, priority and tenant; and re-driving one run
through the same function as POST /api/runs/{id}/retry (it passes admission), audited as the founder, with the
outcome (the new run, or why it was refused) shown on the page. Founders only: 404 for anyone else."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.deps import EngineDep, SessionDep, SettingsDep, TemporalDep
from api.web.admin_ops_view import FAILURE_CATEGORIES, PRIORITIES, Formats, formats, founder_actor
from api.web.deps import FounderPage
from api.web.locale import page_redirect
from api.web.ops_charts import daily_svg
from api.web.pages import render
from core.errors import ApiError
from core.i18n import render as render_text
from domain.failures import failure_queue, failures_per_day, redrive_as
from domain.runs import found_run
from domain.tenant_admin import tenant_list
from schemas.i18n import tr, trn

router = APIRouter(prefix="/admin/power/failures", include_in_schema=False)
SHOWN = 100
DAYS = 14
StatusFilter = Literal["open", "redriven", "all"]
PriorityFilter = Literal["any", "critical", "high", "normal"]
RunId = Annotated[str, Path(max_length=64)]


@router.get("")
def failures_page(
    request: Request, _me: FounderPage, session: SessionDep,
    status: Annotated[StatusFilter, Query()] = "open", priority: Annotated[PriorityFilter, Query()] = "any",
    tenant: Annotated[str, Query(max_length=36)] = "", redriven: Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9-]*$")] = "",
) -> HTMLResponse:  # fmt: skip
    """Failed runs of every tenant (or one), most recent failure first, with AutoRecovery's suggestion."""
    return _page(request, session, status, priority, tenant, new_run=redriven or None)


@router.post("/{run_id}/redrive")
async def redrive(
    request: Request, run_id: RunId, me: FounderPage, engine: EngineDep, temporal: TemporalDep,
    settings: SettingsDep, session: SessionDep,
) -> Response:  # fmt: skip
    """Re-drives the failed run from its failed step; shows the new run, or why admission or the run refused."""
    try:
        run = await found_run(engine, temporal, run_id, None)
        accepted = await redrive_as(engine, temporal, settings, run, founder_actor(me))
    except ApiError as err:
        if err.status not in (403, 409, 429):
            raise
        return _page(request, session, "open", "any", "", code=err.status, error=err.message, refused_run=run_id)
    return page_redirect(request, f"/admin/power/failures?redriven={accepted.run_id}")


def _page(
    request: Request, session: Session, status: StatusFilter, priority: PriorityFilter, tenant: str,
    code: int = 200, **extra: object,
) -> HTMLResponse:  # fmt: skip
    queue = failure_queue(
        session, tenant or None, None if status == "all" else status, None if priority == "any" else priority, SHOWN
    )
    tenants = tenant_list(session, None, None, 500).tenants
    fmt = formats(request)
    return render(
        request, "admin/failures.html", status=code, title=tr("Failure queue"), section="admin", queue=queue,
        chosen_status=status, priority=priority, tenant=tenant, tenants=tenants, priorities=PRIORITIES,
        categories=FAILURE_CATEGORIES, fmt=fmt, shown=SHOWN, chart=_per_day(session, tenant or None, fmt), **extra,
    )  # fmt: skip


def _per_day(session: Session, tenant_id: str | None, fmt: Formats) -> str:
    """The last DAYS days' failed runs as columns, said in words for screen readers."""
    counts = failures_per_day(session, tenant_id, DAYS, datetime.now(UTC).date())
    total = sum(n for _day, n in counts)
    title = render_text(tr("Failed runs per day over the last %(days)s days", days=DAYS), fmt.tag)
    desc = render_text(
        trn("%(num)s run failed in these %(days)s days.", "%(num)s runs failed in these %(days)s days.", total,
            days=DAYS),
        fmt.tag,
    )  # fmt: skip
    return daily_svg(counts, [fmt.day(day) for day, _n in counts], title, desc)
