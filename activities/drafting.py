"""What a workflow draft needs besides the AI: the request to the model, the checks of each draft (the validator and
the literal-credential refusal) and the template drafter; kept out of workflow code so that changing any of them
never breaks a recorded history."""

from babel import Locale, UnknownLocaleError
from temporalio import activity

from core.i18n import locale_id, render
from rules.draft_checks import draft_report, public_report, repair_request
from rules.draft_fallback import fallback_draft
from rules.draft_prompt import draft_messages, draft_response_schema
from schemas.brain import DraftInput, DraftPublic
from schemas.drafting import DraftBrief, DraftCheck, DraftChecked


class DraftActivities:
    @activity.defn
    def brief_draft(self, params: DraftInput) -> DraftBrief:
        """The first request to the model for `params`, and the JSON Schema its answer follows."""
        messages = draft_messages(params.prompt, params.plan, _language_name(params.language))
        return DraftBrief(messages=messages, response_schema=draft_response_schema())

    @activity.defn
    def check_draft(self, check: DraftCheck) -> DraftChecked:
        """The report on a drafted definition in `check.language`, and the repair request when it has errors."""
        report = draft_report(check.definition, check.plan)
        rendered = public_report(report, lambda text: render(text, check.language))
        return DraftChecked(report=rendered, repair="" if report.valid else repair_request(report))

    @activity.defn
    def draft_from_template(self, params: DraftInput) -> DraftPublic:
        """The fallback draft: the closest template, checked and explained in `params.language`."""
        reason = params.fallback_reason or "provider_failed"
        draft = fallback_draft(params.prompt, params.plan, reason)
        return DraftPublic(
            source="fallback",
            fallback_reason=reason,
            definition=draft.definition,
            report=public_report(draft.report, lambda text: render(text, params.language)),
            explanation=" ".join(render(sentence, params.language) for sentence in draft.explanation),
            template=draft.template.id if draft.template else None,
        )


def _language_name(tag: str) -> str:
    """The language's English name for the model, with its tag: `Spanish (es)`."""
    try:
        return f"{Locale.parse(locale_id(tag)).get_display_name('en')} ({tag})"
    except (UnknownLocaleError, ValueError):
        return tag
