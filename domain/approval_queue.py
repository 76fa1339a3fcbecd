"""The Admin Power Panel's approval queue: every class C gate waiting across tenants with what a founder needs to
decide it (tenant, workflow and version, and the message, input and next steps masked), and a founder's decision,
made through the run's update as any other and kept in the tenant's audit log."""

import asyncio
import re
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import NoResultFound
from sqlmodel import Session, col, select
from temporalio.client import Client

from core.errors import ApiError
from core.logs import redact
from domain.approvals import decide_step, waiting_runs
from domain.definitions import parsed_version
from domain.runs import found_run, refuse_unless_running
from orchestrator.search_attributes import TENANT_ID
from schemas.panel import QueuedGate
from schemas.runs import RunProgress, StepDecision
from schemas.tables import AuditEntry, Tenant

NEXT_STEPS_SHOWN = 3
# `{{ secrets.NAME }}` in a step's configuration: the founder sees which secret a step would use, never a value.
SECRET_REFERENCE = re.compile(r"\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


async def founder_queue(engine: Engine, temporal: Client) -> list[QueuedGate]:
    """Every class C gate waiting across tenants, oldest request first, with its tenant, its workflow's name and
    version, and its message, the run's input and the steps after the gate masked (founders only: the caller
    checks)."""
    waiting = [p for p in await waiting_runs(temporal, None) if p.waiting and p.waiting.approval_class == "C"]
    gates = await asyncio.to_thread(_with_context, engine, waiting)
    return sorted(gates, key=lambda queued: queued.gate.requested_at)


def _with_context(engine: Engine, waiting: list[RunProgress]) -> list[QueuedGate]:
    with Session(engine) as session:
        tenants = {
            t.id: t.name for t in session.exec(select(Tenant).where(col(Tenant.id).in_({p.tenant_id for p in waiting})))
        }
    queued = []
    for progress in waiting:
        if progress.waiting is None:  # waiting_runs answers only runs at a gate
            continue
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
