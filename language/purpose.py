"""What a definition is for (`purpose`), and which of its steps send something out of the platform.

Before launch, a marketing run's outbound steps are dry runs unless a founder approved the campaign at the review
gate the run adds before its first one (rules/launch.py decides, orchestrator/user_run.py does it). An AI step is not
outbound: it drafts text that stays in the run (the provider processes it, as for every run); whatever would carry
that text out is an e-mail or HTTP step, and those are the ones held back."""

from collections.abc import Mapping
from typing import Any

from language.issues import ValidationIssue, error, json_path
from language.steps import EmailStep, HttpStep, Purpose, Step, WorkflowDefinition
from schemas.i18n import tr

# The id of the campaign review gate a marketing run adds before launch: reserved in marketing definitions, so the
# gate's decision (POST /api/runs/{id}/approvals/campaign_review) can never name one of the definition's own steps.
CAMPAIGN_REVIEW_ID = "campaign_review"
# Methods that only read: an HTTP step with one of these sends nothing out, even in a campaign.
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def stored_purpose(body: Mapping[str, Any]) -> Purpose:
    """The purpose of a definition version as stored (JSON): versions stored before there was one are operations."""
    return "marketing" if body.get("purpose") == "marketing" else "operations"


def is_outbound(step: Step) -> bool:
    """Whether the step sends something out of the platform: every e-mail, and HTTP calls that do more than read."""
    return isinstance(step, EmailStep) or (isinstance(step, HttpStep) and step.method.upper() not in READING_METHODS)


def purpose_issues(definition: WorkflowDefinition | None) -> list[ValidationIssue]:
    """A marketing definition may not use the campaign review gate's id for a step of its own."""
    if definition is None or definition.purpose != "marketing":
        return []
    return [
        error(
            json_path("steps", position, "id"),
            "reserved_step_id",
            tr("`%(id)s` is reserved in marketing workflows (the campaign review gate); rename the step.", id=step.id),
        )
        for position, step in enumerate(definition.steps)
        if step.id == CAMPAIGN_REVIEW_ID
    ]
