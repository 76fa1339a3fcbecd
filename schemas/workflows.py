"""The API's bodies for workflow definitions."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from schemas.i18n import Text


class WorkflowPublic(BaseModel):
    id: str
    name: str
    version: int
    definition: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    purpose: Literal["operations", "marketing"] = "operations"
    """The version's purpose (a version stored before definitions had one is `operations`)."""


class DefinitionWarning(BaseModel):
    """One warning of the validator (`POST /api/workflows/validate` shows the same): it stored nonetheless."""

    path: str
    code: str
    message: str
    text: Text | None = Field(default=None, exclude=True)
    """The message as a catalog text, which the API answers in the reader's language; not part of the JSON."""


class WorkflowSaved(WorkflowPublic):
    """The answer to storing a version: the version, with the validator's warnings about it."""

    warnings: list[DefinitionWarning] = []


class WorkflowSummary(BaseModel):
    id: str
    name: str
    version: int
    updated_at: datetime


class DefinitionSchema(BaseModel):
    """The language as JSON Schema, generated from the validator's own models: what the editor builds forms from."""

    definition: dict[str, Any]
    steps: dict[str, dict[str, Any]]
    """One schema per step type, keyed by `type` (`http_request`, `delay`, `log`, ...)."""
    step_id_pattern: str
    end: str
    """The target that ends a run (`next`, `then` and `else` may name it)."""


class VersionDiff(BaseModel):
    old: int
    new: int
    lines: list[tuple[str, str]]
    """(kind, text): kind is `add`, `del`, `hunk` or `same`."""
