"""Approval gates of runs: who decides, deciding a waiting gate through the run's update, and listing waiting
gates."""

import asyncio
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from core.errors import ApiError
from domain.runs import FoundRun, refuse_unless_running
from orchestrator.user_run import UserWorkflowRun
from schemas.i18n import tr
from schemas.runs import ApprovalPublic, RunProgress, StepDecision
from schemas.tables import ApiKey, User

MAX_LISTED = 200
# A waiting run answers its query from a worker; one no worker polls for (its queue gone) is left out, not waited for.
GATE_QUERY_TIMEOUT = timedelta(seconds=5)
DECISION_ERRORS = {
    "StepNotWaiting": (409, "step_not_waiting", "This step is not waiting for a decision"),
    "RoleNotAllowed": (403, "role_not_allowed", "Your role may not decide this gate"),
}


async def decider_name(engine: Engine, user_id: str | None, key_id: str | None) -> str:
    """Who decides, as the run records it (`StepDecision.decided_by`): a signed-in user's e-mail (after the name,
    when the user has one), an API key's prefix and label, else the founder token's `founder`."""
    return await asyncio.to_thread(_decider_name, engine, user_id, key_id)


def _decider_name(engine: Engine, user_id: str | None, key_id: str | None) -> str:
    with Session(engine) as session:
        if user_id is not None:
            user = session.get(User, user_id)
            if user is None:
                return f"user {user_id}"
            return f"{user.name} <{user.email}>" if user.name else user.email
        if key_id is not None:
            key = session.get(ApiKey, key_id)
            if key is None:
                return f"key {key_id}"
            return f"key {key.prefix}… ({key.label})" if key.label else f"key {key.prefix}…"
    return "founder"


async def decide_step(found: FoundRun, decision: StepDecision) -> None:
    """Hands the decision to the running run, whose validator answers: 409 when the step is not waiting,
    403 when the decider's role may not decide this gate's class."""
    run = refuse_unless_running(found)
    try:
        await run.handle.execute_update(UserWorkflowRun.decide_step, decision)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        kind = cause.type if isinstance(cause, ApplicationError) else None
        code, name, message = DECISION_ERRORS.get(kind or "", (409, "decision_refused", str(cause)))
        raise ApiError(code, name, message, field="step_id") from err
    except RPCError as err:
        raise ApiError(409, "run_not_running", tr("This run is no longer accepting decisions"), field="run_id") from err


async def pending_approvals(temporal: Client, tenant_id: str | None) -> list[ApprovalPublic]:
    """Gates waiting for a decision in the tenant's runs (every tenant's when None), oldest request first."""
    pending = [
        ApprovalPublic(run_id=p.run_id, tenant_id=p.tenant_id, definition_id=p.definition_id, gate=p.waiting)
        for p in await waiting_runs(temporal, tenant_id)
        if p.waiting is not None
    ]
    return sorted(pending, key=lambda approval: approval.gate.requested_at)


async def waiting_runs(temporal: Client, tenant_id: str | None) -> list[RunProgress]:
    """The progress of every run waiting at a gate (the tenant's, or every tenant's when None) that answers."""
    query = "WorkflowType = 'UserWorkflowRun' AND RunStatus = 'waiting_approval' AND ExecutionStatus = 'Running'"
    if tenant_id is not None:
        query += f" AND TenantId = '{tenant_id}'"
    handles = [
        temporal.get_workflow_handle(execution.id)
        async for execution in temporal.list_workflows(query, limit=MAX_LISTED)
    ]
    progresses = await asyncio.gather(
        *(h.query(UserWorkflowRun.progress, rpc_timeout=GATE_QUERY_TIMEOUT) for h in handles), return_exceptions=True
    )
    return [p for p in progresses if not isinstance(p, RPCError | BaseException) and p.waiting is not None]
