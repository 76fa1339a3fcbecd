"""Approval gates of runs: who decides, deciding a waiting gate through the run's update, and listing waiting
gates."""

import asyncio
import time
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from core.errors import ApiError
from domain.runs import FoundRun, refuse_unless_running
from orchestrator.user_run import UserWorkflowRun
from schemas.i18n import tr
from schemas.runs import ApprovalPublic, RunProgress, StepDecision
from schemas.tables import ApiKey, User

MAX_LISTED = 200
# A waiting run answers its query from a worker within milliseconds; one no worker polls for (its queue gone, its
# workers down) is left out of the listing. It is waited for once, up to GATE_QUERY_TIMEOUT; while it keeps not
# answering it is asked with the short bound, so that it costs later listings (and the pages that poll them) at most
# UNANSWERED_QUERY_TIMEOUT, and it is listed again as soon as it answers within it. A run is remembered as
# unanswering for UNANSWERED_MEMORY after its last miss.
GATE_QUERY_TIMEOUT = timedelta(seconds=5)
UNANSWERED_QUERY_TIMEOUT = timedelta(milliseconds=500)
UNANSWERED_MEMORY = timedelta(minutes=10)
# The client's own bound ends the call as CANCELLED ("Timeout expired"); the server's as DEADLINE_EXCEEDED.
TIMED_OUT = (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED)
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
    run_ids = [execution.id async for execution in temporal.list_workflows(query, limit=MAX_LISTED)]
    _unanswered.forget_stale()
    progresses = await asyncio.gather(*(_progress(temporal, run_id) for run_id in run_ids))
    return [p for p in progresses if p is not None and p.waiting is not None]


class _Unanswered:
    """The runs that lately did not answer the gate query in time (this process's memory; each API process has its
    own), with when they last missed."""

    def __init__(self) -> None:
        self._missed_at: dict[str, float] = {}

    def bound_for(self, run_id: str) -> timedelta:
        return UNANSWERED_QUERY_TIMEOUT if run_id in self._missed_at else GATE_QUERY_TIMEOUT

    def missed(self, run_id: str) -> None:
        self._missed_at[run_id] = time.monotonic()

    def answered(self, run_id: str) -> None:
        self._missed_at.pop(run_id, None)

    def forget_stale(self) -> None:
        """Forgets misses older than UNANSWERED_MEMORY (runs since closed, or not listed since): the full bound again."""
        cutoff = time.monotonic() - UNANSWERED_MEMORY.total_seconds()
        for run_id, at in list(self._missed_at.items()):
            if at < cutoff:
                self._missed_at.pop(run_id, None)


_unanswered = _Unanswered()


async def _progress(temporal: Client, run_id: str) -> RunProgress | None:
    """The run's progress, or None when it closed or did not answer within its bound (remembered when it timed out)."""
    try:
        progress = await temporal.get_workflow_handle(run_id).query(
            UserWorkflowRun.progress, rpc_timeout=_unanswered.bound_for(run_id)
        )
    except RPCError as err:
        if err.status in TIMED_OUT:
            _unanswered.missed(run_id)
        return None
    except Exception:  # a query the run failed to answer (e.g. a workflow task failing on this worker)
        return None
    _unanswered.answered(run_id)
    return progress
