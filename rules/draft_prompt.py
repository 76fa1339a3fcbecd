"""What the model is told when it drafts a workflow: the definition language in brief, the tenant's plan rules, one or
two templates close to the request as examples, and the language of the explanation; and the JSON Schema of its
answer (the definition language's own schema, and the explanation)."""

import json
from typing import Any

from language.plans import RISKY_MARKS
from language.steps import WorkflowDefinition
from language.templates import workflow_templates
from rules.draft_fallback import ranked_templates
from schemas.brain import ChatMessage

EXAMPLES = 2
LANGUAGE_GUIDE = """\
You draft workflow definitions for Levqor, a workflow-automation platform. Answer one JSON object:
{"definition": <a workflow definition>, "explanation": <text for the person who asked>}.

A definition is {"name", "description", "purpose": "operations" or "marketing" (campaigns, outreach),
"input_schema": a JSON Schema of the run's input, "steps": [...]}. Steps run in order; each has a unique
snake_case "id" and may set "next" (a step id, or "end" to finish). Step types:
- http_request: method, url (https://), headers, json or body, timeout_s (at most 300), expected_status, retry
- delay: seconds (a durable timer, at most 30 days)
- log: level, message
- email: to (a list, at most 50), subject, body
- condition: expression, then, else (step ids or "end"); a condition has no "next"
- approval: class A (passes), B (a tenant admin approves) or C (the founder approves), message, timeout_s,
  on_timeout reject, approve or fail
- transform: set {name: expression}; later steps read vars.name
- ai: prompt, model, max_tokens; later steps read steps.<id>.text
Templates "{{ ... }}" (in texts) and expressions (bare Jinja2, such as `input.amount > 100`) read input.*,
steps.<id>.* of a step that ran before (an http_request's status and body) and vars.*. No {% %} statements.

Credentials: never write an API key, token, password or any secret value, and never invent one. Reference the
tenant's secrets by name only, as {{ secrets.NAME }} (UPPER_SNAKE_CASE), and only in an http_request's url,
headers or body, e.g. "headers": {"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"}.
Use https://*.example.com URLs for services the request does not name. E-mail addresses come from the input
(such as "{{ input.email }}"), never invented."""


def draft_messages(prompt: str, plan: str, language: str) -> list[ChatMessage]:
    """The system message and the person's request, for a draft whose explanation is in `language` (a name)."""
    marks = ", ".join(sorted(RISKY_MARKS[plan])) or "none"
    examples = [template.definition for template, _ in ranked_templates(prompt)[:EXAMPLES]]
    examples = examples or [workflow_templates()[0].definition]
    system = "\n\n".join(
        [
            LANGUAGE_GUIDE,
            f'The tenant\'s plan is "{plan}". On it these steps are risky ({marks}): each needs a class C approval '
            "that does not approve on timeout before it, on every path from the first step.",
            f"Write the explanation in {language}: what the workflow does, which secrets to set and which URLs and "
            "inputs to change. The definition's texts may stay in the language of the request.",
            "Valid definitions for similar requests:\n" + "\n".join(json.dumps(example) for example in examples),
        ]
    )
    return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=prompt)]


def draft_response_schema() -> dict[str, Any]:
    """The answer's JSON Schema: the definition language's schema under `definition`, and `explanation`."""
    definition = WorkflowDefinition.model_json_schema()
    shared = definition.pop("$defs", {})
    return {
        "type": "object",
        "properties": {"definition": definition, "explanation": {"type": "string"}},
        "required": ["definition", "explanation"],
        "additionalProperties": False,
        "$defs": shared,
    }
