"""AI credits and the calls that used them: the caller's tenant's credits today and this month against its plan's
caps, and its AI calls' audit."""

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from api.deps import BrainDep
from domain.ai_allowance import ai_credit_status
from domain.ai_interactions import recent_interactions
from schemas.brain import AiCreditStatus, AiInteractionPublic

router = APIRouter(prefix="/api/ai", tags=["ai"])


@router.get("/credits")
async def get_ai_credits(brain: BrainDep) -> AiCreditStatus:
    """The tenant's AI credits used today (UTC) and this month, the caps of its plan (null: unlimited), and whether
    AI answers fall back now (`exhausted`: a cap reached, or the cost autopilot paused its AI)."""
    return await run_in_threadpool(ai_credit_status, brain.engine, brain.tenant_id, brain.plan)


@router.get("/interactions")
async def list_ai_interactions(
    brain: BrainDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[AiInteractionPublic]:
    """The tenant's latest AI calls, newest first: purpose, model, credits and outcome (kept for the tenant's
    `ai_transcripts` retention)."""
    return await run_in_threadpool(recent_interactions, brain.engine, brain.tenant_id, limit)
