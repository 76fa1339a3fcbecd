"""Workflow pages: the list with search, a workflow's page (versions and a diff between two, schedules with their
wording and next fire times, the webhook, recent runs), the webhook's create/rotate form, and the visual editor.

Every read and change goes through the domain functions the JSON API uses; the editor itself talks to the JSON API
(schema, validate, create, new version) with the session cookie and the CSRF header."""

import json
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client
from temporalio.service import RPCError

from api.deps import (
    Caller,
    EngineDep,
    HookCache,
    HooksDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
    UsageDep,
    require_admin,
)
from api.web.deps import PageCaller
from api.web.locale import page_redirect
from api.web.pages import render
from core.errors import ApiError
from core.settings import Settings
from domain import definition_views, runs, schedules, webhooks
from domain.definitions import tenant_definition
from language.purpose import stored_purpose
from schemas.i18n import Text, tr
from schemas.tables import WorkflowDefinitionRow, WorkflowVersionRow
from schemas.webhooks import WebhookConfig, WebhookPublic

router = APIRouter(prefix="/app/workflows", include_in_schema=False)
log = structlog.get_logger()
RECENT_RUNS = 10
LISTED_SCHEDULES = 20
RUN_PAGE = "/app/runs/{run_id}"


@router.get("")
def list_page(request: Request, caller: PageCaller, session: SessionDep, q: str = "") -> HTMLResponse:
    """The tenant's workflows whose name contains `q`, newest change first."""
    if caller.tenant_id is None:
        return _render(request, "workflows/list.html", title=tr("Workflows"), founder=True)
    found = definition_views.find_definitions(session, caller.tenant_id, q)
    return _render(request, "workflows/list.html", title=tr("Workflows"), workflows=found, q=q)


@router.get("/new")
def new_page(request: Request, caller: PageCaller) -> HTMLResponse:
    """The editor with an empty definition; saving stores version 1."""
    _tenant(caller)
    return _render(request, "workflows/editor.html", title=tr("New workflow"), workflow=None, definition=None)


@router.get("/{workflow_id}")
async def workflow_page(
    request: Request, workflow_id: str, caller: PageCaller, session: SessionDep, engine: EngineDep,
    temporal: TemporalDep, settings: SettingsDep, old: int | None = None, new: int | None = None,
) -> HTMLResponse:  # fmt: skip
    """One workflow: its versions (with a diff of `old` against `new`), schedules, webhook and recent runs."""
    row = await run_in_threadpool(tenant_definition, session, workflow_id, _tenant(caller))
    context = await _detail(request, session, engine, temporal, settings, row, old, new)
    return _render(request, "workflows/detail.html", title=row.name, **context)


@router.get("/{workflow_id}/edit")
def edit_page(request: Request, workflow_id: str, caller: PageCaller, session: SessionDep) -> HTMLResponse:
    """The editor on the latest version; saving stores the next one."""
    row = tenant_definition(session, workflow_id, _tenant(caller))
    latest = definition_views.version_bodies(session, row.id)[0]
    return _render(
        request, "workflows/editor.html", title=tr("Edit %(name)s", name=row.name), workflow=row, definition=latest.body
    )


@router.post("/{workflow_id}/webhook")
async def put_webhook(
    request: Request, workflow_id: str, caller: PageCaller, session: SessionDep, engine: EngineDep,
    temporal: TemporalDep, settings: SettingsDep, hooks: HooksDep, signed: Annotated[bool, Form()] = False,
) -> HTMLResponse:  # fmt: skip
    """Creates the hook or rotates its token and signing secret; this answer is the only place either is shown."""
    row = await run_in_threadpool(tenant_definition, session, workflow_id, _tenant(caller))
    status, extra = await run_in_threadpool(_put_hook, session, caller, row, signed, settings, hooks)
    context = await _detail(request, session, engine, temporal, settings, row, None, None)
    return _render(request, "workflows/detail.html", status=status, title=row.name, **context, **extra)


@router.post("/{workflow_id}/runs")
async def start_run(
    request: Request, workflow_id: str, caller: PageCaller, session: SessionDep, engine: EngineDep,
    temporal: TemporalDep, settings: SettingsDep, usage: UsageDep,
    run_input: Annotated[str, Form(alias="input", max_length=64 * 1024)] = "{}",
) -> Response:  # fmt: skip
    """Starts a run of the latest version with a JSON object as its input, through the same admission as the
    API's starts, and opens its page; a refusal (bad input, limits, a paused tenant) is shown on the workflow's."""
    row = await run_in_threadpool(tenant_definition, session, workflow_id, _tenant(caller))
    try:
        payload = _json_object(run_input)
        accepted = await runs.start_api_run(engine, temporal, settings, usage, row.id, row.tenant_id, payload, None)
    except ApiError as err:
        context = await _detail(request, session, engine, temporal, settings, row, None, None)
        return _render(
            request, "workflows/detail.html", status=err.status, title=row.name, **context,
            run_error=err.message, run_input=run_input,
        )  # fmt: skip
    return page_redirect(request, RUN_PAGE.format(run_id=accepted.run_id))


def _json_object(text: str) -> dict[str, Any]:
    """The run's input: a JSON object, else 422 naming the field."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ApiError(422, "invalid_input", tr("The run's input must be a JSON object, such as {}"), field="input")
    return value


def _tenant(caller: Caller) -> str:
    """Workflows belong to a tenant: the founder's own session has none to show (404)."""
    if caller.tenant_id is None:
        raise ApiError(404, "workflow_not_found", tr("No workflow with this id"), field="workflow_id")
    return caller.tenant_id


def _put_hook(
    session: Session, caller: Caller, row: WorkflowDefinitionRow, signed: bool, settings: Settings, hooks: HookCache
) -> tuple[int, dict[str, Any]]:
    """Creates or rotates the hook (admins only); the page's status and what it shows, a refusal included."""
    try:
        require_admin(caller, tr("webhooks"))
        hook, _created = webhooks.put_hook(session, row.id, row.tenant_id, WebhookConfig(signed=signed), settings)
    except ApiError as err:
        session.rollback()
        return err.status, {"hook_error": err.message}
    hooks.forget_where(lambda known: known.definition_id == row.id)  # the old URL stops working at once
    return 200, {"new_hook": hook, "hook_url": settings.web_base_url.rstrip("/") + hook.url}


async def _detail(
    request: Request, session: Session, engine: Engine, temporal: Client, settings: Settings,
    row: WorkflowDefinitionRow, old: int | None, new: int | None,
) -> dict[str, Any]:  # fmt: skip
    versions, hook = await run_in_threadpool(_stored, session, row.id)
    context: dict[str, Any] = {"workflow": row, "versions": versions, "diff": _diff(versions, old, new), "hook": hook}
    context["purpose"] = stored_purpose(versions[0].body)
    context["schedules"], context["schedules_error"] = await _outside(
        schedules.list_definition_schedules(engine, temporal, row.tenant_id, row.id, LISTED_SCHEDULES)
    )
    token_key = settings.levqor_founder_token.get_secret_value()
    page, context["runs_error"] = await _outside(
        runs.list_runs(engine, temporal, row.tenant_id, row.id, None, RECENT_RUNS, None, token_key)
    )
    context["runs"] = page.runs if page else []
    context["run_page"] = RUN_PAGE if _has_route(request, RUN_PAGE) else None
    return context


def _diff(versions: list[WorkflowVersionRow], old: int | None, new: int | None) -> Any:
    """The diff the page shows: `old` against `new`, by default the latest against the one before it."""
    by_number = {v.version: v for v in versions}
    if len(versions) < 2:
        return None
    newer = by_number.get(new if new is not None else versions[0].version)
    older = by_number.get(old if old is not None else versions[1].version)
    if newer is None or older is None:
        raise ApiError(404, "version_not_found", tr("The workflow has no such version"), field="version")
    return definition_views.version_diff(older, newer)


def _stored(session: Session, definition_id: str) -> tuple[list[WorkflowVersionRow], WebhookPublic | None]:
    """The definition's versions (newest first) and its hook's configuration (None without one)."""
    versions = definition_views.version_bodies(session, definition_id)
    try:
        return versions, webhooks.hook_config(session, definition_id)
    except ApiError:
        return versions, None


async def _outside(pending: Any) -> tuple[Any, Text | str | None]:
    """What Temporal answered, or a sentence for the page when it could not (the rest of the page still shows)."""
    try:
        return await pending, None
    except ApiError as err:
        return None, err.message
    except RPCError as err:
        log.warning("workflow page read failed", error=str(err))
        return None, tr("Temporal did not answer; try again in a moment.")


def _has_route(request: Request, path: str) -> bool:
    return any(getattr(route, "path", None) == path for route in request.app.routes)


def _render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return render(request, template, status=status, section="workflows", **context)
