"""Approval gates of runs: who decides, deciding a waiting gate through the run's update, and listing waiting
gates."""

import asyncio
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import NoResultFound
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from core.errors import ApiError
from core.logs import redact
from domain.definitions import parsed_version
from domain.runs import FoundRun, found_run, refuse_unless_running
from orchestrator.search_attributes import TENANT_ID
from orchestrator.user_run import UserWorkflowRun
from schemas.i18n import tr
from schemas.panel import QueuedGate
from schemas.runs import ApprovalPublic, RunProgress, StepDecision
from schemas.tables import ApiKey, AuditEntry, Tenant, User

MAX_LISTED = 200
NEXT_STEPS_SHOWN = 3
# `{{ secrets.NAME }}` in a step's configuration: the founder sees which secret a step would use, never a value.
SECRET_REFERENCE = re.compile(r"\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
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
        for p in await _waiting_runs(temporal, tenant_id)
        if p.waiting is not None
    ]
    return sorted(pending, key=lambda approval: approval.gate.requested_at)


async def _waiting_runs(temporal: Client, tenant_id: str | None) -> list[RunProgress]:
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


async def founder_queue(engine: Engine, temporal: Client) -> list[QueuedGate]:
    """Every class C gate waiting across tenants, oldest request first, with its tenant, its workflow's name and
    version, and its message, the run's input and the steps after the gate masked (founders only: the caller
    checks)."""
    waiting = [p for p in await _waiting_runs(temporal, None) if p.waiting and p.waiting.approval_class == "C"]
    gates = await asyncio.to_thread(_with_context, engine, waiting)
    return sorted(gates, key=lambda queued: queued.gate.requested_at)


def _with_context(engine: Engine, waiting: list[RunProgress]) -> list[QueuedGate]:
    with Session(engine) as session:
        tenants = {
            t.id: t.name for t in session.exec(select(Tenant).where(col(Tenant.id).in_({p.tenant_id for p in waiting})))
        }
    queued = []
    for progress in waiting:
        assert progress.waiting is not None
        name, steps = _definition_steps(engine, progress)
        queued.append(
            QueuedGate(
                run_id=progress.run_id,
                tenant_id=progress.tenant_id,
                tenant_name=tenants.get(progress.tenant_id, progress.tenant_id),
                definition_id=progress.definition_id,
                workflow_name=name,
                version=progress.version,
                gate=progress.waiting.model_copy(update={"message": masked(progress.waiting.message)}),
                inputs=masked(progress.input),
                next_steps=[masked(step) for step in _after(steps, progress.waiting.step_id)],
            )
        )
    return queued


def _definition_steps(engine: Engine, progress: RunProgress) -> tuple[str, list[dict[str, Any]]]:
    """The run's definition version's name and steps as JSON; the id alone when the version cannot be read."""
    try:
        definition = parsed_version(engine, progress.definition_id, progress.version)
    except (ApiError, NoResultFound):
        return progress.definition_id, []
    return definition.name, definition.model_dump(mode="json", by_alias=True, exclude_none=True)["steps"]


def _after(steps: list[dict[str, Any]], step_id: str) -> list[dict[str, Any]]:
    """The steps after `step_id` in the definition's order, at most NEXT_STEPS_SHOWN."""
    ids = [str(step.get("id")) for step in steps]
    start = ids.index(step_id) + 1 if step_id in ids else len(steps)
    return steps[start : start + NEXT_STEPS_SHOWN]


def masked(value: Any) -> Any:
    """`value` as a founder may read it: secret references named but never resolved, values under credential-named
    keys and credential-looking values masked, e-mail addresses shortened (core/logs.py's redaction)."""
    if isinstance(value, str):
        return redact(SECRET_REFERENCE.sub("\U0001f512 secrets.\\1", value))
    if isinstance(value, dict):
        return redact({k: masked(v) for k, v in value.items()})
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


async def decide_as_founder(engine: Engine, temporal: Client, run_id: str, decision: StepDecision, actor: str) -> None:
    """A founder's decision of any tenant's waiting gate (the Admin Power Panel's queue), as `decide_step` answers
    it, recorded in the tenant's audit log as `actor` once the run took it."""
    found = refuse_unless_running(await found_run(engine, temporal, run_id, None))
    await decide_step(found, decision)
    tenant_id = found.description.typed_search_attributes.get(TENANT_ID)
    await asyncio.to_thread(_audit_decision, engine, tenant_id, run_id, decision, actor)


def _audit_decision(engine: Engine, tenant_id: str | None, run_id: str, decision: StepDecision, actor: str) -> None:
    detail = {"run_id": run_id, "step_id": decision.step_id, "approved": decision.approved}
    if decision.comment:
        detail["comment"] = decision.comment
    action = "approval.approved" if decision.approved else "approval.rejected"
    with Session(engine) as session:
        session.add(AuditEntry(tenant_id=tenant_id, actor=actor[:100], action=action, detail=detail))
        session.commit()
