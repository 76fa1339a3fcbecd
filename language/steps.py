"""The workflow-definition language: a definition and one pydantic model per step type.

Field validation lives here; whole-definition checks (graph, references, guardrails) live in
`language/validation.py`. Templates use `{{ ... }}` and expressions are bare Jinja2 expressions;
both may read `input.*`, `steps.<id>.*` and `vars.*`.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from schemas.usage import CREDITS_PER_1K_TOKENS

STEP_ID_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
END = "end"
MAX_DELAY_SECONDS = 30 * 24 * 3600
MAX_APPROVAL_TIMEOUT_SECONDS = 30 * 24 * 3600
MAX_HTTP_TIMEOUT_SECONDS = 300
MAX_EMAIL_RECIPIENTS = 50

StepId = Annotated[str, Field(pattern=STEP_ID_PATTERN)]
# What a workflow is for. The launch stage governs `marketing` runs (language/purpose.py, rules/launch.py).
Purpose = Literal["operations", "marketing"]
Target = Annotated[str, Field(min_length=1, max_length=64)]


class RetryOverride(BaseModel):
    """Per-step retry policy; bounds are the platform's guardrails."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=5, ge=1, le=10)
    initial_interval_s: float = Field(default=1.0, ge=0.1, le=60)
    max_interval_s: float = Field(default=300.0, ge=1, le=3600)
    backoff: float = Field(default=2.0, ge=1, le=10)


class StepBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: StepId
    name: str | None = Field(default=None, max_length=200)
    next: Target | None = None
    """Step to run after this one (`end` finishes the run); the following step when unset."""


class HttpStep(StepBase):
    type: Literal["http_request"] = "http_request"
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    url: str = Field(min_length=1, max_length=2048)
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    body: str | None = None
    timeout_s: float = Field(default=10, gt=0, le=MAX_HTTP_TIMEOUT_SECONDS)
    expected_status: list[Annotated[int, Field(ge=100, le=599)]] = Field(default_factory=list)
    save_response: bool = True
    retry: RetryOverride | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


class DelayStep(StepBase):
    type: Literal["delay"] = "delay"
    seconds: float = Field(gt=0, le=MAX_DELAY_SECONDS)


class LogStep(StepBase):
    type: Literal["log"] = "log"
    level: Literal["debug", "info", "warning", "error"] = "info"
    message: str = Field(min_length=1, max_length=4000)


class EmailStep(StepBase):
    type: Literal["email"] = "email"
    to: list[Annotated[str, Field(min_length=1, max_length=320)]] = Field(min_length=1)
    subject: str = Field(min_length=1, max_length=998)
    body: str = Field(max_length=100_000)
    retry: RetryOverride | None = None


class ConditionStep(StepBase):
    type: Literal["condition"] = "condition"
    expression: str = Field(min_length=1, max_length=2000)
    then: Target
    else_: Target = Field(alias="else")

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


class ApprovalStep(StepBase):
    type: Literal["approval"] = "approval"
    approval_class: Literal["A", "B", "C"] = Field(alias="class")
    message: str = Field(min_length=1, max_length=2000)
    timeout_s: float = Field(default=3 * 24 * 3600, gt=0, le=MAX_APPROVAL_TIMEOUT_SECONDS)
    on_timeout: Literal["reject", "approve", "fail"] = "reject"

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


class TransformStep(StepBase):
    type: Literal["transform"] = "transform"
    set: dict[Annotated[str, Field(pattern=STEP_ID_PATTERN)], str] = Field(min_length=1)


class AiTextFallback(BaseModel):
    """An `ai` step whose AI call fails for good answers this text instead."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=32_000)


class AiModelFallback(BaseModel):
    """An `ai` step whose AI call fails for good asks this model (one the platform allows) once more."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=100)

    @field_validator("model")
    @classmethod
    def _allowed(cls, model: str) -> str:
        if model not in CREDITS_PER_1K_TOKENS:
            raise ValueError(f"model {model!r} is not allowed; allowed: {', '.join(CREDITS_PER_1K_TOKENS)}")
        return model


def _fallback_kind(value: Any) -> str:
    """Which fallback a value is: a text when it names one, else another model (so an error names the right fields)."""
    if isinstance(value, dict):
        return "text" if "text" in value else "model"
    return "text" if isinstance(value, AiTextFallback) else "model"


AiFallback = Annotated[
    Annotated[AiTextFallback, Tag("text")] | Annotated[AiModelFallback, Tag("model")], Discriminator(_fallback_kind)
]


class AiStep(StepBase):
    type: Literal["ai"] = "ai"
    prompt: str = Field(min_length=1, max_length=32_000)
    model: str = Field(default="gpt-4o-mini", min_length=1, max_length=100)
    max_tokens: int = Field(default=512, ge=1, le=16_000)
    retry: RetryOverride | None = None
    fallback: AiFallback | None = Field(
        default=None,
        description='Used when the AI call fails for good (retries exhausted, AI off, no credits): {"text": "..."} '
        'answers that text, {"model": "..."} asks another allowed model. The step\'s result then says "fallback": true.',
    )


Step = Annotated[
    HttpStep | DelayStep | LogStep | EmailStep | ConditionStep | ApprovalStep | TransformStep | AiStep,
    Field(discriminator="type"),
]
SIDE_EFFECT_TYPES = frozenset({"http_request", "email", "ai"})


class WorkflowDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=2000)
    purpose: Purpose = Field(
        default="operations",
        description="operations (the default) or marketing: growth and marketing automations (campaigns, outreach, "
        "content). Before launch a marketing run sends nothing without a founder's approval.",
    )
    input_schema: dict[str, Any] | None = None
    steps: list[Step] = Field(min_length=1)
