"""How the JSON API answers an AI operation whose tenant is out of AI credits: 429 `ai_credits_exhausted`, with the
fallback answer in the body (the web app shows the fallback itself)."""

from core.errors import ApiError
from schemas.brain import Sourced
from schemas.i18n import tr


def refuse_when_out_of_credits(answer: Sourced) -> None:
    """Raises 429 `ai_credits_exhausted` (the fallback answer under `fallback`) when `answer` fell back because the
    tenant's daily or monthly AI credits are used up; returns otherwise."""
    if answer.fallback_reason == "credits_exhausted":
        raise ApiError(
            429,
            "ai_credits_exhausted",
            tr("This tenant's AI credits are used up for now; `fallback` holds the answer without AI"),
            None,
            fallback=answer.model_dump(mode="json"),
        )
