"""Tenant schedules: creating one through the same gate as every start, finding, listing, changing,
deleting and triggering them. Temporal Schedules hold them; nothing is stored in the database.

Creating, resuming, changing and triggering a schedule pass admission (nothing reserved: each fired run
is admitted again as its first step), so a tenant that may not run cannot set runs going this way."""

import re
from collections.abc import Awaitable
from typing import TypeVar

from anyio import to_thread
from sqlalchemy import Engine
from temporalio.client import Client, ScheduleDescription
from temporalio.service import RPCError, RPCStatusCode

from core.errors import ApiError
from core.settings import Settings
from domain.admission import check_active, check_input, check_may_run, check_system, latest_definition
from language.steps import WorkflowDefinition
from schemas.i18n import tr
from schemas.runs import RunInput
from schemas.schedules import ScheduleCreate, SchedulePublic, ScheduleTriggered, ScheduleUpdate
from starters import schedules
from starters.runs import LIFECYCLE_PAUSE
from starters.schedules import new_schedule_id

DEFINITION_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
T = TypeVar("T")
SPEC_FIELDS = {"time zone": "timezone", "interval": "interval_s"}  # words in the server's spec errors


async def create_schedule(
    engine: Engine, temporal: Client, settings: Settings, workflow_id: str, tenant_id: str, body: ScheduleCreate
) -> SchedulePublic:
    """Runs the definition's latest version on the body's timing. The definition must be the tenant's
    (404) and the tenant allowed to run it now (403, 429); the input is checked as every start checks it."""
    check_schedule(body)
    definition_id, version, definition = await to_thread.run_sync(latest_definition, engine, workflow_id, tenant_id)
    check_input(definition, body.input)
    await check_may_run(engine, temporal, tenant_id, definition)
    params = RunInput(
        run_id="",
        trigger="schedule",
        tenant_id=tenant_id,
        definition_id=definition_id,
        version=version,
        definition=definition.model_dump(mode="json"),
        input=body.input,
        retry_defaults=settings.retry_defaults(),
        closing_status_upsert=False,
    )
    try:
        created = await schedules.create_schedule(
            temporal, new_schedule_id(), params, body.timing(), settings.task_queue, body.paused, body.note
        )
    except RPCError as err:
        raise _refused_spec(err) from err
    return await schedules.public_schedule(created)


def check_schedule(body: ScheduleCreate) -> None:
    """What a new schedule's body must hold beyond its fields' own bounds: exactly one of cron and interval_s,
    and no note the platform reserves (422)."""
    if (body.cron is None) == (body.interval_s is None):
        raise ApiError(422, "invalid_schedule", tr("Give exactly one of cron and interval_s"), field="body.cron")
    _check_note(body.note)


async def list_schedules(temporal: Client, tenant_id: str | None, limit: int) -> list[SchedulePublic]:
    """The tenant's schedules (every tenant's when None), newest first."""
    return [
        await schedules.public_schedule(d) for d in await schedules.list_schedules(temporal, tenant_id, None, limit)
    ]


async def list_definition_schedules(
    engine: Engine, temporal: Client, tenant_id: str | None, workflow_id: str, limit: int
) -> list[SchedulePublic]:
    """The schedules of one definition, newest first: the tenant's own (404 otherwise, 403 while the tenant
    is not active); for the founder (None) any well-formed id."""
    if tenant_id is None:
        if not DEFINITION_ID.fullmatch(workflow_id):
            raise ApiError(404, "workflow_not_found", tr("No workflow with this id"), field="workflow_id")
    else:
        workflow_id, _, _ = await to_thread.run_sync(latest_definition, engine, workflow_id, tenant_id)
    found = await schedules.list_schedules(temporal, tenant_id, workflow_id, limit)
    return [await schedules.public_schedule(d) for d in found]


async def visible_schedule(temporal: Client, schedule_id: str, tenant_id: str | None) -> ScheduleDescription:
    """The schedule if `tenant_id` owns it (any tenant's when None); another tenant's answers 404 exactly
    like a made-up id."""
    description = await schedules.owned_schedule(temporal, schedule_id, tenant_id)
    if description is None:
        raise ApiError(404, "schedule_not_found", tr("No schedule with this id"), field="schedule_id")
    return description


async def change_schedule(
    engine: Engine, temporal: Client, schedule_id: str, tenant_id: str, change: ScheduleUpdate
) -> SchedulePublic:
    """Pauses or resumes (with a note), or changes the timing, zone, input or overlap policy of the tenant's
    schedule; a new input is checked against the version the schedule runs. Anything but pausing passes
    admission; pausing needs only an active tenant."""
    if change.cron is not None and change.interval_s is not None:
        raise ApiError(422, "invalid_schedule", tr("Give at most one of cron and interval_s"), field="body.cron")
    _check_note(change.note)
    current = await visible_schedule(temporal, schedule_id, tenant_id)
    definition = WorkflowDefinition.model_validate((await schedules.scheduled_input(current)).definition)
    if change.input is not None:
        check_input(definition, change.input)
    if change.paused is True and change.model_fields_set <= {"paused", "note"}:
        await to_thread.run_sync(check_active, engine, tenant_id)
    else:
        await check_may_run(engine, temporal, tenant_id, definition)
    try:
        await schedules.update_schedule(temporal, schedule_id, change)
    except RPCError as err:
        raise _refused_spec(err) from err
    return await schedules.public_schedule(await visible_schedule(temporal, schedule_id, tenant_id))


async def delete_schedule(temporal: Client, schedule_id: str) -> None:
    """Stops and removes the schedule; runs it already started go on."""
    await _not_found_as_404(temporal.get_schedule_handle(schedule_id).delete())


async def trigger_schedule(
    engine: Engine, temporal: Client, schedule: ScheduleDescription, tenant_id: str
) -> ScheduleTriggered:
    """Fires once now, even while paused, if the tenant may run now, and answers the run it started. The
    schedule itself fires (rather than a start of our own), so the run is one of its runs and the overlap
    policy still applies to a run in progress: then `run_id` is None."""
    definition = WorkflowDefinition.model_validate((await schedules.scheduled_input(schedule)).definition)
    await check_may_run(engine, temporal, tenant_id, definition)
    await to_thread.run_sync(check_system, engine, definition)
    run_id = await _not_found_as_404(schedules.trigger_schedule(temporal, schedule.id))
    return ScheduleTriggered(schedule_id=schedule.id, run_id=run_id)


def _check_note(note: str | None) -> None:
    """The platform's pause note is the platform's: resuming a tenant unpauses the schedules that carry it."""
    if note is not None and note.startswith(LIFECYCLE_PAUSE):
        raise ApiError(
            422, "invalid_note", tr("This note is reserved for the platform's own pauses"), field="body.note"
        )


async def _not_found_as_404(call: Awaitable[T]) -> T:
    try:
        return await call
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        raise ApiError(404, "schedule_not_found", tr("No schedule with this id"), field="schedule_id") from err


def _refused_spec(err: RPCError) -> Exception:
    """The server's own spec check (e.g. a cron form it does not take) as a 422; other errors as they are."""
    if err.status != RPCStatusCode.INVALID_ARGUMENT:
        return err
    field = next((f"body.{f}" for k, f in SPEC_FIELDS.items() if k in err.message), "body.cron")
    return ApiError(
        422, "invalid_schedule", tr("Temporal refused the schedule: %(reason)s", reason=err.message), field=field
    )
