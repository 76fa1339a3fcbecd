"""Read-only views of definitions for the editor and the pages: the language's JSON Schema (from the same pydantic
models the validator uses), finding definitions by name, and a line diff between two versions."""

import difflib
import json
from functools import cache
from typing import Any

from sqlmodel import Session, col, func, select

from language.field_errors import STEP_MODELS
from language.steps import END, STEP_ID_PATTERN, WorkflowDefinition
from schemas.tables import WorkflowDefinitionRow, WorkflowVersionRow
from schemas.workflows import DefinitionSchema, VersionDiff, WorkflowSummary

MAX_SEARCH_LENGTH = 120
MAX_DIFF_LINES = 4000


@cache
def definition_schema() -> DefinitionSchema:
    """The JSON Schema (draft 2020-12, by alias: `json`, `else`, `class`) of a definition and of each step type."""
    return DefinitionSchema(
        definition=WorkflowDefinition.model_json_schema(by_alias=True),
        steps={kind: model.model_json_schema(by_alias=True) for kind, model in STEP_MODELS.items()},
        step_id_pattern=STEP_ID_PATTERN,
        end=END,
    )


def find_definitions(session: Session, tenant_id: str, text: str) -> list[WorkflowSummary]:
    """The tenant's definitions whose name contains `text` (any case; all of them for blank text), newest change
    first. `%` and `_` match themselves."""
    query = select(WorkflowDefinitionRow).where(WorkflowDefinitionRow.tenant_id == tenant_id)
    needle = text.strip()[:MAX_SEARCH_LENGTH].lower()
    if needle:
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(col(WorkflowDefinitionRow.name)).like(f"%{escaped}%", escape="\\"))
    rows = session.exec(query.order_by(col(WorkflowDefinitionRow.updated_at).desc())).all()
    return [WorkflowSummary(id=r.id, name=r.name, version=r.latest_version, updated_at=r.updated_at) for r in rows]


def version_bodies(session: Session, definition_id: str) -> list[WorkflowVersionRow]:
    """Every stored version of a definition (already the caller's), newest first."""
    return list(
        session.exec(
            select(WorkflowVersionRow)
            .where(WorkflowVersionRow.definition_id == definition_id)
            .order_by(col(WorkflowVersionRow.version).desc())
        ).all()
    )


def pretty(body: Any) -> str:
    """A definition as the editor's JSON tab shows it: two-space indents, keys in stored order."""
    return json.dumps(body, indent=2, ensure_ascii=False)


def version_diff(old: WorkflowVersionRow, new: WorkflowVersionRow) -> VersionDiff:
    """A unified diff of two versions' pretty JSON, each line tagged `add`, `del`, `hunk` or `same`; plain text
    (the page escapes it), cut at MAX_DIFF_LINES."""
    lines = difflib.unified_diff(
        pretty(old.body).splitlines(),
        pretty(new.body).splitlines(),
        f"version {old.version}",
        f"version {new.version}",
        n=3,
        lineterm="",
    )
    tagged: list[tuple[str, str]] = []
    for line in lines:
        if line.startswith(("---", "+++")):
            continue
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "same")
        tagged.append((kind, line))
        if len(tagged) >= MAX_DIFF_LINES:
            tagged.append(("hunk", "… (diff cut here)"))
            break
    return VersionDiff(old=old.version, new=new.version, lines=tagged)
