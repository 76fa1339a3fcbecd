"""Starting user runs and acting on them for activities: run ids, idempotent starts, re-drives."""

import hashlib
import json
import uuid
from typing import Any

from sqlalchemy import Engine
from temporalio.api.common.v1 import Payload
from temporalio.api.common.v1 import WorkflowExecution as ExecutionRef
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest, DescribeTaskQueueRequest
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from orchestrator.search_attributes import DEFINITION_ID, RUN_STATUS, TENANT_ID
from orchestrator.tenant_lifecycle import TenantLifecycle
from orchestrator.user_run import UserWorkflowRun
from schemas.data_requests import RunRecord
from schemas.runs import (
    CLOSED_RUN_MEMO,
    RUN_WORKFLOW_PREFIX,
    ResumePoint,
    RetryDefaults,
    RunInput,
    RunProgress,
    RunResult,
)
from schemas.tenants import TenantChange, Throttle
from schemas.toggles import LaunchStage
from starters.archived_runs import archived_run
from starters.tenants import ensure_lifecycle

RUN_ID_NAMESPACE = uuid.UUID("6f1c2b3e-8a51-4f0e-9d57-3c1f0a6e2b90")


FINGERPRINT = "input_sha256"


TRIGGER_MEMO = "trigger"
# The note of a schedule the tenant's lifecycle paused; resuming the tenant unpauses only schedules with it,
# never those the tenant paused itself.
LIFECYCLE_PAUSE = "Paused by the platform: "


# The run's summary in Temporal's UI: readable without the codec server, so it holds what an operator needs to
# read the list and nothing of a person (never the tenant's name, the input or a secret).
SUMMARY_NAME_CHARS = 60


def run_metadata(params: RunInput) -> tuple[Any, Any]:
    """The run's static summary and details, `refund v3 · api · tenant <id>`: the definition's name and
    version (from the definition the run carries: no query on the start path), the trigger and the tenant's id.

    Both go as plain payloads, past the tenant payload codec on purpose: encrypted, Temporal's UI could show
    them only through the codec server, which the embedded default does not configure. That is also why the
    tenant's name stays out (and is not at hand when a run starts). Typed Any: `start_workflow` declares `str`,
    while the SDK sends a Payload as given (`_encode_user_metadata`), as schedule actions declare."""
    name = str(params.definition.get("name") or params.definition_id)[:SUMMARY_NAME_CHARS]
    summary = f"{name} v{params.version} · {params.trigger} · tenant {params.tenant_id}"
    details = (
        f"Definition {params.definition_id} version {params.version}, started by {params.trigger}, "
        f"for tenant {params.tenant_id}."
    )
    return _plain(summary), _plain(details)


def _plain(text: str) -> Payload:
    return pydantic_data_converter.payload_converter.to_payloads([text])[0]


def run_workflow_id(run_id: str) -> str:
    return f"{RUN_WORKFLOW_PREFIX}{run_id}"


def new_run_id(tenant_id: str, definition_id: str, idempotency_key: str | None) -> str:
    """A random id, or one derived from the caller's idempotency key so a retry maps to the same run."""
    if idempotency_key is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(RUN_ID_NAMESPACE, f"{tenant_id}/{definition_id}/{idempotency_key}"))


def input_fingerprint(params: RunInput) -> str:
    """What an idempotent start must repeat exactly: the definition version and the input."""
    canonical = json.dumps([params.definition_id, params.version, params.input], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def same_request(handle: WorkflowHandle, params: RunInput) -> bool:
    """Whether the run behind `handle` was started with this definition version and input."""
    description = await handle.describe()
    return await description.memo_value(FINGERPRINT, default=None) == input_fingerprint(params)


async def start_run(client: Client, params: RunInput, task_queue: str, eager: bool) -> WorkflowHandle:
    """Starts the run once: the same run id never starts a second execution, even after it closed."""
    summary, details = run_metadata(params)
    try:
        return await client.start_workflow(
            UserWorkflowRun.run,
            params,
            id=run_workflow_id(params.run_id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(TENANT_ID, params.tenant_id),
                    SearchAttributePair(DEFINITION_ID, params.definition_id),
                    SearchAttributePair(RUN_STATUS, "running"),
                ]
            ),
            memo={FINGERPRINT: input_fingerprint(params), TRIGGER_MEMO: params.trigger},
            static_summary=summary,
            static_details=details,
            request_eager_start=eager,
        )
    except WorkflowAlreadyStartedError:
        return client.get_workflow_handle_for(UserWorkflowRun.run, run_workflow_id(params.run_id))


async def count_running_runs(client: Client, tenant_id: str, excluding: str | None = None) -> int:
    """The tenant's runs in flight, as visibility counts them; `excluding` a workflow id (the run being
    admitted, which is itself running)."""
    query = f"WorkflowType = 'UserWorkflowRun' AND TenantId = '{tenant_id}' AND ExecutionStatus = 'Running'"
    if excluding is not None:
        query += f" AND WorkflowId != '{excluding}'"
    return (await client.count_workflows(query)).count


async def closed_record(handle: WorkflowHandle, description: WorkflowExecution) -> RunProgress | None:
    """A closed run's record as `progress` answered it, read from where the run left it (its result, its
    failure's details, its memo) without replaying it; None while it runs, for a run that closed before it
    left one, and for one Temporal closed itself (terminated, timed out)."""
    match description.status:
        case WorkflowExecutionStatus.COMPLETED:
            return RunResult.model_validate(await handle.result(follow_runs=False)).record()
        case WorkflowExecutionStatus.FAILED:
            try:
                await handle.result(follow_runs=False)
            except WorkflowFailureError as err:
                cause = err.cause
                details = cause.details if isinstance(cause, ApplicationError) else ()
                return RunProgress.model_validate(details[1]) if len(details) > 1 else None
            return None
        case WorkflowExecutionStatus.CANCELED:
            record = await description.memo_value(CLOSED_RUN_MEMO, default=None)
            return None if record is None else RunProgress.model_validate(record)
        case _:
            return None


async def run_record(handle: WorkflowHandle, description: WorkflowExecutionDescription) -> RunProgress:
    """The run's record: a closed run's as it left it, else (running, or closed before runs left one) the
    answer of its `progress` query."""
    record = await closed_record(handle, description)
    return record if record is not None else await handle.query(UserWorkflowRun.progress)


def started_now(handle: WorkflowHandle) -> bool:
    """Whether the start that gave `handle` started a new execution, not found one running (the same
    run id again). The SDK keeps the server's answer on the handle without a public name for it."""
    response = getattr(handle, "_start_workflow_response", None)
    return bool(getattr(response, "started", False))


# What Temporal's ExecutionStatus says of a closed run whose RunStatus was left as it was while it ran: every
# closed run since runs stopped writing their completed/failed/cancelled ends, and a terminated or timed-out one.
CLOSED_STATUS = {
    WorkflowExecutionStatus.COMPLETED: "completed",
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.TIMED_OUT: "timed_out",
    WorkflowExecutionStatus.CANCELED: "cancelled",
    WorkflowExecutionStatus.FAILED: "failed",
}
# Visibility filters per run status: RunStatus where the run writes it, ExecutionStatus where Temporal says it
# (a run that wrote its end before that, 'completed' say, is found too).
STATUS_CLAUSES = {
    "running": "RunStatus = 'running' AND ExecutionStatus = 'Running'",
    "waiting_approval": "RunStatus = 'waiting_approval' AND ExecutionStatus = 'Running'",
    "completed": "ExecutionStatus = 'Completed' AND RunStatus IN ('running', 'waiting_approval', 'completed')",
    "failed": "ExecutionStatus = 'Failed'",
    "cancelled": "ExecutionStatus = 'Canceled'",
    "rejected": "RunStatus = 'rejected'",
    "refused": "RunStatus = 'refused'",
}


def effective_status(reported: str, execution: WorkflowExecutionStatus | None) -> Any:
    """The run's status: what it wrote, unless Temporal closed it since (completed, failed, cancelled,
    terminated, timed out) while it still said running or waiting."""
    if execution in CLOSED_STATUS and reported in ("running", "waiting_approval"):
        return CLOSED_STATUS[execution]
    return reported


def status_clause(status: str) -> str:
    """The visibility filter for runs in `status` (a RunStatus)."""
    return f"({STATUS_CLAUSES[status]})"


def redrive_input(
    failed: RunProgress,
    definition: dict[str, Any],
    retry_defaults: RetryDefaults,
    trigger: str = "redrive",
    launch_stage: LaunchStage | None = None,
    version: int | None = None,
) -> RunInput:
    """A new run of the failed run's exact version that reuses its finished steps and resumes at the
    failed one, with the launch stage its own admission read. Its id derives from the failed run's, so one
    failed run is re-driven at most once. With `version` (a fixed version of the same definition, whose body is
    `definition`) it resumes on that version instead, at most once per version."""
    name = f"redrive/{failed.run_id}" if version is None else f"redrive/{failed.run_id}/v{version}"
    return RunInput(
        run_id=str(uuid.uuid5(RUN_ID_NAMESPACE, name)),
        tenant_id=failed.tenant_id,
        definition_id=failed.definition_id,
        version=failed.version if version is None else version,
        definition=definition,
        input=failed.input,
        retry_defaults=retry_defaults,
        trigger=trigger,
        resume=ResumePoint(from_run_id=failed.run_id, outcomes=failed.steps),
        closing_status_upsert=False,
        launch_stage=launch_stage,
    )


class TemporalRunControl:
    """Re-drives failed runs, pauses schedules and probes the engine's health for activities, which do not
    talk to Temporal themselves."""

    def __init__(
        self, client: Client, task_queue: str, grace_period_s: float = 30 * 24 * 3600, engine: Engine | None = None
    ) -> None:
        self._client, self._task_queue, self._grace_period_s = client, task_queue, grace_period_s
        self._engine = engine  # the run archive's, for re-driving a run Temporal no longer holds

    @property
    def client(self) -> Client:
        return self._client

    async def redrive(
        self,
        run_id: str,
        definition: dict[str, Any],
        retry_defaults: RetryDefaults,
        trigger: str,
        launch_stage: LaunchStage | None = None,
    ) -> tuple[str, bool] | None:
        """The new run's id and whether this call started it (False: it was re-driven before), or None when
        the failed run's record exists neither in Temporal nor in the run archive."""
        failed = await self._failed_record(run_id)
        if failed is None:
            return None
        params = redrive_input(failed, definition, retry_defaults, trigger, launch_stage)
        handle = await start_run(self._client, params, self._task_queue, eager=False)
        return params.run_id, started_now(handle)

    async def _failed_record(self, run_id: str) -> RunProgress | None:
        handle = self._client.get_workflow_handle(run_workflow_id(run_id))
        try:
            return await run_record(handle, await handle.describe())
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
        archived = await archived_run(self._engine, self._client, run_id, whole=True) if self._engine else None
        return archived.record if archived else None

    async def count_running_runs(self, tenant_id: str, excluding: str | None = None) -> int:
        return await count_running_runs(self._client, tenant_id, excluding)

    async def set_schedules_paused(self, tenant_id: str, paused: bool, note: str) -> int:
        """Pauses the tenant's running schedules, marking them as the lifecycle's pauses, or resumes only the
        schedules so marked (one the tenant paused itself stays paused); returns how many it changed."""
        changed = 0
        async for listed in await self._client.list_schedules(query=f"TenantId = '{tenant_id}'"):
            handle = self._client.get_schedule_handle(listed.id)
            state = (await handle.describe()).schedule.state
            if paused and not state.paused:
                await handle.pause(note=f"{LIFECYCLE_PAUSE}{note}")
            elif not paused and state.paused and (state.note or "").startswith(LIFECYCLE_PAUSE):
                await handle.unpause(note=note)
            else:
                continue
            changed += 1
        return changed

    async def cancel_tenant_runs(self, tenant_id: str, reason: str) -> int:
        """Asks every run of the tenant in flight to stop, with `reason` (the run records it); returns how many."""
        query = f"WorkflowType = 'UserWorkflowRun' AND TenantId = '{tenant_id}' AND ExecutionStatus = 'Running'"
        cancelled = 0
        async for execution in self._client.list_workflows(query):
            try:
                await self._client.get_workflow_handle(execution.id, run_id=execution.run_id).cancel(reason=reason)
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
                continue  # it closed since it was listed
            cancelled += 1
        return cancelled

    async def delete_tenant_schedules(self, tenant_id: str) -> int:
        """Deletes every schedule of the tenant, the run input its action carries with it; returns how many."""
        listed = [s.id async for s in await self._client.list_schedules(query=f"TenantId = '{tenant_id}'")]
        deleted = 0
        for schedule_id in listed:
            try:
                await self._client.get_schedule_handle(schedule_id).delete()
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
                continue  # deleted since it was listed
            deleted += 1
        return deleted

    async def delete_tenant_runs(self, tenant_id: str) -> int:
        """Deletes every run execution of the tenant with its history (Temporal terminates a running one
        first); returns how many. Deletion is asynchronous on the server and visibility follows it."""
        query = f"WorkflowType = 'UserWorkflowRun' AND TenantId = '{tenant_id}'"
        listed = [(e.id, e.run_id) async for e in self._client.list_workflows(query)]
        deleted = 0
        for workflow_id, run_id in listed:
            try:
                await self._client.workflow_service.delete_workflow_execution(
                    DeleteWorkflowExecutionRequest(
                        namespace=self._client.namespace,
                        workflow_execution=ExecutionRef(workflow_id=workflow_id, run_id=run_id),
                    )
                )
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
                continue
            deleted += 1
        return deleted

    async def throttle_tenant(self, tenant_id: str, throttle: Throttle) -> bool:
        """Caps the tenant through its lifecycle; False when the lifecycle refuses (deleted or purged)."""
        handle = await ensure_lifecycle(self._client, tenant_id, self._grace_period_s, self._task_queue)
        try:
            await handle.execute_update(TenantLifecycle.throttle, throttle)
        except (WorkflowUpdateFailedError, RPCError):
            return False
        return True

    async def list_tenant_runs(self, tenant_id: str, limit: int) -> list[RunRecord]:
        """The tenant's runs as visibility lists them, newest first, at most `limit`."""
        query = f"WorkflowType = 'UserWorkflowRun' AND TenantId = '{tenant_id}'"
        return [
            RunRecord(
                run_id=execution.id.removeprefix(RUN_WORKFLOW_PREFIX),
                definition_id=execution.typed_search_attributes.get(DEFINITION_ID),
                status=effective_status(
                    execution.typed_search_attributes.get(RUN_STATUS) or "running", execution.status
                ),
                started_at=execution.start_time,
                closed_at=execution.close_time,
            )
            async for execution in self._client.list_workflows(query, limit=limit)
        ]

    async def engine_reachable(self) -> bool:
        """True when the Temporal frontend reports itself serving; raises when it does not."""
        if not await self._client.service_client.check_health():
            raise RuntimeError("the Temporal frontend is not serving")
        return True

    async def worker_count(self) -> int:
        """Distinct workers polling the task queue for workflow tasks lately (the server keeps ~5 minutes)."""
        description = await self._client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=self._client.namespace,
                task_queue=TaskQueue(name=self._task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        return len({poller.identity for poller in description.pollers})

    async def change_tenant(
        self, tenant_id: str, change: TenantChange, grace_period_s: float
    ) -> tuple[bool, str | None]:
        """Sends the tenant's lifecycle the `change` update: (applied, status afterwards). An illegal change
        answers (False, the current status); a purged tenant (False, "purged")."""
        handle = await ensure_lifecycle(self._client, tenant_id, grace_period_s, self._task_queue)
        try:
            state = await handle.execute_update(TenantLifecycle.change, change)
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            return False, cause.details[0] if isinstance(cause, ApplicationError) and cause.details else None
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            return False, "purged"
        return True, state.status
