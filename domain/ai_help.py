"""The help chat, onboarding and the knowledge base, for the JSON API and the web app: a chat answer or an onboarding
plan is a short Brain workflow the caller waits for; the knowledge base is read directly."""

from anyio import to_thread
from sqlmodel import Session
from temporalio.client import WorkflowFailureError

from core.errors import ApiError
from core.i18n import canonical_tag
from domain.ai_allowance import ai_unavailable
from domain.brain_context import BrainContext
from domain.definitions import tenant_definition
from domain.knowledge import knowledge_passage, list_knowledge, search_knowledge
from domain.runs import found_run
from orchestrator.help_chat import HelpChat
from orchestrator.onboarding_plan import OnboardingPlan
from schemas.brain import (
    ChatContext,
    ChatCreate,
    ChatPublic,
    FallbackReason,
    HelpChatInput,
    OnboardingCreate,
    OnboardingInput,
    OnboardingPublic,
)
from schemas.i18n import tr
from starters.brain import ask_and_wait

__all__ = ["answer_question", "knowledge_passage", "list_knowledge", "plan_onboarding", "search_knowledge"]


async def answer_question(brain: BrainContext, body: ChatCreate, language: str) -> ChatPublic:
    """The answer to `body.question` in `body.language` (else `language`, the reader's), grounded in the knowledge
    base and, when asked about them, the tenant's own workflows and runs, with the passages it cites; the matching
    passages under why the AI is not answering when it cannot. 404 for a workflow or run in `context` that is not
    the tenant's; 422 for a blank question or an unknown language; 503 `help_failed` when no answer could be made."""
    if not body.question.strip():
        raise ApiError(422, "empty_question", tr("Ask a question in a few words"), field="body.question")
    tag = _language(body.language, language)
    if body.context is not None:
        await _check_context(brain, body.context)
    params = HelpChatInput(
        tenant_id=brain.tenant_id,
        question=body.question,
        context=body.context,
        language=tag,
        fallback_reason=await to_thread.run_sync(_unavailable, brain),
    )
    try:
        return await ask_and_wait(
            brain.client, HelpChat.run, params, kind="chat", tenant_id=brain.tenant_id, task_queue=brain.task_queue
        )
    except WorkflowFailureError as err:
        raise ApiError(503, "help_failed", tr("No answer could be made just now; try again")) from err


async def plan_onboarding(brain: BrainContext, body: OnboardingCreate, language: str) -> OnboardingPublic:
    """A short plan for `body.goals` and a first workflow draft, in `body.language` (else `language`): the AI's when
    it can, else a plan picked by the goals' keywords and the closest template's draft. Nothing is stored. 422 for
    blank goals or an unknown language; 503 `onboarding_failed` when no plan could be made."""
    if not body.goals.strip():
        raise ApiError(422, "empty_goals", tr("Describe your goals in a few words"), field="body.goals")
    params = OnboardingInput(
        tenant_id=brain.tenant_id,
        tenant_plan=brain.plan,
        goals=body.goals,
        language=_language(body.language, language),
        fallback_reason=await to_thread.run_sync(_unavailable, brain),
    )
    try:
        return await ask_and_wait(
            brain.client,
            OnboardingPlan.run,
            params,
            kind="onboarding",
            tenant_id=brain.tenant_id,
            task_queue=brain.task_queue,
        )
    except WorkflowFailureError as err:
        raise ApiError(503, "onboarding_failed", tr("No plan could be made just now; try again")) from err


def _language(requested: str | None, reader: str) -> str:
    tag = canonical_tag(requested) if requested is not None else reader
    if tag is None:
        raise ApiError(422, "unknown_language", tr("Levqor does not speak this language"), field="body.language")
    return tag


async def _check_context(brain: BrainContext, context: ChatContext) -> None:
    """404 unless the workflow and run the question is asked about are the tenant's."""
    if context.workflow_id is not None:
        await to_thread.run_sync(_own_workflow, brain, context.workflow_id)
    if context.run_id is not None:
        await found_run(brain.engine, brain.client, context.run_id, brain.tenant_id)


def _own_workflow(brain: BrainContext, workflow_id: str) -> None:
    with Session(brain.engine) as session:
        tenant_definition(session, workflow_id, brain.tenant_id)


def _unavailable(brain: BrainContext) -> FallbackReason | None:
    return ai_unavailable(brain.engine, brain.tenant_id, brain.plan, configured=brain.ai_configured)
