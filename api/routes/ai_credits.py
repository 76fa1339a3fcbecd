"""AI credits: what the caller's tenant used today and this month against its plan's caps."""

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import BrainDep
from domain.ai_allowance import ai_credit_status
from schemas.brain import AiCreditStatus

router = APIRouter(prefix="/api/ai", tags=["ai"])


@router.get("/credits")
async def get_ai_credits(brain: BrainDep) -> AiCreditStatus:
    """The tenant's AI credits used today (UTC) and this month, the caps of its plan (null: unlimited), and whether
    AI answers fall back now (`exhausted`: a cap reached, or the cost autopilot paused its AI)."""
    return await run_in_threadpool(ai_credit_status, brain.engine, brain.tenant_id, brain.plan)
