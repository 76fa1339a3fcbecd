"""Request and response bodies of the HTTP API."""

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# An id the platform issued (a UUID's text) where a body names one: text that cannot be an id (a NUL character,
# which PostgreSQL refuses, or an endless string) is refused before it reaches a query or a workflow.
EntityId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,36}$")]
KeyRole = Literal["member", "admin"]
Plan = Literal["free", "starter", "pro", "enterprise"]
PLANS: tuple[Plan, ...] = get_args(Plan)


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    """Every error the API answers. Some codes add fields of their own (a 429 says which limit, an invalid
    definition carries its full report)."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Stable and machine-readable, e.g. `run_not_found`, `usage_limit_reached`.")
    message: str = Field(description="For a human; may change.")
    field: str | None = Field(default=None, description="The offending input's path, e.g. `body.steps[0].url`.")
