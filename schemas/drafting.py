"""What `WorkflowDraft` hands its drafting activities and gets back: the request to the model, and a draft's check."""

from typing import Any

from pydantic import BaseModel

from schemas.brain import ChatMessage, DraftReport


class DraftBrief(BaseModel):
    """The first request of a draft: the system message (the language, examples, the plan's rules) and the prompt,
    and the JSON Schema the answer follows."""

    messages: list[ChatMessage]
    response_schema: dict[str, Any]


class DraftCheck(BaseModel):
    definition: Any
    """The model's definition, as it answered it (possibly not even an object)."""
    plan: str
    language: str
    """The report's language."""


class DraftChecked(BaseModel):
    report: DraftReport
    """In the requested language."""
    repair: str
    """The message that asks the model to fix every error (empty when the draft is valid)."""
