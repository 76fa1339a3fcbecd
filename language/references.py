"""Checks of the expressions and templates in a definition: syntax, names, and what has run before.

A step may read `steps.<id>` only of a step that has finished on every path to it, and `vars.<name>`
only of a variable an earlier transform sets; `language/flow.py` answers "earlier".
"""

from collections.abc import Iterator, Sequence
from typing import Any, Literal

from language.expressions import (
    SECRET_NAME,
    ExpressionError,
    bound_issues,
    expression_references,
    template_references,
)
from language.flow import Flow
from language.issues import ValidationIssue, error, json_path, member, warning
from language.steps import (
    AiStep,
    ApprovalStep,
    ConditionStep,
    EmailStep,
    HttpStep,
    LogStep,
    Step,
    TransformStep,
)
from schemas.i18n import Text, tr

Kind = Literal["expression", "template"]


def reference_issues(steps: Sequence[Step | None], flow: Flow, ordered: bool = True) -> list[ValidationIssue]:
    """Every syntax and reference issue of the parsed steps (None marks a step that did not parse).

    With `ordered` False the graph is incomplete, so only syntax and names are checked, not what
    runs before what.
    """
    setters = _variable_setters(steps)
    issues: list[ValidationIssue] = []
    for position, step in enumerate(steps):
        if step is None:
            continue
        for suffix, text, kind in _texts(step):
            path = json_path("steps", position) + suffix
            issues += _text_issues(path, text, kind, position if ordered else None, flow, setters)
            issues += _secret_issues(path, text, kind, isinstance(step, HttpStep))
    return issues


def _texts(step: Step) -> Iterator[tuple[str, str, Kind]]:
    """(path suffix, text, kind) of every expression and template a step holds."""
    match step:
        case LogStep() | ApprovalStep():
            yield ".message", step.message, "template"
        case EmailStep():
            yield from ((f".to[{i}]", address, "template") for i, address in enumerate(step.to))
            yield ".subject", step.subject, "template"
            yield ".body", step.body, "template"
        case ConditionStep():
            yield ".expression", step.expression, "expression"
        case TransformStep():
            yield from ((".set" + member(name), value, "expression") for name, value in step.set.items())
        case AiStep():
            yield ".prompt", step.prompt, "template"
        case HttpStep():
            yield ".url", step.url, "template"
            headers = step.headers.items()
            yield from ((".headers" + member(name), value, "template") for name, value in headers)
            yield from _json_strings(".json", step.json_body)
            if step.body is not None:
                yield ".body", step.body, "template"


def _json_strings(path: str, value: Any) -> Iterator[tuple[str, str, Kind]]:
    """Every string inside a JSON body, each rendered as a template (keys are left as they are)."""
    if isinstance(value, str):
        yield path, value, "template"
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(f"{path}[{index}]", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _json_strings(path + member(str(key)), item)


def _text_issues(
    path: str, text: str, kind: Kind, position: int | None, flow: Flow, setters: dict[str, list[int]]
) -> list[ValidationIssue]:
    """Issues of one text; `position` is the step holding it, None when order cannot be checked."""
    try:
        found = expression_references(text) if kind == "expression" else template_references(text)
    except ExpressionError as err:
        return [error(path, "expression_syntax", _sentence(str(err)))]
    bounds = bound_issues(text, kind)
    issues: list[ValidationIssue | None] = [error(path, code, _bound_sentence(code, m)) for code, m in bounds]
    issues += [_name_issue(path, name) for name in sorted(found.unknown)]
    issues += [_step_issue(path, name, position, flow) for name in sorted(found.steps)]
    if position is not None:
        issues += [_variable_issue(path, name, position, flow, setters) for name in sorted(found.vars)]
    return [issue for issue in issues if issue is not None]


def _secret_issues(path: str, text: str, kind: Kind, allowed: bool) -> list[ValidationIssue]:
    """`secrets.NAME` only where the worker resolves it (HTTP steps), and only with a valid name."""
    try:
        found = expression_references(text) if kind == "expression" else template_references(text)
    except ExpressionError:
        return []  # reported by _text_issues
    if "secrets" not in found.roots:
        return []
    if not allowed:
        message = tr(
            "Secrets may be used only in an http_request's url, headers and body, where the worker "
            "resolves them; anywhere else they would be written into the run's history."
        )
        return [error(path, "secret_not_allowed", message)]
    if not found.secrets:
        return [error(path, "invalid_secret_reference", tr("Name the secret: `{{ secrets.NAME }}`."))]
    return [
        error(
            path,
            "invalid_secret_name",
            tr("`%(name)s` is not a secret name (UPPER_SNAKE_CASE, at most 64 characters).", name=name),
        )
        for name in sorted(found.secrets)
        if not SECRET_NAME.match(name)
    ]


def _name_issue(path: str, name: str) -> ValidationIssue:
    message = tr(
        "`%(name)s` is not defined; expressions may read only input, steps, vars (and secrets in HTTP steps).",
        name=name,
    )
    return error(path, "unknown_reference", message)


def _step_issue(path: str, name: str, position: int | None, flow: Flow) -> ValidationIssue | None:
    if name not in flow.positions:
        return error(path, "unknown_reference", tr("`steps.%(name)s` names no step of this workflow.", name=name))
    if position is None or position not in flow.reachable:
        return None  # an unreachable step is reported as such; "before" means nothing for it
    reader = flow.nodes[position].id
    match flow.precedence(flow.positions[name], position):
        case "always":
            return None
        case "sometimes":
            message = tr(
                "`%(name)s` runs only on some paths to `%(reader)s`, so `steps.%(name)s` may be empty here.",
                name=name,
                reader=str(reader),
            )
            return warning(path, "maybe_unset_reference", message)
    if name == reader:
        message = tr("Step `%(reader)s` reads its own result, which does not exist yet.", reader=str(reader))
    else:
        message = tr(
            "Step `%(reader)s` reads `steps.%(name)s`, but `%(name)s` never runs before `%(reader)s`.",
            reader=str(reader),
            name=name,
        )
    return error(path, "forward_reference", message)


def _variable_issue(
    path: str, name: str, position: int, flow: Flow, setters: dict[str, list[int]]
) -> ValidationIssue | None:
    if position not in flow.reachable:
        return None
    answers = {flow.precedence(setter, position) for setter in setters.get(name, [])}
    if "always" in answers:
        return None
    if "sometimes" in answers:
        message = tr("`vars.%(name)s` is set only on some paths to this step, so it may be empty.", name=name)
        return warning(path, "maybe_unset_variable", message)
    message = tr("No transform before this step sets `vars.%(name)s`, so it is empty here.", name=name)
    return warning(path, "unset_variable", message)


def _variable_setters(steps: Sequence[Step | None]) -> dict[str, list[int]]:
    setters: dict[str, list[int]] = {}
    for position, step in enumerate(steps):
        if isinstance(step, TransformStep):
            for name in step.set:
                setters.setdefault(name, []).append(position)
    return setters


def _bound_sentence(code: str, problem: str) -> Text | str:
    """A bound's issue as a sentence: the statement refusal in the reader's words, the sandbox's limits in its own."""
    if code == "statement_not_allowed":
        return tr("`{%% ... %%}` statements are not allowed in step templates; use `{{ ... }}` expressions.")
    return _sentence(problem)


def _sentence(problem: str) -> str:
    """An expression's problem as a sentence: the parser's and sandbox's own words, which stay English."""
    return f"{problem[:1].upper()}{problem[1:]}."
