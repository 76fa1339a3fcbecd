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

# The onboarding steps in their order, each with the goals' words that call for it (None: always in the plan).
CONNECT = tr("Store the keys of the services you connect as secrets (PUT /api/secrets/NAME) and use them as {{ secrets.NAME }} in HTTP steps.")  # fmt: skip
CREATE = tr("Create your first workflow from the draft below and run it once to see each step's result.")
APPROVE = tr("Add an approval gate (class B or C) before risky steps such as e-mails, payments or deletions.")
SCHEDULE = tr("Schedule the workflow so that it runs on its own (POST /api/workflows/{id}/schedules).")
INVITE = tr("Invite your team from Users & keys, as members or admins.")
WATCH = tr("Watch the run history and the failure queue: a failed run can be retried from its failed step.")
PLAN_RULES: list[tuple[Text, re.Pattern[str] | None]] = [
    (
        CONNECT,
        re.compile(
            r"api|http|connect|integrat|crm|stripe|shopify|slack|teams|webhook|sync|token|key|secret|hubspot|salesforce",
            re.I,
        ),
    ),  # fmt: skip
    (CREATE, None),
    (APPROVE, re.compile(r"approv|review|refund|pay|invoice|e-?mail|send|delete|risk|money|customer", re.I)),
    (SCHEDULE, re.compile(r"daily|weekly|monthly|hourly|every|schedul|morning|night|report|digest|remind|cron", re.I)),
    (INVITE, re.compile(r"team|colleague|staff|employee|invite|member|together|users|people|equipo|équipe", re.I)),
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
        chosen = [text for text, words in PLAN_RULES if words is None or words.search(ask.goals)]
        if len(chosen) < MIN_PLAN_STEPS:
            chosen.insert(1 + chosen.index(CREATE), APPROVE)
        return OnboardingSteps(
            plan=[render(text, ask.language) for text in chosen],
            first_workflow=" ".join(ask.goals.split())[:MAX_FIRST_WORKFLOW_CHARS],
        )
