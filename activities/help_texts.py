"""What the help chat and onboarding say when the AI cannot answer: catalog texts rendered in the requested language
(the search results under why the AI is not answering; an onboarding plan picked by the goals' keywords)."""

import re

from temporalio import activity

from core.i18n import render
from schemas.brain import ChatFallbackAsk, FallbackReason, OnboardingFallbackAsk, OnboardingSteps
from schemas.i18n import Text, tr

MAX_FIRST_WORKFLOW_CHARS = 500
REASONS: dict[FallbackReason, Text] = {
    "ai_off": tr("The AI assistant is switched off on this platform for now."),
    "not_configured": tr("The AI assistant is not set up on this platform."),
    "credits_exhausted": tr("Your AI credits are used up for now."),
    "provider_failed": tr("The AI provider did not answer in time."),
    "refused": tr("The AI declined to answer this question."),
    "invalid_answer": tr("The AI's answer could not be used."),
}
FOUND = tr("These passages of the documentation match your question:")
NOTHING_FOUND = tr(
    "No passage of the documentation matches your question; try other words or browse the knowledge base."
)

# The onboarding steps in their order, each with the starts of the goals' words that call for it (None: always).
CONNECT = tr("Store the keys of the services you connect as secrets (PUT /api/secrets/NAME) and use them as {{ secrets.NAME }} in HTTP steps.")  # fmt: skip
CREATE = tr("Create your first workflow from the draft below and run it once to see each step's result.")
APPROVE = tr("Add an approval gate (class B or C) before risky steps such as e-mails, payments or deletions.")
SCHEDULE = tr("Schedule the workflow so that it runs on its own (POST /api/workflows/{id}/schedules).")
INVITE = tr("Invite your team from Users & keys, as members or admins.")
WATCH = tr("Watch the run history and the failure queue: a failed run can be retried from its failed step.")
PLAN_RULES: list[tuple[Text, str | None]] = [
    (CONNECT, "api http connect integrat crm stripe shopify slack teams webhook sync token key secret hubspot"),
    (CREATE, None),
    (APPROVE, "approv review refund pay invoice email e-mail send delete risk money customer"),
    (SCHEDULE, "daily weekly monthly hourly every schedul morning night report digest remind cron"),
    (INVITE, "team colleague staff employee invite member together users people equipo équipe"),
    (WATCH, None),
]
MIN_PLAN_STEPS = 3


class HelpTextActivities:
    @activity.defn
    def write_chat_fallback(self, ask: ChatFallbackAsk) -> str:
        """Why the AI is not answering, then the passages found (title and excerpt), in `ask.language`."""
        lines = [
            f"{render(REASONS[ask.reason], ask.language)} {render(FOUND if ask.citations else NOTHING_FOUND, ask.language)}"
        ]
        lines += [f"- {citation.title}: {citation.excerpt}" for citation in ask.citations]
        return "\n".join(lines)

    @activity.defn
    def plan_onboarding_fallback(self, ask: OnboardingFallbackAsk) -> OnboardingSteps:
        """A plan of catalog steps chosen by the goals' keywords (at least MIN_PLAN_STEPS), and the goals themselves
        as the first workflow's description (the fallback drafter matches templates by their words)."""
        chosen = [text for text, starts in PLAN_RULES if starts is None or _calls_for(ask.goals, starts)]
        if len(chosen) < MIN_PLAN_STEPS:
            chosen.insert(1 + chosen.index(CREATE), APPROVE)
        return OnboardingSteps(
            plan=[render(text, ask.language) for text in chosen],
            first_workflow=" ".join(ask.goals.split())[:MAX_FIRST_WORKFLOW_CHARS],
        )


def _calls_for(goals: str, starts: str) -> bool:
    """Whether a word of `goals` begins with one of `starts` (space-separated)."""
    pattern = r"\b(" + "|".join(re.escape(start) for start in starts.split()) + ")"
    return re.search(pattern, goals, re.IGNORECASE) is not None
