"""The definition language's reference, generated from its models: one entry for a definition, one per step type
and one for a step's retry override, each listing the fields with their types, defaults and limits. The knowledge
base indexes these entries beside the README (whose "The definition language" section tells the rest)."""

from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel

from language.steps import RetryOverride, Step, WorkflowDefinition

# What each step type does, in a sentence (the models say what their fields are).
STEP_PURPOSES: dict[str, str] = {
    "http_request": "Calls an HTTP API. Secrets are referenced as {{ secrets.NAME }} in the url, headers or body and "
    "resolved only at the moment of the call; 4xx answers (except 408/425/429) are not retried.",
    "delay": "Waits on a durable timer (it survives restarts) before the next step.",
    "log": "Writes a message to the run's log; evaluated inside the workflow, no side effect.",
    "email": "Sends an e-mail to up to 50 recipients. Risky on the free plan: guard it with a class C approval.",
    "condition": "Evaluates a sandboxed Jinja2 expression and goes to `then` when it is true, else to `else`.",
    "approval": "Waits for a decision: class A passes on its own, B waits for a tenant admin, C for the founder. "
    "On timeout the gate rejects, approves or fails the run as `on_timeout` says.",
    "transform": "Computes values with expressions and keeps them in `vars` (and in the step's result).",
    "ai": "Asks an AI model (the model allow-list and the tenant's AI credits apply) and keeps its text.",
}


@dataclass(frozen=True)
class ReferenceEntry:
    anchor: str
    title: str
    body: str


def language_reference() -> list[ReferenceEntry]:
    """The reference's entries, in reading order: the definition, each step type, the retry override."""
    entries = [
        ReferenceEntry(
            "definition",
            "Workflow definition fields",
            "A definition describes a workflow as data: ordered steps that run one after another unless a step's "
            "`next` or a condition's `then`/`else` says otherwise.\n" + _fields(WorkflowDefinition),
        )
    ]
    for model in _step_models():
        step_type = model.model_fields["type"].default
        purpose = STEP_PURPOSES.get(step_type, "")
        entries.append(
            ReferenceEntry(f"step-{step_type}", f"Step type `{step_type}`", f"{purpose}\n{_fields(model)}".strip())
        )
    entries.append(
        ReferenceEntry(
            "retry",
            "Per-step retry override (`retry`)",
            "Side-effecting steps (http_request, email, ai) may override the platform's retry policy within these "
            "guardrails.\n" + _fields(RetryOverride),
        )
    )
    return entries


def _step_models() -> list[type[BaseModel]]:
    union = get_args(Step)[0]  # Annotated[Union[...], discriminator]
    return list(get_args(union))


def _fields(model: type[BaseModel]) -> str:
    schema = model.model_json_schema(by_alias=True)
    required = set(schema.get("required", []))
    lines = []
    for name, spec in schema.get("properties", {}).items():
        if name == "type":
            continue
        described = ", ".join(filter(None, (_kind(spec), "required" if name in required else _default(spec))))
        limits = _limits(spec)
        line = f"- `{name}`: {described}" + (f"; {limits}" if limits else "")
        description = spec.get("description") or model.model_fields.get(name, _NoField).description
        lines.append(line + (f". {description}" if description else ""))
    return "\n".join(lines)


class _NoField:
    description: str | None = None


def _variants(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in spec.get("anyOf", [spec]) if v.get("type") != "null"]


def _kind(spec: dict[str, Any]) -> str:
    kinds = []
    for variant in _variants(spec):
        if "enum" in variant:
            kinds.append("one of " + ", ".join(str(value) for value in variant["enum"]))
        elif "$ref" in variant:
            kinds.append("an object (" + variant["$ref"].rsplit("/", 1)[-1] + ")")
        elif variant.get("type") == "array":
            kinds.append("a list")
        elif variant.get("type") == "object":
            kinds.append("an object")
        elif "type" in variant:
            kinds.append(str(variant["type"]))
        else:
            kinds.append("any JSON value")
    optional = any(v.get("type") == "null" for v in spec.get("anyOf", []))
    return " or ".join(kinds) + (" (optional)" if optional else "")


def _default(spec: dict[str, Any]) -> str:
    if "default" not in spec or spec["default"] is None:
        return ""
    return f"default {spec['default']!r}".replace("'", "")


LIMITS = {
    "minLength": "at least {} characters",
    "maxLength": "at most {} characters",
    "minimum": "≥ {}",
    "exclusiveMinimum": "> {}",
    "maximum": "≤ {}",
    "minItems": "at least {} items",
    "maxItems": "at most {} items",
    "pattern": "matching {}",
}


def _limits(spec: dict[str, Any]) -> str:
    found = []
    for variant in _variants(spec):
        for key, form in LIMITS.items():
            if key in variant:
                found.append(form.format(variant[key]))
        items = variant.get("items")
        if isinstance(items, dict):
            found.extend(f"each {form.format(items[key])}" for key, form in LIMITS.items() if key in items)
    return ", ".join(found)
