"""Drafts a workflow definition from a sentence: structured outputs, validated, repaired at most 3 rounds; the
closest template when the AI cannot.

Each AI round's definition is checked by an activity (the validator and the literal-credential refusal); an invalid
one goes back to the model with the report, and after the last round the answer is the template draft (source
"fallback", reason "invalid_answer"), never an invalid definition called valid. Credits are the sum of the rounds'."""

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.drafting import DraftActivities
    from orchestrator.brain_calls import ask_brain
    from schemas.brain import BrainAsk, ChatMessage, DraftInput, DraftPublic, FallbackReason
    from schemas.drafting import DraftBrief, DraftCheck

MAX_ROUNDS = 3
# The drafting activities are pure and quick; one that fails twice has a bug no retry heals.
DRAFT_STEP_TIMEOUT = timedelta(seconds=20)
DRAFT_STEP_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=2)


@workflow.defn
class WorkflowDraft:
    @workflow.run
    async def run(self, params: DraftInput) -> DraftPublic:
        if params.fallback_reason is not None:
            return await _template_draft(params, params.fallback_reason, credits=0)
        brief = await workflow.execute_activity_method(
            DraftActivities.brief_draft,
            params,
            start_to_close_timeout=DRAFT_STEP_TIMEOUT,
            retry_policy=DRAFT_STEP_RETRY,
        )
        return await _ai_draft(params, brief)


async def _ai_draft(params: DraftInput, brief: DraftBrief) -> DraftPublic:
    messages, credits = list(brief.messages), 0
    for round_number in range(1, MAX_ROUNDS + 1):
        ask = BrainAsk(
            tenant_id=params.tenant_id,
            purpose="draft",
            messages=messages,
            response_schema=brief.response_schema,
            schema_name="workflow_draft",
        )
        answer = await ask_brain(ask)
        if isinstance(answer, str):
            return await _template_draft(params, answer, credits)
        credits += answer.credits
        data: dict[str, Any] = answer.data or {}
        check = DraftCheck(definition=data.get("definition"), plan=params.plan, language=params.language)
        checked = await workflow.execute_activity_method(
            DraftActivities.check_draft, check, start_to_close_timeout=DRAFT_STEP_TIMEOUT, retry_policy=DRAFT_STEP_RETRY
        )
        if checked.report.valid:
            explanation = data.get("explanation")
            return DraftPublic(
                source="ai",
                credits=credits,
                definition=data["definition"],
                report=checked.report,
                explanation=explanation if isinstance(explanation, str) else "",
                rounds=round_number,
            )
        workflow.logger.info("draft invalid", extra={"round": round_number, "errors": len(checked.report.errors)})
        messages += [
            ChatMessage(role="assistant", content=answer.text),
            ChatMessage(role="user", content=checked.repair),
        ]
    return await _template_draft(params, "invalid_answer", credits)


async def _template_draft(params: DraftInput, reason: FallbackReason, credits: int) -> DraftPublic:
    """The template draft, carrying the credits the AI rounds before it used."""
    fallback = params.model_copy(update={"fallback_reason": reason})
    draft = await workflow.execute_activity_method(
        DraftActivities.draft_from_template,
        fallback,
        start_to_close_timeout=DRAFT_STEP_TIMEOUT,
        retry_policy=DRAFT_STEP_RETRY,
    )
    return draft.model_copy(update={"credits": credits})
