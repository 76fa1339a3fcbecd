"""Tenant schedules: run a definition on a cron expression or an interval, pause, change, trigger, delete."""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from starlette.concurrency import run_in_threadpool
from temporalio.client import ScheduleDescription
from temporalio.service import RPCError, RPCStatusCode

from api.admission import check_input, latest_definition
from api.deps import CallerDep, CurrentTenant, EngineDep, SettingsDep, TemporalDep
from core.errors import ApiError
from language.steps import WorkflowDefinition
from schemas.runs import RunInput
from schemas.schedules import ScheduleCreate, SchedulePublic, ScheduleUpdate
from starters import schedules
from starters.schedules import new_schedule_id

router = APIRouter(prefix="/api", tags=["schedules"])
DEFINITION_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
Limit = Annotated[int, Query(ge=1, le=schedules.MAX_LISTED)]
SPEC_FIELDS = {"time zone": "timezone", "interval": "interval_s"}  # words in the server's spec errors


@router.post("/workflows/{workflow_id}/schedules", status_code=status.HTTP_201_CREATED)
async def create_schedule(
    workflow_id: str, body: ScheduleCreate, tenant: CurrentTenant, engine: EngineDep, temporal: TemporalDep,
    settings: SettingsDep,
) -> SchedulePublic:
    """Run the latest version on a cron expression or every `interval_s` seconds, in `timezone`."""
    if (body.cron is None) == (body.interval_s is None):
        raise ApiError(422, "invalid_schedule", "Give exactly one of cron and interval_s", field="body.cron")
    tenant_id: str = tenant.tenant_id  # type: ignore[assignment]
    definition_id, version, definition = await run_in_threadpool(
        latest_definition, engine, workflow_id, tenant_id
    )
    check_input(definition, body.input)
    params = RunInput(
        run_id="", trigger="schedule", tenant_id=tenant_id, definition_id=definition_id, version=version,
        definition=definition.model_dump(mode="json"), input=body.input,
        retry_defaults=settings.retry_defaults(),
    )
    schedule_id = new_schedule_id()
    try:
        created = await schedules.create_schedule(
            temporal, schedule_id, params, body.timing(), settings.task_queue, body.paused, body.note
        )
    except RPCError as err:
        raise _refused_spec(err) from err
    return await schedules.public_schedule(created)


@router.get("/workflows/{workflow_id}/schedules")
async def list_workflow_schedules(
    workflow_id: str, caller: CallerDep, engine: EngineDep, temporal: TemporalDep, limit: Limit = 50
) -> list[SchedulePublic]:
    """The schedules of one definition."""
    if caller.is_founder:
        if not DEFINITION_ID.fullmatch(workflow_id):
            raise ApiError(404, "workflow_not_found", "No workflow with this id", field="workflow_id")
    else:
        workflow_id, _, _ = await run_in_threadpool(latest_definition, engine, workflow_id, caller.tenant_id)  # type: ignore[arg-type]
    found = await schedules.list_schedules(temporal, caller.tenant_id, workflow_id, limit)
    return [await schedules.public_schedule(d) for d in found]


@router.get("/schedules")
async def list_schedules(caller: CallerDep, temporal: TemporalDep, limit: Limit = 50) -> list[SchedulePublic]:
    """The caller's schedules, newest first; the founder sees every tenant's."""
    found = await schedules.list_schedules(temporal, caller.tenant_id, None, limit)
    return [await schedules.public_schedule(d) for d in found]


@router.get("/schedules/{schedule_id}")
async def get_schedule(schedule_id: str, caller: CallerDep, temporal: TemporalDep) -> SchedulePublic:
    """A schedule with its next three fire times and its recent runs."""
    return await schedules.public_schedule(await _owned(temporal, schedule_id, caller.tenant_id))


@router.patch("/schedules/{schedule_id}")
async def update_schedule(
    schedule_id: str, body: ScheduleUpdate, tenant: CurrentTenant, temporal: TemporalDep
) -> SchedulePublic:
    """Pause or resume (with a note), or change the timing, zone, input or overlap policy."""
    if body.cron is not None and body.interval_s is not None:
        raise ApiError(422, "invalid_schedule", "Give at most one of cron and interval_s", field="body.cron")
    current = await _owned(temporal, schedule_id, tenant.tenant_id)
    if body.input is not None:
        check_input(WorkflowDefinition.model_validate((await schedules.scheduled_input(current)).definition), body.input)
    try:
        await schedules.update_schedule(temporal, schedule_id, body)
    except RPCError as err:
        raise _refused_spec(err) from err
    return await schedules.public_schedule(await _owned(temporal, schedule_id, tenant.tenant_id))


@router.delete("/schedules/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_schedule(schedule_id: str, tenant: CurrentTenant, temporal: TemporalDep) -> None:
    """Stop and remove a schedule; runs it already started go on."""
    await _owned(temporal, schedule_id, tenant.tenant_id)
    await _not_found_as_404(temporal.get_schedule_handle(schedule_id).delete())


@router.post("/schedules/{schedule_id}/trigger", status_code=status.HTTP_202_ACCEPTED)
async def trigger_schedule(schedule_id: str, tenant: CurrentTenant, temporal: TemporalDep) -> dict[str, str]:
    """Fire once now, even while paused; the overlap policy still applies to a run in progress."""
    await _owned(temporal, schedule_id, tenant.tenant_id)
    await _not_found_as_404(temporal.get_schedule_handle(schedule_id).trigger())
    return {"schedule_id": schedule_id, "status": "triggered"}


async def _owned(temporal: TemporalDep, schedule_id: str, tenant_id: str | None) -> ScheduleDescription:
    """The schedule if the caller may see it; another tenant's answers exactly like a made-up id."""
    description = await schedules.owned_schedule(temporal, schedule_id, tenant_id)
    if description is None:
        raise ApiError(404, "schedule_not_found", "No schedule with this id", field="schedule_id")
    return description


async def _not_found_as_404(call: Any) -> None:
    try:
        await call
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        raise ApiError(404, "schedule_not_found", "No schedule with this id", field="schedule_id") from err


def _refused_spec(err: RPCError) -> Exception:
    """The server's own spec check (e.g. a cron form it does not take) as a 422; other errors as they are."""
    if err.status != RPCStatusCode.INVALID_ARGUMENT:
        return err
    field = next((f"body.{f}" for k, f in SPEC_FIELDS.items() if k in err.message), "body.cron")
    return ApiError(422, "invalid_schedule", f"Temporal refused the schedule: {err.message}", field=field)
