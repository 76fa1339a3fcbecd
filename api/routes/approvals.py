"""Pending approval gates: the caller's tenant's, or every tenant's for the founder."""

from fastapi import APIRouter

from api.deps import CallerDep, TemporalDep
from domain.approvals import pending_approvals
from schemas.runs import ApprovalPublic

router = APIRouter(prefix="/api/approvals", tags=["approvals"])


@router.get("")
async def list_approvals(caller: CallerDep, temporal: TemporalDep) -> list[ApprovalPublic]:
    """Gates waiting for a decision, oldest request first."""
    return await pending_approvals(temporal, caller.tenant_id)
