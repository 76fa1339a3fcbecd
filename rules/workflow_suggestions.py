"""What a workflow's latest version could do better, read from the definition alone (and how often its steps
failed lately): retry a step that keeps failing, guard an e-mail or a changing HTTP call with an approval, name a
fallback for an AI step, describe a webhook's input. Pure: the workflow page shows them, each with its step."""

from collections.abc import Mapping
from typing import Any

from schemas.brain import WorkflowSuggestion

# Methods that only read: an http_request with one of them changes nothing on the other side.
READING_METHODS = frozenset({"GET", "HEAD"})
# Gates a person decides (B: a tenant admin, C: the founder); class A runs by itself and guards nothing.
GUARDING_CLASSES = frozenset({"B", "C"})


def suggest(
    definition: Mapping[str, Any], has_webhook: bool, failures: Mapping[str, int] | None = None
) -> list[WorkflowSuggestion]:
    """The suggestions for `definition`, in step order, the workflow's own last. `failures` counts each step's
    recent final failures (a step id → how many); `has_webhook` says whether a webhook starts the workflow."""
    failures = failures or {}
    found: list[WorkflowSuggestion] = []
    guarded = False
    for step in _steps(definition):
        kind, step_id = step.get("type"), str(step.get("id", ""))
        if kind == "approval" and step.get("class") in GUARDING_CLASSES:
            guarded = True
        if kind == "http_request" and step.get("retry") is None and failures.get(step_id, 0) > 0:
            found.append(WorkflowSuggestion(kind="retry_step", step_id=step_id, field="retry",
                                            failures=failures[step_id]))  # fmt: skip
        if not guarded and _changes_the_world(step):
            found.append(WorkflowSuggestion(kind="guard_with_approval", step_id=step_id, field="type"))
        if kind == "ai" and not step.get("fallback"):
            found.append(WorkflowSuggestion(kind="name_a_fallback", step_id=step_id, field="fallback"))
    if has_webhook and not definition.get("input_schema"):
        found.append(WorkflowSuggestion(kind="describe_the_input", step_id=None, field="input_schema"))
    return found


def _steps(definition: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    steps = definition.get("steps")
    if not isinstance(steps, list):
        return []
    return [step for step in steps if isinstance(step, Mapping)]


def _changes_the_world(step: Mapping[str, Any]) -> bool:
    """An e-mail leaves for good; an HTTP call other than GET or HEAD changes something on its target."""
    if step.get("type") == "email":
        return True
    method = str(step.get("method") or "GET").upper()
    return step.get("type") == "http_request" and method not in READING_METHODS
