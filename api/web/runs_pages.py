"""Run pages: the list with filters and pages, a run's page (timeline picture, steps, error and healing suggestion,
actions) and the fragment its page polls while the run is in flight.

Reads go through the domain functions the JSON API uses (`list_runs`, `found_run`, `read_run`): the same tenant
wall (another tenant's run answers the 404 page) and the same listing, paged by the listing's own sealed tokens."""

from datetime import UTC, date, datetime
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine
from sqlalchemy.exc import NoResultFound
from sqlmodel import Session

from api.deps import Caller, EngineDep, SessionDep, SettingsDep, TemporalDep
from api.web.deps import PageCaller
from api.web.pages import page_locale, render
from api.web.runs_view import (
    TRIGGERS,
    PageFilter,
    in_flight,
    live_state,
    may_cancel,
    may_decide,
    may_retry,
    start_range,
    step_views,
)
from api.web.timeline import timeline_svg
from core.errors import ApiError
from domain import failures, runs
from domain.definitions import list_definitions, parsed_version
from schemas.i18n import tr
from schemas.runs import RunPublic, RunStatus

router = APIRouter(prefix="/app/runs", include_in_schema=False)
PAGE_SIZE = 25
# With the filter the listing has no query for (trigger), a page is read wider and filtered here.
FILTERED_PAGE_SIZE = 200
RUN_STATUSES: tuple[RunStatus, ...] = (
    "running", "waiting_approval", "completed", "failed", "rejected", "cancelled", "refused",
)  # fmt: skip
NOTICES = {
    "cancel": tr("Cancellation requested: the run stops at the step it is on."),
    "retried": tr("This is the re-driven run: it resumes at the step that failed."),
    "approve": tr("Approved: the run goes on."),
    "reject": tr("Rejected: the run ends at this gate."),
}
Text = Annotated[str, Query(max_length=64)]


@router.get("")
async def list_page(
    request: Request, caller: PageCaller, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep,
    session: SessionDep, workflow_id: Text = "", status: Text = "", trigger: Text = "", started_from: Text = "",
    started_to: Text = "", page_token: Annotated[str | None, Query(max_length=2000)] = None,
) -> HTMLResponse:  # fmt: skip
    """The caller's runs, newest first, filtered by workflow, status and start date (the listing's own query)
    and by trigger (on the page the listing answered); one page at a time."""
    chosen = _choice(status, RUN_STATUSES, "status")
    kept = PageFilter(_choice(trigger, TRIGGERS, "trigger"))
    started = runs.StartRange(*start_range(_day(started_from, "started_from"), _day(started_to, "started_to")))
    if workflow_id and not workflow_id.replace("-", "").isalnum():
        raise ApiError(422, "invalid_filter", tr("Unknown workflow"), field="workflow_id")
    size = FILTERED_PAGE_SIZE if kept.active else PAGE_SIZE
    token_key = settings.levqor_founder_token.get_secret_value()
    page = await runs.list_runs(
        engine, temporal, caller.tenant_id, workflow_id or None, chosen, size, page_token, token_key, started
    )
    names = _workflow_names(session, caller)
    return render(
        request, "runs/list.html", title=tr("Runs"), section="runs", runs=[r for r in page.runs if kept.keeps(r)],
        next_page_token=page.next_page_token, names=names, statuses=RUN_STATUSES, triggers=TRIGGERS,
        filters={"workflow_id": workflow_id, "status": status, "trigger": trigger, "started_from": started_from,
                 "started_to": started_to}, filtered_here=kept.active, first_page=page_token is None,
    )  # fmt: skip


@router.get("/{run_id}")
async def run_page(
    request: Request, run_id: str, caller: PageCaller, engine: EngineDep, temporal: TemporalDep, done: Text = ""
) -> HTMLResponse:
    """One run: header, timeline picture, each step's configuration and result, the failure and its healing
    suggestion, and the buttons the caller may use."""
    context = await _run_context(engine, temporal, caller, run_id, page_locale(request))
    title = tr("Run of %(workflow)s", workflow=context["workflow_name"])
    return render(request, "runs/run.html", title=title, section="runs", notice=NOTICES.get(done), **context)


@router.get("/{run_id}/live")
async def live_fragment(
    request: Request, run_id: str, caller: PageCaller, engine: EngineDep, temporal: TemporalDep, state: Text = ""
) -> Response:
    """The part of a run's page that moves (status, timeline, steps), which the page polls while the run is in
    flight; once the buttons would change (the run closed, a gate opened) it asks htmx to reload the page, and
    so it does when the run can no longer be read (the page then shows why, instead of a fragment of an error)."""
    try:
        context = await _run_context(engine, temporal, caller, run_id, page_locale(request))
    except ApiError:
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    response: Response = render(request, "runs/_live.html", **context)
    if state != context["state"]:
        response.headers["HX-Refresh"] = "true"
    return response


async def _run_context(engine: Engine, temporal: Any, caller: Caller, run_id: str, tag: str) -> dict[str, Any]:
    run = await runs.read_run(await runs.found_run(engine, temporal, run_id, caller.tenant_id))
    name, planned = await to_thread.run_sync(_definition, engine, run)
    failure = await to_thread.run_sync(_failure, engine, run, caller) if run.status == "failed" else None
    return {
        "run": run,
        "workflow_name": name,
        "timeline": timeline_svg(run, datetime.now(UTC), [str(step.get("id")) for step in planned], tag),
        "steps": step_views(run, planned),
        "failure": failure,
        "live": in_flight(run),
        "state": live_state(run),
        "may_cancel": may_cancel(run),
        "may_retry": run.status == "failed" and may_retry(caller),
        "may_decide": may_decide(caller, run.waiting),
    }


def _definition(engine: Engine, run: RunPublic) -> tuple[str, list[dict[str, Any]]]:
    """The run's definition version's name and steps (as JSON), or the id alone if the version cannot be read."""
    try:
        definition = parsed_version(engine, run.definition_id, run.version)
    except (ApiError, NoResultFound):  # a purged tenant's version: the run's record still reads
        return run.definition_id, []
    return definition.name, definition.model_dump(mode="json", by_alias=True, exclude_none=True)["steps"]


def _failure(engine: Engine, run: RunPublic, caller: Caller) -> Any:
    with Session(engine) as session:
        return failures.failure_of_run(session, run.run_id, caller.tenant_id)


def _workflow_names(session: Session, caller: Caller) -> dict[str, str]:
    """The tenant's workflow names by id (the founder, seeing every tenant's runs, gets ids)."""
    if caller.tenant_id is None:
        return {}
    return {summary.id: summary.name for summary in list_definitions(session, caller.tenant_id)}


def _choice(value: str, allowed: tuple[str, ...], field: str) -> Any:
    if not value:
        return None
    if value not in allowed:
        raise ApiError(422, "invalid_filter", tr("Unknown %(field)s", field=field), field=field)
    return value


def _day(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(422, "invalid_filter", tr("Dates are written YYYY-MM-DD"), field=field) from None
