"""The help chat, the knowledge base and onboarding."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from api.ai_answers import refuse_when_out_of_credits
from api.deps import BrainDep, CallerDep, EngineDep
from api.errors import reader_locale
from domain import ai_help
from schemas.brain import (
    ChatCreate,
    ChatPublic,
    KnowledgeHits,
    KnowledgePassage,
    OnboardingCreate,
    OnboardingPublic,
)

router = APIRouter(prefix="/api/ai", tags=["ai"])


@router.post("/chat")
async def ask_help(body: ChatCreate, brain: BrainDep, request: Request) -> ChatPublic:
    """An answer to `question` about Levqor or the tenant's own workflows and runs (`context` may name the page,
    a workflow or a run: 404 when it is not the tenant's), in `language` (the reader's when unset), citing the
    knowledge-base passages it used. When the AI cannot answer: the matching passages under why (`source:
    "fallback"`, `fallback_reason`); 429 `ai_credits_exhausted` with that answer under `fallback` when the tenant's
    AI credits are used up."""
    answer = await ai_help.answer_question(brain, body, reader_locale(request))
    refuse_when_out_of_credits(answer)
    return answer


@router.post("/onboarding")
async def plan_onboarding(body: OnboardingCreate, brain: BrainDep, request: Request) -> OnboardingPublic:
    """A short plan (3–6 steps) for a new tenant's `goals` and a first workflow draft (validated, never stored), in
    `language` (the reader's when unset). When the AI cannot: a plan picked by the goals' keywords and the closest
    template's draft (`source: "fallback"`); 429 `ai_credits_exhausted` with it under `fallback` when the tenant's AI
    credits are used up."""
    answer = await ai_help.plan_onboarding(brain, body, reader_locale(request))
    refuse_when_out_of_credits(answer)
    return answer


@router.get("/knowledge")
async def search_knowledge(
    caller: CallerDep,
    engine: EngineDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="Words to search for")],
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> KnowledgeHits:
    """The knowledge base's passages (README, language reference, templates) matching any word of `q`, best first."""
    passages = await run_in_threadpool(ai_help.search_knowledge, engine, q, limit)
    return KnowledgeHits(query=q, passages=passages)


@router.get("/knowledge/{passage_id}")
async def read_passage(passage_id: str, caller: CallerDep, engine: EngineDep) -> KnowledgePassage:
    """One passage of the knowledge base; 404 `passage_not_found` for an unknown id."""
    return await run_in_threadpool(ai_help.knowledge_passage, engine, passage_id)
