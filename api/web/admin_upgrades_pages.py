"""The Admin Power Panel's upgrade plans as a board: four columns (open, in progress, applied, archived), most
urgent first in each; a card moves by dragging it (static/js/upgrade-board.js posts the move and is answered in
JSON) or with its own move form (no script needed). Either way the move is `set_plan_status`, the function behind
PATCH /api/guardian/upgrade/plans/{id}, audited as the founder; an illegal move is refused with its message. The
planner can be run now from here. Founders only: 404 for anyone else."""

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, SettingsDep, TemporalDep
from api.web.admin_ops_view import PLAN_COLUMNS, RISKS, formats, founder_actor, wants_json
from api.web.deps import FounderPage
from api.web.locale import page_redirect
from api.web.pages import page_locale, render
from core.errors import ApiError
from core.i18n import render as render_text
from domain.upgrades import plans_by_urgency, run_planner_as, set_plan_status
from schemas.i18n import tr
from schemas.upgrades import PlanStatus

router = APIRouter(prefix="/admin/power/upgrades", include_in_schema=False)
SHOWN = 200
PlanId = Annotated[str, Path(max_length=36)]


@router.get("")
async def board_page(
    request: Request, _me: FounderPage, engine: EngineDep,
    moved: Annotated[PlanStatus | None, Query()] = None,
    rebuilt: Annotated[str, Query(max_length=40, pattern=r"^[0-9,]*$")] = "",
) -> HTMLResponse:  # fmt: skip
    """Every plan on the board, most urgent first in each column."""
    notice = (
        tr("Moved to %(column)s.", column=render_text(PLAN_COLUMNS[moved], page_locale(request))) if moved else None
    )
    if rebuilt.count(",") == 2:
        created, refreshed, archived = rebuilt.split(",")
        notice = tr(
            "The planner ran: %(created)s new, %(refreshed)s refreshed, %(archived)s archived.",
            created=created, refreshed=refreshed, archived=archived,
        )  # fmt: skip
    return await _board(request, engine, notice=notice)


@router.post("/{plan_id}/move")
async def move_plan(
    request: Request, plan_id: PlanId, me: FounderPage, engine: EngineDep,
    status: Annotated[PlanStatus, Form()],
) -> Response:  # fmt: skip
    """Moves the plan to `status` as the signed-in founder; JSON for the board's script, else back to the board."""
    try:
        plan = await run_in_threadpool(set_plan_status, engine, plan_id, status, founder_actor(me))
    except ApiError as err:
        if err.status != 409:
            raise
        if wants_json(request):
            message = render_text(err.message, page_locale(request))
            return JSONResponse({"code": err.code, "message": message, "field": err.field}, status_code=409)
        return await _board(request, engine, status=409, error=err.message)
    if wants_json(request):
        column = render_text(PLAN_COLUMNS[plan.status], page_locale(request))
        message = render_text(
            tr("%(title)s moved to %(column)s.", title=plan.title, column=column), page_locale(request)
        )
        return JSONResponse({"id": plan.id, "status": plan.status, "message": message})
    return page_redirect(request, f"/admin/power/upgrades?moved={plan.status}")


@router.post("/rebuild")
async def rebuild(
    request: Request, me: FounderPage, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> RedirectResponse:
    """Runs the UpgradePlanner now (audited) and shows what it created, refreshed and archived."""
    result = await run_planner_as(engine, temporal, settings, founder_actor(me))
    figures = f"{result.created},{result.refreshed},{result.archived}"
    return page_redirect(request, f"/admin/power/upgrades?rebuilt={figures}")


async def _board(request: Request, engine: EngineDep, status: int = 200, **extra: object) -> HTMLResponse:
    plans = await run_in_threadpool(plans_by_urgency, engine, None, None, SHOWN)
    columns = {key: [p for p in plans if p.status == key] for key in PLAN_COLUMNS}
    return render(
        request, "admin/upgrades.html", status=status, title=tr("Upgrade plans"), section="admin", columns=columns,
        labels=PLAN_COLUMNS, risks=RISKS, fmt=formats(request), **extra,
    )  # fmt: skip
