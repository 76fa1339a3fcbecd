"""Whole-definition validation: fields, names, control flow, expressions and plan guardrails.

`validate_definition` reports every issue at once, so an author fixes a definition in one pass.
It is pure (no I/O): the API calls it before storing a version, tests call it directly.
"""

import difflib
import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError

from language.field_errors import field_issue
from language.flow import Flow, FlowNode, Jump
from language.input_schema import input_schema_issues
from language.issues import ValidationIssue, ValidationReport, error, json_path, warning
from language.plans import risky_step
from language.purpose import purpose_issues
from language.references import reference_issues
from language.steps import (
    END,
    MAX_EMAIL_RECIPIENTS,
    ApprovalStep,
    ConditionStep,
    EmailStep,
    HttpStep,
    Step,
    WorkflowDefinition,
)
from schemas.api import PLANS
from schemas.i18n import tr

__all__ = ["MAX_STEPS", "ValidationIssue", "ValidationReport", "validate_definition"]

MAX_STEPS = 100
# A run carries its definition in its Temporal input, whose payloads are capped at 2 MiB.
MAX_DEFINITION_BYTES = 256 * 1024
# Templates, JSON bodies and schemas are walked recursively, in the API and in the workflow.
MAX_DEFINITION_DEPTH = 48
_STEP: TypeAdapter[Step] = TypeAdapter(Step)
_ABSOLUTE_URL = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)


def validate_definition(raw: Any, plan: str = "free") -> tuple[ValidationReport, WorkflowDefinition | None]:
    """Every error and warning of a raw (JSON-decoded) definition; the parsed definition when valid.

    When fields fail, each step that parses on its own is still checked, and the graph is built
    from the raw steps where they are usable. An unknown plan raises ValueError.
    """
    if plan not in PLANS:
        raise ValueError(f"unknown plan {plan!r}; expected one of {', '.join(PLANS)}")
    if not isinstance(raw, dict):
        issue = error("$", "not_an_object", tr("A workflow definition must be a JSON object."))
        return ValidationReport.of([issue]), None
    # Size first: the checks below grow faster than the definition (the graph is quadratic), so an
    # oversized one is refused before any step is parsed.
    if oversized := _size_issues(raw, raw["steps"] if isinstance(raw.get("steps"), list) else []):
        return ValidationReport.of(oversized), None
    try:
        definition: WorkflowDefinition | None = WorkflowDefinition.model_validate(raw)
        issues: list[ValidationIssue] = []
    except ValidationError as err:
        definition, issues = None, [field_issue(detail) for detail in err.errors()]
    report = ValidationReport.of(issues + _definition_issues(raw, definition, plan) + purpose_issues(definition))
    return report, definition if report.valid else None


def _definition_issues(raw: dict[str, Any], definition: WorkflowDefinition | None, plan: str) -> list[ValidationIssue]:
    items: list[Any] = raw["steps"] if isinstance(raw.get("steps"), list) else []
    steps = list(definition.steps) if definition else [_parsed(item) for item in items]
    flow = Flow([_node(step, item) for step, item in zip(steps, items, strict=True)])
    parsed = all(step is not None for step in steps)
    # What runs before what is known only when every jump is: a broken one would add false alarms.
    usable = all(step is not None or _jumps_usable(item) for step, item in zip(steps, items, strict=True))
    ordered = usable and not flow.unknown_jumps()
    issues = _name_issues(raw) + _input_schema_issues(raw) + _id_issues(flow)
    for position, step in enumerate(steps):
        issues += _step_issues(json_path("steps", position), step) if step else []
    issues += _flow_issues(flow, ordered)
    issues += reference_issues(steps, flow, ordered)
    return issues + (_risk_issues(steps, flow, plan) if parsed and ordered else [])


def _parsed(item: Any) -> Step | None:
    try:
        return _STEP.validate_python(item)
    except ValidationError:
        return None


def _node(step: Step | None, item: Any) -> FlowNode:
    """A step's place in the graph; a condition's `next` is ignored, as the run ignores it."""
    if step is not None:
        if isinstance(step, ConditionStep):
            return FlowNode(step.id, (("then", step.then), ("else", step.else_)), branches=True)
        return FlowNode(step.id, (("next", step.next),) if step.next else ())
    if not isinstance(item, dict):
        return FlowNode(None)
    branches = item.get("type") == "condition"
    fields = ("then", "else") if branches else ("next",)
    jumps = tuple((field, item[field]) for field in fields if isinstance(item.get(field), str) and item[field])
    return FlowNode(item["id"] if isinstance(item.get("id"), str) else None, jumps, branches)


def _jumps_usable(item: Any) -> bool:
    """Whether a step that failed validation still has a usable id and jumps, so the graph is exact."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        return False
    if item.get("type") == "condition":
        return isinstance(item.get("then"), str) and isinstance(item.get("else"), str)
    return item.get("next") is None or isinstance(item["next"], str)


def _name_issues(raw: dict[str, Any]) -> list[ValidationIssue]:
    name = raw.get("name")
    if isinstance(name, str) and name.strip() and name != name.strip():
        message = tr("The name starts or ends with spaces; they are kept as typed.")
        return [warning("$.name", "untidy_name", message)]
    return []


def _input_schema_issues(raw: dict[str, Any]) -> list[ValidationIssue]:
    schema = raw.get("input_schema")
    if not isinstance(schema, dict):
        return []  # absent, or a wrong type that field validation reports
    return input_schema_issues(schema)


def _size_issues(raw: dict[str, Any], items: Sequence[Any]) -> list[ValidationIssue]:
    issues = []
    if len(items) > MAX_STEPS:
        message = tr(
            "A workflow may have at most %(limit)s steps; this one has %(count)s.", limit=MAX_STEPS, count=len(items)
        )
        issues.append(error("$.steps", "too_many_steps", message))
    try:
        size = len(json.dumps(raw, default=str, ensure_ascii=False).encode())
    except UnicodeEncodeError:
        return [
            *issues,
            error("$", "invalid_text", tr("The definition holds text that is not valid Unicode (a lone surrogate).")),
        ]
    if size > MAX_DEFINITION_BYTES:
        message = tr(
            "A definition may take at most %(limit)s KiB as JSON; this one takes %(size)s KiB.",
            limit=MAX_DEFINITION_BYTES // 1024,
            size=size // 1024,
        )
        issues.append(error("$", "definition_too_large", message))
    if _nesting(raw) > MAX_DEFINITION_DEPTH:
        message = tr(
            "A definition may nest at most %(limit)s levels deep (objects and lists).", limit=MAX_DEFINITION_DEPTH
        )
        issues.append(error("$", "definition_too_deep", message))
    return issues


def _nesting(value: Any) -> int:
    """How deep a JSON value nests, without recursion (the run renders a body recursively)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_DEFINITION_DEPTH:
                pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _id_issues(flow: Flow) -> list[ValidationIssue]:
    issues = []
    for position, node in enumerate(flow.nodes):
        path = json_path("steps", position, "id")
        if node.id == END:
            message = tr("`end` is reserved (as a target it ends the run); rename the step.")
            issues.append(error(path, "invalid_step_id", message))
        elif node.id is not None and flow.positions[node.id] != position:
            first = json_path("steps", flow.positions[node.id])
            message = tr("Step id `%(id)s` is already used by %(first)s; ids must be unique.", id=node.id, first=first)
            issues.append(error(path, "duplicate_step_id", message))
    return issues


def _step_issues(path: str, step: Step) -> list[ValidationIssue]:
    """Checks of one step that pydantic's field rules cannot express."""
    match step:
        case ConditionStep():
            return _condition_issues(path, step)
        case EmailStep() if len(step.to) > MAX_EMAIL_RECIPIENTS:
            message = tr(
                "An e-mail may have at most %(limit)s recipients, not %(count)s.",
                limit=MAX_EMAIL_RECIPIENTS,
                count=len(step.to),
            )
            return [error(f"{path}.to", "too_many_recipients", message)]
        case HttpStep():
            return _http_issues(path, step)
    return []


def _condition_issues(path: str, step: ConditionStep) -> list[ValidationIssue]:
    issues = []
    if step.next is not None:
        message = tr("A condition continues at `then` or `else`; remove `next`.")
        issues.append(error(f"{path}.next", "invalid_value", message))
    if step.then == step.else_:
        message = tr("`then` and `else` both go to `%(target)s`, so the condition changes nothing.", target=step.then)
        issues.append(warning(f"{path}.else", "same_branches", message))
    return issues


def _http_issues(path: str, step: HttpStep) -> list[ValidationIssue]:
    issues = []
    url = step.url.strip()
    if not url.startswith("{") and not _ABSOLUTE_URL.match(url):
        message = tr("`url` must be an absolute http(s):// URL or start with a template like {{ input.url }}.")
        issues.append(error(f"{path}.url", "invalid_value", message))
    elif url.lower().startswith("http://"):
        message = tr("`url` uses plain http://, which is unencrypted; prefer https://.")
        issues.append(warning(f"{path}.url", "plain_http", message))
    if step.json_body is not None and step.body is not None:
        issues.append(error(f"{path}.body", "invalid_value", tr("Set either `json` or `body`, not both.")))
    return issues


def _flow_issues(flow: Flow, ordered: bool) -> list[ValidationIssue]:
    issues = [_unknown_target(flow, jump) for jump in flow.unknown_jumps()]
    issues += [_cycle(flow, jump, members) for jump, members in flow.cycles()]
    if ordered:
        for position, node in enumerate(flow.nodes):
            if position not in flow.reachable:
                message = tr("Step `%(id)s` never runs: no path from the first step leads to it.", id=str(node.id))
                issues.append(error(json_path("steps", position), "unreachable_step", message))
    return issues


def _unknown_target(flow: Flow, jump: Jump) -> ValidationIssue:
    source = flow.nodes[jump.source].id
    guesses = difflib.get_close_matches(jump.name, list(flow.positions), n=1)
    message = tr(
        "Step `%(source)s` goes to `%(target)s`, which is no step id; use a step id or `end`.",
        source=str(source),
        target=jump.name,
    )
    if guesses:
        message = tr(
            "Step `%(source)s` goes to `%(target)s`, which is no step id; use a step id or `end`. "
            "Did you mean `%(guess)s`?",
            source=str(source),
            target=jump.name,
            guess=guesses[0],
        )
    return error(json_path("steps", jump.source, jump.field or "next"), "unknown_target", message)


def _cycle(flow: Flow, jump: Jump, members: list[int]) -> ValidationIssue:
    path = json_path("steps", jump.source, *([jump.field] if jump.field else []))
    source, target = flow.nodes[jump.source].id, jump.name
    if len(members) == 1:
        return error(path, "cycle", tr("Step `%(id)s` goes to itself, so a run could never end.", id=str(source)))
    names = ", ".join(f"`{flow.nodes[member].id}`" for member in members)
    message = tr(
        "Steps %(names)s form a cycle (`%(source)s` goes back to `%(target)s`), so a run could never end.",
        names=names,
        source=str(source),
        target=target,
    )
    return error(path, "cycle", message)


def _risk_issues(steps: Sequence[Step | None], flow: Flow, plan: str) -> list[ValidationIssue]:
    """Each reachable step the plan marks risky needs a class C gate that dominates it."""
    issues = []
    for position, step in enumerate(steps):
        if step is None or position not in flow.reachable or not risky_step(plan, step):
            continue
        if not any(_founder_gate(steps[gate]) for gate in flow.dominators(position) - {position}):
            kind = f"{step.method} {step.type}" if isinstance(step, HttpStep) else step.type
            message = tr(
                "On the %(plan)s plan a %(kind)s step is risky: put a class C (founder) approval before "
                "`%(id)s` on every path from the first step, one that does not approve on timeout.",
                plan=plan,
                kind=kind,
                id=step.id,
            )
            if kind[0] in "aeiou":
                message = tr(
                    "On the %(plan)s plan an %(kind)s step is risky: put a class C (founder) approval before "
                    "`%(id)s` on every path from the first step, one that does not approve on timeout.",
                    plan=plan,
                    kind=kind,
                    id=step.id,
                )
            issues.append(error(json_path("steps", position), "risky_step_needs_approval", message))
    return issues


def _founder_gate(step: Step | None) -> bool:
    """A gate only a founder opens; one that approves on timeout lets the step through unattended."""
    return isinstance(step, ApprovalStep) and step.approval_class == "C" and step.on_timeout != "approve"
