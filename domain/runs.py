"""Runs as Temporal holds them: starting one from the API, finding one the caller may see, reading,
listing and cancelling. A run's live state is read from Temporal; a closed run Temporal dropped, from the run
archive (domain/run_history.py)."""

import base64
import json
import re
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple

from anyio import to_thread
from sqlalchemy import Engine
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.api.failure.v1 import Failure
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.service import RPCError, RPCStatusCode

from core.errors import ApiError
from core.metering import UsageBuffer
from core.security import open_token, seal_token
from core.settings import Settings
from domain.admission import start_admitted
from domain.run_history import (
    ArchivedRun,
    ArchivePosition,
    archive_page,
    archived_through,
    find_archived,
    read_archived,
)
from orchestrator.search_attributes import DEFINITION_ID, RUN_STATUS, TENANT_ID
from schemas.i18n import tr
from schemas.runs import (
    RunAccepted,
    RunPage,
    RunProgress,
    RunPublic,
    RunStatus,
    RunSummary,
    StepError,
    StepResultPublic,
)
from starters.archived_runs import archived_result
from starters.run_archive import visibility_instant
from starters.runs import (
    RUN_WORKFLOW_PREFIX,
    TRIGGER_MEMO,
    effective_status,
    run_record,
    run_workflow_id,
    same_request,
    status_clause,
)

RUN_ID = re.compile(r"[A-Za-z0-9_.:-]{1,200}")  # uuids, and a schedule's `sched-<id>-<time>` runs


class VisibleRun(NamedTuple):
    """A run the caller may see: its handle and Temporal's description of it."""

    handle: WorkflowHandle
    description: WorkflowExecutionDescription

    @property
    def run_id(self) -> str:
        return self.handle.id.removeprefix(RUN_WORKFLOW_PREFIX)


# A run the caller may see: one Temporal still holds, or a closed one kept in the run archive.
FoundRun = VisibleRun | ArchivedRun


async def start_api_run(
    engine: Engine,
    temporal: Client,
    settings: Settings,
    usage: UsageBuffer,
    workflow_id: str,
    tenant_id: str,
    payload: dict[str, Any],
    idempotency_key: str | None,
) -> RunAccepted:
    """Starts a run of the latest version through admission; the same idempotency key never starts a second
    run, and answers 409 `idempotency_key_reused` when it started one with another input or version."""
    handle, params = await start_admitted(
        engine, temporal, settings, usage, workflow_id, tenant_id, payload, "api", idempotency_key
    )
    if idempotency_key is not None and not await same_request(handle, params):
        raise ApiError(
            409,
            "idempotency_key_reused",
            tr("This Idempotency-Key already started a run with another input or version"),
            field="idempotency-key",
        )
    return RunAccepted(
        run_id=params.run_id, workflow_id=handle.id, definition_id=params.definition_id, version=params.version
    )


async def visible_run(temporal: Client, run_id: str, tenant_id: str | None) -> VisibleRun:
    """The run if `tenant_id` owns it (any tenant's when None, the founder); otherwise 404, exactly as for
    an id that never existed."""
    not_found = ApiError(404, "run_not_found", tr("No run with this id"), field="run_id")
    if not RUN_ID.fullmatch(run_id):
        raise not_found
    handle = temporal.get_workflow_handle(run_workflow_id(run_id))
    try:
        description = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise not_found from err
        raise
    owner = description.typed_search_attributes.get(TENANT_ID)
    if description.workflow_type != "UserWorkflowRun" or tenant_id not in (None, owner):
        raise not_found
    return VisibleRun(handle, description)


async def found_run(engine: Engine, temporal: Client, run_id: str, tenant_id: str | None) -> FoundRun:
    """The run if `tenant_id` owns it (any tenant's when None): from Temporal while it holds the run, else
    from the run archive; 404 otherwise, exactly as for an id that never existed."""
    try:
        return await visible_run(temporal, run_id, tenant_id)
    except ApiError as err:
        archived = await find_archived(engine, temporal, run_id, tenant_id) if err.status == 404 else None
        if archived is None:
            raise
        return archived


async def read_run(run: FoundRun) -> RunPublic:
    """A run's status, current step, pending gate and every step's result, attempts and error. A closed
    run is read from the record it left (in Temporal or the archive), without a query (which would replay
    it); a running step's attempts and last error include those of its activity, which Temporal is retrying."""
    if isinstance(run, ArchivedRun):
        return read_archived(run)
    progress = with_activity_attempts(await run_record(run.handle, run.description), run.description)
    return RunPublic(
        **progress.model_dump(exclude={"status", "tenant_id"}),
        status=effective_status(progress.status, run.description.status),
        started_at=run.description.start_time,
        closed_at=run.description.close_time,
    )


async def list_runs(
    engine: Engine,
    temporal: Client,
    tenant_id: str | None,
    workflow_id: str | None,
    status: RunStatus | None,
    limit: int,
    page_token: str | None,
    token_key: str,
    started: "StartRange | None" = None,
) -> RunPage:
    """The tenant's runs (every tenant's when None): first those in flight and those that closed after the
    archive's cursor, from Temporal visibility (which lists the running first, then by closing time, newest
    first), then the older closed runs from the run archive, newest closing first, whether or not Temporal
    still holds them; only those that started within `started` when given. A listing keeps the cursor it
    began with in its page tokens, sealed with `token_key` for this query: another query's or a forged token
    answers 422."""
    clauses = ["WorkflowType = 'UserWorkflowRun'"]
    if tenant_id is not None:
        clauses.append(f"TenantId = '{tenant_id}'")
    if workflow_id:
        clauses.append(f"WorkflowDefinitionId = '{workflow_id}'")
    if status:
        clauses.append(status_clause(status))
    started = started or StartRange()
    clauses += started.clauses()
    query = " AND ".join(clauses)
    position: ListPosition | None = await _position(engine, page_token, token_key, query)
    runs: list[RunSummary] = []
    if position is not None and position.in_temporal:
        runs, position = await _temporal_page(temporal, query, position, limit)
    if position is not None and not position.in_temporal:
        archived = RunFilter(tenant_id, workflow_id, status)
        runs, position = await _archive_page(engine, archived, started, position, runs, limit)
    token = seal_token(position.encode(), token_key, query) if position is not None else None
    return RunPage(runs=runs, next_page_token=token)


class RunFilter(NamedTuple):
    tenant_id: str | None
    workflow_id: str | None
    status: str | None


class StartRange(NamedTuple):
    """Runs that started at or after `since` and before `until` (either end open when None)."""

    since: datetime | None = None
    until: datetime | None = None

    def clauses(self) -> list[str]:
        """The range as Temporal visibility clauses on StartTime."""
        found = []
        if self.since is not None:
            found.append(f"StartTime >= '{visibility_instant(self.since)}'")
        if self.until is not None:
            found.append(f"StartTime < '{visibility_instant(self.until)}'")
        return found


class ListPosition(NamedTuple):
    """Where a listing of runs goes on: in Temporal (its page token) or in the archive (after a run), and the
    archive's cursor when the listing began, which divides the two."""

    through: datetime | None
    in_temporal: bool = True
    temporal_token: bytes | None = None
    after: ArchivePosition | None = None

    def encode(self) -> bytes:
        return json.dumps(
            {
                "through": self.through.isoformat() if self.through else None,
                "in_temporal": self.in_temporal,
                "temporal_token": base64.b64encode(self.temporal_token).decode() if self.temporal_token else None,
                "after": [self.after.closed_at.isoformat(), self.after.run_id] if self.after else None,
            }
        ).encode()

    @classmethod
    def decode(cls, data: bytes) -> "ListPosition":
        fields = json.loads(data)
        after = fields["after"]
        return cls(
            through=datetime.fromisoformat(fields["through"]) if fields["through"] else None,
            in_temporal=fields["in_temporal"],
            temporal_token=base64.b64decode(fields["temporal_token"]) if fields["temporal_token"] else None,
            after=ArchivePosition(datetime.fromisoformat(after[0]), after[1]) if after else None,
        )


async def _position(engine: Engine, page_token: str | None, token_key: str, query: str) -> ListPosition:
    """The position a page token carries, or the start of a new listing at the archive's cursor now."""
    if page_token is None:
        return ListPosition(through=await to_thread.run_sync(archived_through, engine))
    data = open_token(page_token, token_key, query)
    if data is None:
        raise ApiError(
            422, "invalid_page_token", tr("page_token is not one this API issued for this query"), field="page_token"
        )
    return ListPosition.decode(data)


async def _temporal_page(
    temporal: Client, query: str, position: ListPosition, limit: int
) -> tuple[list[RunSummary], ListPosition | None]:
    """A page of the runs Temporal lists: those in flight and those that closed after the archive's cursor."""
    if position.through is not None:
        query += f" AND (ExecutionStatus = 'Running' OR CloseTime > '{visibility_instant(position.through)}')"
    pages = temporal.list_workflows(query, page_size=limit, next_page_token=position.temporal_token)
    await pages.fetch_next_page(page_size=limit)
    runs = [await _summary(execution) for execution in pages.current_page or []]
    if pages.next_page_token:
        return runs, position._replace(temporal_token=pages.next_page_token)
    if position.through is None:
        return runs, None  # nothing archived yet
    return runs, position._replace(in_temporal=False, temporal_token=None)


async def _archive_page(
    engine: Engine,
    archived: RunFilter,
    started: StartRange,
    position: ListPosition,
    runs: list[RunSummary],
    limit: int,
) -> tuple[list[RunSummary], ListPosition | None]:
    """`runs` filled up to `limit` with archived runs from `position` on, and where the next page starts."""
    if position.through is None:
        return runs, None
    room = limit - len(runs)
    read = partial(archive_page, started_since=started.since, started_until=started.until)
    rows = await to_thread.run_sync(read, engine, *archived, position.through, position.after, room + 1)
    taken, seen = rows[:room], {run.run_id for run in runs}
    runs = runs + [run for run in taken if run.run_id not in seen]
    if len(rows) <= room:
        return runs, None
    last = taken[-1] if taken else None
    after = ArchivePosition(last.closed_at or position.through, last.run_id) if last else position.after
    return runs, position._replace(after=after)


async def step_result(engine: Engine, temporal: Client, run: FoundRun, step_id: str) -> StepResultPublic:
    """A step's result, whole: inline in the run's record, or kept apart by the archive (`result_ref`); 404
    for a step the run has no outcome for."""
    step = next((s for s in (await read_run(run)).steps if s.step_id == step_id), None)
    if step is None:
        raise ApiError(404, "step_not_found", tr("This run has no outcome for this step"), field="step_id")
    result = step.result
    if step.result_ref is not None:
        result = await archived_result(engine, temporal, run.run_id, step_id)
    return StepResultPublic(run_id=run.run_id, step_id=step_id, result=result)


async def cancel_run(run: FoundRun) -> None:
    """Asks a running run to stop (it records the step it was on as cancelled); 409 once it finished."""
    await refuse_unless_running(run).handle.cancel()


def refuse_unless_running(run: FoundRun) -> VisibleRun:
    """The run while it runs; 409 once it finished."""
    if isinstance(run, ArchivedRun) or run.description.status != WorkflowExecutionStatus.RUNNING:
        raise ApiError(409, "run_not_running", tr("This run has already finished"), field="run_id")
    return run


def with_activity_attempts(progress: RunProgress, description: WorkflowExecutionDescription) -> RunProgress:
    """`progress` with the attempts Temporal has started of the running step's activity added to those the
    run counted (a local first attempt), and the activity's last failure as the step's error."""
    pending = description.raw_description.pending_activities
    if not pending or not progress.steps or progress.steps[-1].status != "running":
        return progress
    activity = pending[-1]  # a run's steps follow each other: only the running step has an activity
    # The attempt number is the next one while the activity waits out its backoff (scheduled, not started).
    waiting = activity.state == PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED
    started = activity.attempt - 1 if waiting else activity.attempt
    step = progress.steps[-1]
    update: dict[str, Any] = {"attempts": step.attempts + max(started, 0)}
    if activity.HasField("last_failure"):
        update["error"] = _step_error(activity.last_failure)
    steps = [*progress.steps[:-1], step.model_copy(update=update)]
    return progress.model_copy(update={"steps": steps})


def _step_error(failure: Failure) -> StepError:
    if failure.HasField("application_failure_info"):
        return StepError(type=failure.application_failure_info.type or "ActivityError", message=failure.message)
    if failure.HasField("timeout_failure_info"):
        return StepError(type="Timeout", message=failure.message or "step timed out")
    return StepError(type="ActivityError", message=failure.message)


async def _summary(execution: WorkflowExecution) -> RunSummary:
    attributes = execution.typed_search_attributes
    run_status = effective_status(attributes.get(RUN_STATUS) or "running", execution.status)
    return RunSummary(
        run_id=execution.id.removeprefix("run-"),
        definition_id=attributes.get(DEFINITION_ID),
        status=run_status,
        trigger=(await execution.memo()).get(TRIGGER_MEMO, "api"),
        started_at=execution.start_time,
        closed_at=execution.close_time,
    )


async def runs_started_since(temporal: Client, tenant_id: str | None, since: datetime) -> int:
    """How many runs of the tenant (every tenant's when None) started at or after `since`, as visibility counts
    them: one count request, however many runs there are."""
    query = f"WorkflowType = 'UserWorkflowRun' AND StartTime >= '{since.isoformat()}'"
    if tenant_id is not None:
        query += f" AND TenantId = '{tenant_id}'"
    return (await temporal.count_workflows(query)).count
