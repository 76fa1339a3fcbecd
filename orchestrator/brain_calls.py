"""How a Brain workflow asks the AI: one activity call with the Brain's retry policy, and the reason to fall back
when it fails. The Brain's workflows (drafts, diagnoses, chat, onboarding, ticket triage) all ask through here."""

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.brain import BrainActivities
    from orchestrator.retries import BRAIN_RETRY, BRAIN_TIMEOUT
    from schemas.brain import BrainAnswer, BrainAsk, FallbackReason

# The activity's failure types, as the reason an answer falls back.
FALLBACK_REASONS: dict[str, FallbackReason] = {
    "AiDisabled": "ai_off",
    "AiNotConfigured": "not_configured",
    "AiCreditsExhausted": "credits_exhausted",
    "AiRefused": "refused",
    "AiInvalidAnswer": "invalid_answer",
}


async def ask_brain(ask: BrainAsk) -> BrainAnswer | FallbackReason:
    """The AI's answer, or why there is none after the retries (then the caller answers with its fallback)."""
    try:
        return await workflow.execute_activity_method(
            BrainActivities.ask, ask, start_to_close_timeout=BRAIN_TIMEOUT, retry_policy=BRAIN_RETRY
        )
    except ActivityError as err:
        cause = err.cause
        kind = cause.type if isinstance(cause, ApplicationError) else None
        return FALLBACK_REASONS.get(kind or "", "provider_failed")
