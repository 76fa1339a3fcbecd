"""Runs as Temporal holds them: starting one from the API, finding one the caller may see, reading,
listing and cancelling. A run's live state is read from Temporal, never from the database."""

import re
from typing import Any, NamedTuple

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
from orchestrator.search_attributes import DEFINITION_ID, RUN_STATUS, TENANT_ID
from schemas.runs import RunAccepted, RunPage, RunProgress, RunPublic, RunStatus, RunSummary, StepError
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
            "This Idempotency-Key already started a run with another input or version",
            field="idempotency-key",
        )
    return RunAccepted(
        run_id=params.run_id, workflow_id=handle.id, definition_id=params.definition_id, version=params.version
    )


async def visible_run(temporal: Client, run_id: str, tenant_id: str | None) -> VisibleRun:
    """The run if `tenant_id` owns it (any tenant's when None, the founder); otherwise 404, exactly as for
    an id that never existed."""
    not_found = ApiError(404, "run_not_found", "No run with this id", field="run_id")
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


async def read_run(run: VisibleRun) -> RunPublic:
    """A run's status, current step, pending gate and every step's result, attempts and error. A closed
    run is read from the record it left, without a query (which would replay it); a running step's
    attempts and last error include those of its activity, which Temporal is retrying."""
    progress = with_activity_attempts(await run_record(run.handle, run.description), run.description)
    return RunPublic(
        **progress.model_dump(exclude={"status", "tenant_id"}),
        status=effective_status(progress.status, run.description.status),
        started_at=run.description.start_time,
        closed_at=run.description.close_time,
    )


async def list_runs(
    temporal: Client,
    tenant_id: str | None,
    workflow_id: str | None,
    status: RunStatus | None,
    limit: int,
    page_token: str | None,
    token_key: str,
) -> RunPage:
    """The tenant's runs (every tenant's when None), newest first, from Temporal visibility. Page tokens are
    sealed with `token_key` for this query: another query's or a forged token answers 422."""
    clauses = ["WorkflowType = 'UserWorkflowRun'"]
    if tenant_id is not None:
        clauses.append(f"TenantId = '{tenant_id}'")
    if workflow_id:
        clauses.append(f"WorkflowDefinitionId = '{workflow_id}'")
    if status:
        clauses.append(status_clause(status))
    query = " AND ".join(clauses)
    token = open_token(page_token, token_key, query) if page_token else None
    if page_token and token is None:
        raise ApiError(
            422, "invalid_page_token", "page_token is not one this API issued for this query", field="page_token"
        )
    pages = temporal.list_workflows(query, page_size=limit, next_page_token=token)
    await pages.fetch_next_page(page_size=limit)
    runs = [await _summary(execution) for execution in pages.current_page or []]
    next_token = seal_token(pages.next_page_token, token_key, query) if pages.next_page_token else None
    return RunPage(runs=runs, next_page_token=next_token)


async def cancel_run(run: VisibleRun) -> None:
    """Asks a running run to stop (it records the step it was on as cancelled); 409 once it finished."""
    refuse_unless_running(run)
    await run.handle.cancel()


def refuse_unless_running(run: VisibleRun) -> None:
    if run.description.status != WorkflowExecutionStatus.RUNNING:
        raise ApiError(409, "run_not_running", "This run has already finished", field="run_id")


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
