"""Tenant schedules as Temporal Schedules: ids, building one, finding a tenant's, and their public shape.

Each schedule starts `UserWorkflowRun` with a `RunInput` whose `run_id` is empty, so every run takes its
id from the workflow id the schedule gives it (`run-sched-<uuid>-<fire time>`). The owner travels in the
schedule's typed search attributes (`TenantId`, `WorkflowDefinitionId`) and memo.
"""

import asyncio
import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cron_descriptor import ExpressionDescriptor, FormatError, MissingFieldError, Options, WrongArgumentError
from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleDescription,
    ScheduleInfo,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
)
from temporalio.service import RPCError, RPCStatusCode

from language.steps import WorkflowDefinition
from orchestrator.search_attributes import DEFINITION_ID, RUN_STATUS, TENANT_ID
from orchestrator.user_run import UserWorkflowRun
from schemas.runs import RunInput
from schemas.schedules import ScheduledRun, SchedulePublic, ScheduleTiming
from schemas.schedules import ScheduleUpdate as ScheduleChange
from starters.runs import TRIGGER_MEMO, run_metadata, run_workflow_id

SCHEDULE_ID = re.compile(r"sched-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}")
# The server hands a cron spec back as calendars, so the text the tenant wrote travels with the action.
CRON_MEMO = "schedule_cron"
# Fires missed while the server was down are made up for an hour; older ones are dropped.
CATCHUP_WINDOW = timedelta(hours=1)
MAX_LISTED = 100
NEXT_RUNS = 3
RECENT_RUNS = 5
# How long a trigger waits to see the run it fired (the server fires it a moment after answering).
TRIGGER_WAIT_S = 5.0
TRIGGER_POLL_S = 0.05
OVERLAP = {
    "skip": ScheduleOverlapPolicy.SKIP,
    "buffer_one": ScheduleOverlapPolicy.BUFFER_ONE,
    "buffer_all": ScheduleOverlapPolicy.BUFFER_ALL,
    "cancel_other": ScheduleOverlapPolicy.CANCEL_OTHER,
    "terminate_other": ScheduleOverlapPolicy.TERMINATE_OTHER,
    "allow_all": ScheduleOverlapPolicy.ALLOW_ALL,
}
OVERLAP_NAME = {policy: name for name, policy in OVERLAP.items()}


def build_schedule(
    schedule_id: str,
    params: RunInput,
    timing: ScheduleTiming,
    task_queue: str,
    paused: bool,
    note: str | None,
) -> Schedule:
    return Schedule(
        action=_action(schedule_id, params, timing, task_queue),
        spec=_spec(timing),
        policy=SchedulePolicy(overlap=OVERLAP[timing.overlap], catchup_window=CATCHUP_WINDOW),
        state=ScheduleState(paused=paused, note=note),
    )


async def create_schedule(
    temporal: Client,
    schedule_id: str,
    params: RunInput,
    timing: ScheduleTiming,
    task_queue: str,
    paused: bool = False,
    note: str | None = None,
) -> ScheduleDescription:
    handle = await temporal.create_schedule(
        schedule_id,
        build_schedule(schedule_id, params, timing, task_queue, paused, note),
        memo={"tenant_id": params.tenant_id, "definition_id": params.definition_id},
        search_attributes=_owner(params, running=False),
    )
    return await handle.describe()


async def owned_schedule(temporal: Client, schedule_id: str, tenant_id: str | None) -> ScheduleDescription | None:
    """The schedule if `tenant_id` owns it (any tenant's when None); None if missing or someone else's."""
    if not SCHEDULE_ID.fullmatch(schedule_id):
        return None
    description = await _describe(temporal, schedule_id)
    if description is None:
        return None
    owner = description.typed_search_attributes.get(TENANT_ID)
    return description if owner is not None and tenant_id in (None, owner) else None


async def list_schedules(
    temporal: Client, tenant_id: str | None, definition_id: str | None = None, limit: int = MAX_LISTED
) -> list[ScheduleDescription]:
    """A tenant's schedules (every tenant's when None), newest first, at most `limit`."""
    clauses = [f"TenantId = '{tenant_id}'" if tenant_id else "TenantId IS NOT NULL"]
    if definition_id:
        clauses.append(f"WorkflowDefinitionId = '{definition_id}'")
    ids: list[str] = []
    async for listed in await temporal.list_schedules(" AND ".join(clauses), page_size=limit):
        ids.append(listed.id)
        if len(ids) >= limit:
            break
    # Visibility lags a deletion a little: a listed schedule may be gone by the time it is described.
    found = [d for d in await asyncio.gather(*(_describe(temporal, i) for i in ids)) if d is not None]
    return sorted(found, key=lambda d: d.info.created_at, reverse=True)


async def scheduled_input(description: ScheduleDescription) -> RunInput:
    """The `RunInput` every run of this schedule starts with."""
    [params] = await description.data_converter.decode(list(_start(description).args), [RunInput])
    return params


async def public_schedule(description: ScheduleDescription) -> SchedulePublic:
    params, timing = await scheduled_input(description), await _timing(description)
    state, info = description.schedule.state, description.info
    zone = ZoneInfo(timing.timezone)
    # The server keeps listing fire times while paused; a paused schedule fires only when triggered.
    upcoming = [] if state.paused else [t.astimezone(zone) for t in info.next_action_times[:NEXT_RUNS]]
    return SchedulePublic(
        id=description.id,
        tenant_id=params.tenant_id,
        workflow_id=params.definition_id,
        version=params.version,
        cron=timing.cron,
        interval_s=timing.interval_s,
        timezone=timing.timezone,
        description=describe_timing(timing),
        overlap=timing.overlap,
        paused=state.paused,
        note=state.note,
        input=params.input,
        next_run_times=upcoming,
        recent_runs=[
            ScheduledRun(
                run_id=a.action.workflow_id.removeprefix("run-"), scheduled_at=a.scheduled_at, started_at=a.started_at
            )
            for a in info.recent_actions[-RECENT_RUNS:]
            if isinstance(a.action, ScheduleActionExecutionStartWorkflow)
        ],
        created_at=info.created_at,
        updated_at=info.last_updated_at,
    )


async def trigger_schedule(temporal: Client, schedule_id: str, wait_s: float = TRIGGER_WAIT_S) -> str | None:
    """Fires the schedule once now and answers the run id that fire started: None when the overlap policy
    skipped or buffered it, or no new run showed within `wait_s`. Temporal's trigger answers nothing and the
    run's id ends with the time the server fired it, so the run is found in the schedule's own record: the
    newest run in it that was not there before the trigger."""
    handle = temporal.get_schedule_handle(schedule_id)
    before = (await handle.describe()).info
    known = _started(before)
    await handle.trigger()
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        info = (await handle.describe()).info
        new = [(at, run_id) for run_id, at in _started(info).items() if run_id not in known]
        if new:
            return max(new)[1]
        skipped = info.num_actions_skipped_overlap > before.num_actions_skipped_overlap
        if skipped or asyncio.get_running_loop().time() >= deadline:
            return None
        await asyncio.sleep(TRIGGER_POLL_S)


def _started(info: ScheduleInfo) -> dict[str, datetime]:
    """The runs the schedule's recent actions list (a run is there once started), by run id, with the time each
    was fired for."""
    return {
        a.action.workflow_id.removeprefix("run-"): a.scheduled_at
        for a in info.recent_actions
        if isinstance(a.action, ScheduleActionExecutionStartWorkflow)
    }


def describe_timing(timing: ScheduleTiming) -> str:
    """`At 09:00, Monday through Friday`, `Every 15 minutes`."""
    if timing.cron is not None:
        options = Options()
        options.use_24hour_time_format = True
        try:
            return ExpressionDescriptor(timing.cron, options).get_description()
        except (FormatError, MissingFieldError, WrongArgumentError):
            # The server judges cron text; some forms it takes (SUNDAY, *,1) have no wording here.
            return f"Cron {timing.cron}"
    seconds = timing.interval_s or 0
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"Every {unit}" if count == 1 else f"Every {count} {unit}s"
    return f"Every {seconds} seconds"


async def update_schedule(temporal: Client, schedule_id: str, change: ScheduleChange) -> None:
    """Applies the fields of `change` that were sent; the rest of the schedule stays as it is."""

    async def changed(update: ScheduleUpdateInput) -> ScheduleUpdate:
        description = update.description
        params, timing = await scheduled_input(description), await _timing(description)
        timing = change.applied_to(timing)
        if change.input is not None:
            params = params.model_copy(update={"input": change.input})
        state = description.schedule.state
        paused = state.paused if change.paused is None else change.paused
        note = change.note if "note" in change.model_fields_set else state.note
        queue = _start(description).task_queue
        return ScheduleUpdate(schedule=build_schedule(description.id, params, timing, queue, paused, note))

    await temporal.get_schedule_handle(schedule_id).update(changed)


async def follow_new_version(
    temporal: Client, tenant_id: str, definition_id: str, version: int, definition: WorkflowDefinition
) -> int:
    """Points every schedule of the definition (at most MAX_LISTED) at `version`; answers how many it saw."""

    async def to_version(update: ScheduleUpdateInput) -> ScheduleUpdate | None:
        description = update.description
        params = await scheduled_input(description)
        if params.version >= version:  # a newer version got here first
            return None
        params = params.model_copy(update={"version": version, "definition": definition.model_dump(mode="json")})
        schedule, task_queue = description.schedule, _start(description).task_queue
        schedule.action = _action(description.id, params, await _timing(description), task_queue)
        return ScheduleUpdate(schedule=schedule)

    updated = 0
    for description in await list_schedules(temporal, tenant_id, definition_id):
        try:
            await temporal.get_schedule_handle(description.id).update(to_version)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            continue  # deleted since it was listed
        updated += 1
    return updated


def _action(schedule_id: str, params: RunInput, timing: ScheduleTiming, task_queue: str) -> ScheduleActionStartWorkflow:
    summary, details = run_metadata(params)  # each fired run's summary in Temporal's UI
    return ScheduleActionStartWorkflow(
        UserWorkflowRun.run,
        params,
        id=run_workflow_id(schedule_id),  # the server appends each fire time
        task_queue=task_queue,
        typed_search_attributes=_owner(params, running=True),
        memo={
            "schedule_id": schedule_id,
            TRIGGER_MEMO: "schedule",
            **({CRON_MEMO: timing.cron} if timing.cron else {}),
        },
        static_summary=summary,
        static_details=details,
    )


def _spec(timing: ScheduleTiming) -> ScheduleSpec:
    if timing.cron is not None:
        return ScheduleSpec(cron_expressions=[timing.cron], time_zone_name=timing.timezone)
    every = timedelta(seconds=timing.interval_s or 0)
    return ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)], time_zone_name=timing.timezone)


def _owner(params: RunInput, running: bool) -> TypedSearchAttributes:
    pairs = [SearchAttributePair(TENANT_ID, params.tenant_id), SearchAttributePair(DEFINITION_ID, params.definition_id)]
    return TypedSearchAttributes(pairs + ([SearchAttributePair(RUN_STATUS, "running")] if running else []))


async def _timing(description: ScheduleDescription) -> ScheduleTiming:
    schedule, action = description.schedule, _start(description)
    memo: Mapping[str, Payload] = action.memo or {}  # described actions carry their memo undecoded
    [cron] = await description.data_converter.decode([memo[CRON_MEMO]]) if CRON_MEMO in memo else [None]
    intervals = schedule.spec.intervals
    return ScheduleTiming(
        cron=cron,
        interval_s=int(intervals[0].every.total_seconds()) if intervals and cron is None else None,
        timezone=schedule.spec.time_zone_name or "UTC",
        overlap=OVERLAP_NAME.get(schedule.policy.overlap, "skip"),
    )


def _start(description: ScheduleDescription) -> ScheduleActionStartWorkflow:
    action = description.schedule.action
    if not isinstance(action, ScheduleActionStartWorkflow):
        raise TypeError(f"schedule {description.id} does not start a workflow")
    return action


async def _describe(temporal: Client, schedule_id: str) -> ScheduleDescription | None:
    try:
        return await temporal.get_schedule_handle(schedule_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


SCHEDULE_PREFIX = "sched-"


def new_schedule_id() -> str:
    return f"{SCHEDULE_PREFIX}{uuid.uuid4()}"
