"""Pydantic's errors on a definition as validation issues: JSON paths, stable codes, plain sentences."""

from typing import Any, get_args

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from language.issues import ValidationIssue, error, json_path
from language.steps import RetryOverride, Step, WorkflowDefinition

STEP_MODELS: dict[str, type[BaseModel]] = {
    model.model_fields["type"].default: model for model in get_args(get_args(Step)[0])
}
STEP_TYPES = tuple(STEP_MODELS)
_CODES = {
    "missing": "missing_field",
    "extra_forbidden": "unknown_field",
    "greater_than": "out_of_range",
    "greater_than_equal": "out_of_range",
    "less_than": "out_of_range",
    "less_than_equal": "out_of_range",
    "string_too_short": "invalid_length",
    "string_too_long": "invalid_length",
    "too_short": "invalid_length",
    "too_long": "invalid_length",
}
_BOUNDS = {"le": "at most", "lt": "less than", "ge": "at least", "gt": "greater than"}
_DURATIONS = frozenset({"seconds", "timeout_s", "initial_interval_s", "max_interval_s"})
_SNAKE_CASE = "snake_case: a lowercase letter, then lowercase letters, digits or underscores (64 at most)"


def field_issue(detail: ErrorDetails) -> ValidationIssue:
    """One pydantic error as an issue; the discriminator tag in a step's `loc` is dropped from the path."""
    loc, tag = _untagged(detail["loc"])
    kind = detail["type"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _step_type_issue(loc, detail)
    if kind == "string_pattern_mismatch" and loc[-1] == "[key]":
        message = f"Variable name {loc[-2]!r} must be {_SNAKE_CASE}."
        return error(json_path(*loc[:-1]), "invalid_variable_name", message)
    if kind == "string_pattern_mismatch" and len(loc) == 3 and loc[2] == "id":
        message = f"Step id {detail['input']!r} must be {_SNAKE_CASE}."
        return error(json_path(*loc), "invalid_step_id", message)
    code = _CODES.get(kind, "invalid_value")
    return error(json_path(*loc), code, _message(code, loc, tag, detail))


def _untagged(loc: tuple[int | str, ...]) -> tuple[tuple[int | str, ...], str | None]:
    if len(loc) > 2 and loc[0] == "steps" and isinstance(loc[1], int) and loc[2] in STEP_MODELS:
        return loc[:2] + loc[3:], str(loc[2])
    return loc, None


def _step_type_issue(loc: tuple[int | str, ...], detail: ErrorDetails) -> ValidationIssue:
    types = ", ".join(STEP_TYPES)
    if detail["type"] == "union_tag_not_found":
        return error(json_path(*loc, "type"), "missing_field", f"Every step needs a `type`, one of: {types}.")
    message = f"Unknown step type {detail.get('ctx', {}).get('tag')!r}; use one of: {types}."
    return error(json_path(*loc, "type"), "unknown_step_type", message)


def _message(code: str, loc: tuple[int | str, ...], tag: str | None, detail: ErrorDetails) -> str:
    field = next((part for part in reversed(loc) if isinstance(part, str)), "value")
    owner = _owner(loc, tag)
    if code == "missing_field":
        return f"`{field}` is required for {owner}."
    if code == "unknown_field":
        allowed = _fields(loc, tag)
        listing = f"; {owner} has: {', '.join(allowed)}" if allowed else ""
        return f"`{field}` is not a known field{listing}."
    if code == "out_of_range":
        return _bounds_message(field, detail)
    return f"`{field}`: {detail['msg']}."


def _owner(loc: tuple[int | str, ...], tag: str | None) -> str:
    """What holds the field at `loc`, for messages: "an email step", "the workflow"."""
    if tag and len(loc) == 3:
        return f"{'an' if tag[0] in 'aeiou' else 'a'} {tag} step"
    if len(loc) == 1:
        return "the workflow"
    return f"`{next(part for part in reversed(loc[:-1]) if isinstance(part, str))}`"


def _fields(loc: tuple[int | str, ...], tag: str | None) -> list[str]:
    model: type[BaseModel] | None = None
    if len(loc) == 1:
        model = WorkflowDefinition
    elif tag and len(loc) == 3:
        model = STEP_MODELS[tag]
    elif tag and len(loc) == 4 and loc[2] == "retry":
        model = RetryOverride
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _bounds_message(field: str, detail: ErrorDetails) -> str:
    bound, limit = next((key, value) for key, value in detail.get("ctx", {}).items() if key in _BOUNDS)
    unit = f" seconds ({_duration(limit)})" if field in _DURATIONS else ""
    return f"`{field}` must be {_BOUNDS[bound]} {_number(limit)}{unit}; got {_number(detail['input'])}."


def _duration(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{_number(seconds)} s"


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value
