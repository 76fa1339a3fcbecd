"""Workflow drafts from a sentence."""

from fastapi import APIRouter, Request

from api.ai_answers import refuse_when_out_of_credits
from api.deps import BrainDep
from api.errors import reader_locale
from domain.ai_drafts import draft_workflow
from schemas.brain import DraftCreate, DraftPublic

router = APIRouter(prefix="/api/ai/workflows", tags=["ai"])


@router.post("/draft")
async def draft(body: DraftCreate, brain: BrainDep, request: Request) -> DraftPublic:
    """A workflow definition drafted from `prompt`, with its validator report and an explanation in `language` (the
    reader's when unset). Written by the AI (`source: "ai"`, repaired until valid, at most 3 rounds) or, when the AI
    cannot, from the closest template (`source: "fallback"` and `fallback_reason`); 429 `ai_credits_exhausted` with the
    template draft under `fallback` when the tenant's AI credits are used up. Nothing is stored."""
    answer = await draft_workflow(brain, body, reader_locale(request))
    refuse_when_out_of_credits(answer)
    return answer
