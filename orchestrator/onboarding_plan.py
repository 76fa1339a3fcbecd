"""Turns a new tenant's goals into a short plan and a first workflow draft (the `WorkflowDraft` child); when the AI
cannot, a plan of catalog steps picked by the goals' keywords and the fallback draft."""

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, Field, ValidationError

    from activities.help_texts import HelpTextActivities
    from orchestrator.brain_calls import ask_brain
    from orchestrator.retries import STORE_TIMEOUT
    from schemas.brain import (
        BrainAnswer,
        BrainAsk,
        ChatMessage,
        DraftInput,
        DraftPublic,
        DraftReport,
        FallbackReason,
        OnboardingFallbackAsk,
        OnboardingInput,
        OnboardingPublic,
        OnboardingSteps,
    )

TEXT_RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(milliseconds=200))
DRAFT_TIMEOUT = timedelta(minutes=4)
PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "plan": {"type": "array", "items": {"type": "string"}, "minItems": 3, "maxItems": 6},
        "first_workflow": {"type": "string"},
    },
    "required": ["plan", "first_workflow"],
    "additionalProperties": False,
}
INSTRUCTIONS = (
    "You help a new customer of Levqor, a workflow-automation platform (workflows are steps: HTTP calls, delays, "
    "logs, e-mails, conditions, approval gates, transforms and AI calls; they start from the API, webhooks or "
    "schedules; keys of other services are stored as named secrets). From their goals, write a plan of 3 to 6 short "
    "steps (one sentence each) to get started, and one sentence describing the first workflow to build. Write both "
    "in the language with the BCP 47 tag `{language}`. Reply as JSON with `plan` and `first_workflow`."
)


class _AiPlan(BaseModel):
    plan: list[str] = Field(min_length=3, max_length=6)
    first_workflow: str = Field(min_length=1, max_length=1_000)


@workflow.defn
class OnboardingPlan:
    @workflow.run
    async def run(self, params: OnboardingInput) -> OnboardingPublic:
        reason: FallbackReason | None = params.fallback_reason
        if reason is None:
            answer = await ask_brain(_ask(params))
            if isinstance(answer, BrainAnswer):
                steps = _parsed(answer)
                if steps is not None:
                    draft = await self._draft(params, steps.first_workflow, None)
                    return OnboardingPublic(
                        source="ai", plan=steps.plan, draft=draft, credits=answer.credits + draft.credits
                    )
                reason = "invalid_answer"
            else:
                reason = answer
        steps = await workflow.execute_activity_method(
            HelpTextActivities.plan_onboarding_fallback,
            OnboardingFallbackAsk(goals=params.goals, language=params.language),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=TEXT_RETRY,
        )
        draft = await self._draft(params, steps.first_workflow, reason)
        return OnboardingPublic(source="fallback", fallback_reason=reason, plan=steps.plan, draft=draft)

    async def _draft(self, params: OnboardingInput, prompt: str, reason: FallbackReason | None) -> DraftPublic:
        draft_input = DraftInput(
            tenant_id=params.tenant_id,
            plan=params.tenant_plan,
            prompt=prompt,
            language=params.language,
            fallback_reason=reason,
        )
        try:
            return await workflow.execute_child_workflow(
                "WorkflowDraft",
                draft_input,
                id=f"onboarding-draft-{workflow.info().run_id}",
                result_type=DraftPublic,
                execution_timeout=DRAFT_TIMEOUT,
            )
        except ChildWorkflowError:
            # The plan still helps; the draft says it is missing rather than failing the whole answer.
            return DraftPublic(
                source="fallback",
                fallback_reason=reason or "provider_failed",
                definition={},
                report=DraftReport(valid=False),
                explanation=prompt,
            )


def _ask(params: OnboardingInput) -> BrainAsk:
    return BrainAsk(
        tenant_id=params.tenant_id,
        purpose="onboarding",
        messages=[
            ChatMessage(role="system", content=INSTRUCTIONS.format(language=params.language)),
            ChatMessage(role="user", content=params.goals),
        ],
        response_schema=PLAN_SCHEMA,
        schema_name="onboarding_plan",
    )


def _parsed(answer: BrainAnswer) -> OnboardingSteps | None:
    try:
        found = _AiPlan.model_validate(answer.data or {})
    except ValidationError:
        return None
    plan = [" ".join(step.split())[:300] for step in found.plan if step.strip()]
    first = " ".join(found.first_workflow.split())
    return OnboardingSteps(plan=plan, first_workflow=first) if len(plan) >= 3 and first else None
