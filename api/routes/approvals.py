"""Pending approval gates: the caller's tenant's, or every tenant's for the founder."""

import asyncio

from fastapi import APIRouter
from temporalio.service import RPCError

from api.deps import CallerDep, TemporalDep
from orchestrator.user_run import UserWorkflowRun
from schemas.api import ApprovalPublic

router = APIRouter(prefix="/api/approvals", tags=["approvals"])
MAX_LISTED = 200


@router.get("")
async def list_approvals(caller: CallerDep, temporal: TemporalDep) -> list[ApprovalPublic]:
    """Gates waiting for a decision, oldest request first."""
    query = "WorkflowType = 'UserWorkflowRun' AND RunStatus = 'waiting_approval' AND ExecutionStatus = 'Running'"
    if not caller.is_founder:
        query += f" AND TenantId = '{caller.tenant_id}'"
    handles = [temporal.get_workflow_handle(execution.id) async for execution in temporal.list_workflows(query, limit=MAX_LISTED)]
    progresses = await asyncio.gather(*(h.query(UserWorkflowRun.progress) for h in handles), return_exceptions=True)
    pending = [
        ApprovalPublic(run_id=p.run_id, tenant_id=p.tenant_id, definition_id=p.definition_id, gate=p.waiting)
        for p in progresses
        if not isinstance(p, RPCError | BaseException) and p.waiting is not None
    ]
    return sorted(pending, key=lambda approval: approval.gate.requested_at)
