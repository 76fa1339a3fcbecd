"""Runs: start one, list and read them from Temporal, cancel, and decide approval gates."""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, status
from temporalio.client import (
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.admission import Admission, start_admitted
from api.deps import CallerDep, CurrentTenant, EngineDep, SettingsDep, TemporalDep, UsageDep
from core.errors import ApiError
from core.security import open_token, seal_token
from orchestrator.search_attributes import DEFINITION_ID, RUN_STATUS, TENANT_ID
from orchestrator.user_run import UserWorkflowRun
from schemas.api import RunAccepted, RunCreate, RunPage, RunPublic, RunSummary, StepDecisionCreate
from schemas.runs import RunInput, RunStatus, StepDecision
from starters.runs import TRIGGER_MEMO, new_run_id, run_workflow_id, same_request

router = APIRouter(prefix="/api", tags=["runs"])
ID_PATTERN = r"^[A-Za-z0-9-]{1,64}$"
RUN_ID = re.compile(r"[A-Za-z0-9_.:-]{1,200}")  # uuids, and a schedule's `sched-<id>-<time>` runs
CLOSED_STATUS = {
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.TIMED_OUT: "timed_out",
    WorkflowExecutionStatus.CANCELED: "cancelled",
    WorkflowExecutionStatus.FAILED: "failed",
}
DECISION_ERRORS = {
    "StepNotWaiting": (409, "step_not_waiting", "This step is not waiting for a decision"),
    "RoleNotAllowed": (403, "role_not_allowed", "Your role may not decide this gate"),
}


@router.post("/workflows/{workflow_id}/runs", status_code=status.HTTP_202_ACCEPTED)
async def start_run(
    workflow_id: str, body: RunCreate, tenant: CurrentTenant, engine: EngineDep, temporal: TemporalDep,
    settings: SettingsDep, usage: UsageDep,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
) -> RunAccepted:
    """Start a run of the latest version; the same `Idempotency-Key` never starts a second run. 429 when
    the plan's monthly limits are used up or the cost throttle holds."""

    def make_input(admitted: Admission) -> RunInput:
        return RunInput(
            run_id=new_run_id(admitted.tenant_id, admitted.definition_id, idempotency_key),
            tenant_id=admitted.tenant_id, definition_id=admitted.definition_id, version=admitted.version,
            definition=admitted.definition.model_dump(mode="json"), input=body.input, retry_defaults=settings.retry_defaults(),
        )

    handle, params = await start_admitted(
        engine, temporal, settings, usage, workflow_id, tenant.tenant_id, body.input, make_input  # type: ignore[arg-type]
    )
    if idempotency_key is not None and not await same_request(handle, params):
        raise ApiError(409, "idempotency_key_reused",
                       "This Idempotency-Key already started a run with another input or version",
                       field="idempotency-key")
    return RunAccepted(run_id=params.run_id, workflow_id=handle.id, definition_id=params.definition_id,
                       version=params.version)


@router.get("/runs")
async def list_runs(
    caller: CallerDep, temporal: TemporalDep, settings: SettingsDep,
    workflow_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    status: RunStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str | None, Query(max_length=2000)] = None,
) -> RunPage:
    """The caller's runs, newest first, from Temporal visibility; filter by workflow and status."""
    clauses = ["WorkflowType = 'UserWorkflowRun'"]
    if not caller.is_founder:
        clauses.append(f"TenantId = '{caller.tenant_id}'")
    if workflow_id:
        clauses.append(f"WorkflowDefinitionId = '{workflow_id}'")
    if status:
        clauses.append(f"RunStatus = '{status}'")
    query = " AND ".join(clauses)
    key = settings.levqor_founder_token.get_secret_value()
    token = open_token(page_token, key, query) if page_token else None
    if page_token and token is None:
        raise ApiError(422, "invalid_page_token", "page_token is not one this API issued for this query",
                       field="page_token")
    pages = temporal.list_workflows(query, page_size=limit, next_page_token=token)
    await pages.fetch_next_page(page_size=limit)
    runs = [await _summary(execution) for execution in pages.current_page or []]
    next_token = seal_token(pages.next_page_token, key, query) if pages.next_page_token else None
    return RunPage(runs=runs, next_page_token=next_token)


@router.get("/runs/{run_id}")
async def get_run(run_id: str, caller: CallerDep, temporal: TemporalDep) -> RunPublic:
    """A run's status, current step, pending gate and every step's result, attempts and error."""
    handle, description = await owned_run(temporal, run_id, caller)
    progress = await handle.query(UserWorkflowRun.progress)
    return RunPublic(
        **progress.model_dump(exclude={"status", "tenant_id"}), status=effective_status(progress.status, description.status),
        started_at=description.start_time, closed_at=description.close_time,
    )


@router.post("/runs/{run_id}/cancel", status_code=status.HTTP_202_ACCEPTED)
async def cancel_run(run_id: str, caller: CallerDep, temporal: TemporalDep) -> dict[str, str]:
    """Ask a running run to stop; it records the step it was on as cancelled."""
    handle, description = await owned_run(temporal, run_id, caller)
    if description.status != WorkflowExecutionStatus.RUNNING:
        raise ApiError(409, "run_not_running", "This run has already finished", field="run_id")
    await handle.cancel()
    return {"run_id": run_id, "status": "cancelling"}


@router.post("/runs/{run_id}/approvals/{step_id}", status_code=status.HTTP_200_OK)
async def decide_step(
    run_id: str, step_id: str, body: StepDecisionCreate, caller: CallerDep, temporal: TemporalDep
) -> dict[str, Any]:
    """Approve or reject a waiting gate: class B needs a tenant admin, class C the founder."""
    handle, description = await owned_run(temporal, run_id, caller)
    if description.status != WorkflowExecutionStatus.RUNNING:
        raise ApiError(409, "run_not_running", "This run has already finished", field="run_id")
    decision = StepDecision(
        step_id=step_id, approved=body.decision == "approve", role=caller.decider_role,
        decided_by=caller.key_id or "founder", comment=body.comment,
    )
    try:
        await handle.execute_update(UserWorkflowRun.decide_step, decision)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        kind = cause.type if isinstance(cause, ApplicationError) else None
        code, name, message = DECISION_ERRORS.get(kind or "", (409, "decision_refused", str(cause)))
        raise ApiError(code, name, message, field="step_id") from err
    except RPCError as err:
        raise ApiError(409, "run_not_running", "This run is no longer accepting decisions", field="run_id") from err
    return {"run_id": run_id, "step_id": step_id, "decision": body.decision}


async def owned_run(
    temporal: TemporalDep, run_id: str, caller: CallerDep
) -> tuple[WorkflowHandle, WorkflowExecutionDescription]:
    """The run if the caller may see it; otherwise 404, exactly as for an id that never existed."""
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
    if description.workflow_type != "UserWorkflowRun" or not (caller.is_founder or owner == caller.tenant_id):
        raise not_found
    return handle, description


def effective_status(reported: str, execution: WorkflowExecutionStatus | None) -> Any:
    """The run's own status, unless Temporal closed it without the run saying so (terminated, timed out)."""
    if execution in CLOSED_STATUS and reported in ("running", "waiting_approval"):
        return CLOSED_STATUS[execution]  # type: ignore[index]
    return reported


async def _summary(execution: Any) -> RunSummary:
    attributes = execution.typed_search_attributes
    run_status = effective_status(attributes.get(RUN_STATUS) or "running", execution.status)
    return RunSummary(
        run_id=execution.id.removeprefix("run-"), definition_id=attributes.get(DEFINITION_ID),
        status=run_status, trigger=(await execution.memo()).get(TRIGGER_MEMO, "api"),
        started_at=execution.start_time, closed_at=execution.close_time,
    )
