"""Pydantic's errors on a definition as validation issues: JSON paths, stable codes, plain sentences."""

from typing import Any, get_args

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from language.issues import ValidationIssue, error, json_path
from language.steps import RetryOverride, Step, WorkflowDefinition
from schemas.i18n import Text, tr
from schemas.validation_messages import validation_message

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
# One sentence per bound, plain and for a field in seconds (with the span spelled out).
_BOUNDS = {
    "le": (
        tr("`%(field)s` must be at most %(limit)s; got %(got)s."),
        tr("`%(field)s` must be at most %(limit)s seconds (%(span)s); got %(got)s."),
    ),
    "lt": (
        tr("`%(field)s` must be less than %(limit)s; got %(got)s."),
        tr("`%(field)s` must be less than %(limit)s seconds (%(span)s); got %(got)s."),
    ),
    "ge": (
        tr("`%(field)s` must be at least %(limit)s; got %(got)s."),
        tr("`%(field)s` must be at least %(limit)s seconds (%(span)s); got %(got)s."),
    ),
    "gt": (
        tr("`%(field)s` must be greater than %(limit)s; got %(got)s."),
        tr("`%(field)s` must be greater than %(limit)s seconds (%(span)s); got %(got)s."),
    ),
}
_DURATIONS = frozenset({"seconds", "timeout_s", "initial_interval_s", "max_interval_s"})


def field_issue(detail: ErrorDetails) -> ValidationIssue:
    """One pydantic error as an issue; the discriminator tag in a step's `loc` is dropped from the path."""
    loc, tag = _untagged(detail["loc"])
    kind = detail["type"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _step_type_issue(loc, detail)
    if kind == "string_pattern_mismatch" and loc[-1] == "[key]":
        message = tr(
            "Variable name %(name)s must be snake_case: a lowercase letter, then lowercase letters, digits or "
            "underscores (64 at most).",
            name=repr(loc[-2]),
        )
        return error(json_path(*loc[:-1]), "invalid_variable_name", message)
    if kind == "string_pattern_mismatch" and len(loc) == 3 and loc[2] == "id":
        message = tr(
            "Step id %(id)s must be snake_case: a lowercase letter, then lowercase letters, digits or "
            "underscores (64 at most).",
            id=repr(detail["input"]),
        )
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
        message = tr("Every step needs a `type`, one of: %(types)s.", types=types)
        return error(json_path(*loc, "type"), "missing_field", message)
    tag = repr(detail.get("ctx", {}).get("tag"))
    message = tr("Unknown step type %(tag)s; use one of: %(types)s.", tag=tag, types=types)
    return error(json_path(*loc, "type"), "unknown_step_type", message)


def _message(code: str, loc: tuple[int | str, ...], tag: str | None, detail: ErrorDetails) -> Text:
    field = next((part for part in reversed(loc) if isinstance(part, str)), "value")
    owner = _owner(loc, tag)
    if code == "missing_field":
        return _MISSING[owner[0]].model_copy(update={"params": {"field": field, "owner": owner[1]}})
    if code == "unknown_field":
        allowed = _fields(loc, tag)
        if not allowed:
            return tr("`%(field)s` is not a known field.", field=field)
        params = {"field": field, "owner": owner[1], "fields": ", ".join(allowed)}
        return _UNKNOWN[owner[0]].model_copy(update={"params": params})
    if code == "out_of_range":
        return _bounds_message(field, detail)
    return tr("`%(field)s`: %(problem)s.", field=field, problem=validation_message(detail))


# By what holds the field: a step (`a`/`an` before its type), the workflow, or another field (`owner`).
_MISSING = {
    "a": tr("`%(field)s` is required for a %(owner)s step."),
    "an": tr("`%(field)s` is required for an %(owner)s step."),
    "workflow": tr("`%(field)s` is required for the workflow."),
    "field": tr("`%(field)s` is required for `%(owner)s`."),
}
_UNKNOWN = {
    "a": tr("`%(field)s` is not a known field; a %(owner)s step has: %(fields)s."),
    "an": tr("`%(field)s` is not a known field; an %(owner)s step has: %(fields)s."),
    "workflow": tr("`%(field)s` is not a known field; the workflow has: %(fields)s."),
    "field": tr("`%(field)s` is not a known field; `%(owner)s` has: %(fields)s."),
}


def _owner(loc: tuple[int | str, ...], tag: str | None) -> tuple[str, str]:
    """What holds the field at `loc`, for messages: (`a`/`an`, the step type), (`workflow`, ""), (`field`, name)."""
    if tag and len(loc) == 3:
        return ("an" if tag[0] in "aeiou" else "a"), tag
    if len(loc) == 1:
        return "workflow", ""
    return "field", str(next(part for part in reversed(loc[:-1]) if isinstance(part, str)))


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


def _bounds_message(field: str, detail: ErrorDetails) -> Text:
    bound, limit = next((key, value) for key, value in detail.get("ctx", {}).items() if key in _BOUNDS)
    plain, seconds = _BOUNDS[bound]
    params = {"field": field, "limit": _number(limit), "got": _number(detail["input"])}
    if field in _DURATIONS:
        return seconds.model_copy(update={"params": {**params, "span": _duration(limit)}})
    return plain.model_copy(update={"params": params})


def _duration(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{_number(seconds)} s"


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value
