"""The words the Brain's pages use for what the AI answered: why an answer is a fallback, and what each workflow
suggestion asks for. One place, so the help panel, the debugger, the wizard and the workflow page say it alike."""

from schemas.brain import FallbackReason, SuggestionKind
from schemas.i18n import Text, tr

# "AI is not available: <reason>": each FallbackReason in a person's words.
FALLBACK_REASONS: dict[FallbackReason, Text] = {
    "ai_off": tr("AI features are switched off for now"),
    "not_configured": tr("no AI provider is set up"),
    "credits_exhausted": tr("your team's AI credits for today or this month are used up"),
    "provider_failed": tr("the AI provider did not answer in time"),
    "refused": tr("the AI declined to answer"),
    "invalid_answer": tr("the AI's answer did not pass our checks"),
}
SUGGESTION_TITLES: dict[SuggestionKind, Text] = {
    "retry_step": tr("Retry this step"),
    "guard_with_approval": tr("Guard this with an approval"),
    "name_a_fallback": tr("Name a fallback"),
    "describe_the_input": tr("Describe the input"),
}
SUGGESTION_REASONS: dict[SuggestionKind, Text] = {
    "retry_step": tr("It failed for good lately and has no retry policy of its own: give it more attempts."),
    "guard_with_approval": tr("It sends an e-mail or changes data elsewhere with nobody deciding first: put a class B or C approval before it."),
    "name_a_fallback": tr("When the AI cannot answer, the step fails: name a fixed text or another model to use instead."),
    "describe_the_input": tr("A webhook starts this workflow: an input schema refuses bad deliveries before they run."),
}  # fmt: skip


def fallback_text(reason: FallbackReason | None) -> Text | None:
    """Why the AI did not write an answer, for "AI is not available: …"; None when it did."""
    return FALLBACK_REASONS.get(reason) if reason is not None else None
