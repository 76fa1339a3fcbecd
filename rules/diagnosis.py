"""The debugger's rules: a failed or rejected run's likely cause, an explanation and a proposed JSON Patch, from the
error category alone (rules/failure_categories.py). What a diagnosis answers when the AI cannot.

Per category: a timeout raises the step's `timeout_s`; a target failing on its side (5xx) or unreachable gets a
`retry` override with more attempts; an approval nobody decided in time gets a longer `timeout_s`; a refusal (4xx)
points at the secret and the request (no patch); the step's own data (validation) is explained (no patch)."""

import re
from dataclasses import dataclass, field
from typing import Any

from language.steps import MAX_APPROVAL_TIMEOUT_SECONDS, MAX_HTTP_TIMEOUT_SECONDS
from rules.failure_categories import category_of
from schemas.brain import FailureFacts
from schemas.i18n import Text, tr

RETRYING_STEPS = frozenset({"http_request", "email", "ai"})
MAX_ATTEMPTS = 10  # the guardrail of a step's retry override (language/steps.py RetryOverride)
MORE_ATTEMPTS = 8
DEFAULT_HTTP_TIMEOUT_S = 10
DEFAULT_APPROVAL_TIMEOUT_S = 3 * 24 * 3600
APPROVAL_TIMEOUT_FACTOR = 2
HTTP_TIMEOUT_FACTOR = 3
MIN_RAISED_HTTP_TIMEOUT_S = 30
SECRET_TEMPLATE = re.compile(r"\{\{\s*secrets\.([A-Z][A-Z0-9_]*)\s*\}\}")


@dataclass(frozen=True)
class Ruling:
    category: str
    cause: Text
    explanation: Text
    summary: Text
    patch: list[dict[str, Any]] = field(default_factory=list)


def rule_diagnosis(facts: FailureFacts) -> Ruling:
    """The category's cause, explanation and (where a rule knows one) a patch against `facts.definition`."""
    step = _step(facts)
    if facts.status == "rejected" and facts.decided_by != "timeout":
        return _rejected(facts)
    category = "approval_timed_out" if facts.status == "rejected" else category_of(facts.error_type)
    match category:
        case "timeout":
            return _timeout(facts, step)
        case "approval_timed_out":
            return _approval_timeout(facts, step)
        case "target_5xx" | "transient_network":
            return _more_attempts(facts, step, category)
        case "auth_4xx":
            return _refused(facts, step)
        case "validation":
            return Ruling(
                category,
                tr("Step %(step)s's own data is wrong", step=_name(facts)),
                tr(
                    "The step failed before or while it ran because of its own settings (an expression, a URL, an "
                    "address or an expected status): %(error)s. Fix the definition and start a new run.",
                    error=facts.error_message or facts.error_type or "?",
                ),
                tr("Correct the step's settings"),
            )
        case _:
            return Ruling(
                "unknown",
                tr("Step %(step)s failed with %(type)s", step=_name(facts), type=facts.error_type or "?"),
                tr(
                    "No rule knows this kind of failure: read the error (%(error)s) and the run's history before "
                    "re-driving.",
                    error=facts.error_message or "?",
                ),
                tr("No fix proposed"),
            )


def _rejected(facts: FailureFacts) -> Ruling:
    return Ruling(
        "rejected",
        tr("A person rejected the approval at step %(step)s", step=_name(facts)),
        tr(
            "The run stopped because %(who)s said no at the gate. Nothing is broken: change what was asked, "
            "or start a new run if the answer should now be yes.",
            who=facts.decided_by or "?",
        ),
        tr("No fix proposed"),
    )


def _timeout(facts: FailureFacts, step: tuple[int, dict[str, Any]] | None) -> Ruling:
    cause = tr("Step %(step)s ran out of time", step=_name(facts))
    if step is None or step[1].get("type") != "http_request":
        explanation = tr("The step took longer than it may; check what it waits for, then re-drive.")
        return Ruling("timeout", cause, explanation, tr("No fix proposed"))
    index, body = step
    current = _number(body.get("timeout_s"), DEFAULT_HTTP_TIMEOUT_S)
    raised = min(max(current * HTTP_TIMEOUT_FACTOR, MIN_RAISED_HTTP_TIMEOUT_S), MAX_HTTP_TIMEOUT_SECONDS)
    explanation = tr(
        "The target did not answer within %(current)s s. If it is just slow, a longer timeout lets the call "
        "finish; if it hangs, check the target.",
        current=_plain(current),
    )
    if raised <= current:
        return Ruling("timeout", cause, explanation, tr("No fix proposed"))
    summary = tr("Raise the timeout of %(step)s to %(seconds)s s", step=_name(facts), seconds=_plain(raised))
    return Ruling("timeout", cause, explanation, summary, [_set(index, "timeout_s", _plain(raised))])


def _approval_timeout(facts: FailureFacts, step: tuple[int, dict[str, Any]] | None) -> Ruling:
    cause = tr("Nobody decided the approval at step %(step)s in time", step=_name(facts))
    explanation = tr("The gate waited its whole timeout without a decision. Give the approvers longer, or remind them.")
    if step is None or step[1].get("type") != "approval":
        return Ruling("approval_timed_out", cause, explanation, tr("No fix proposed"))
    index, body = step
    current = _number(body.get("timeout_s"), DEFAULT_APPROVAL_TIMEOUT_S)
    longer = min(current * APPROVAL_TIMEOUT_FACTOR, MAX_APPROVAL_TIMEOUT_SECONDS)
    if longer <= current:
        return Ruling("approval_timed_out", cause, explanation, tr("No fix proposed"))
    summary = tr("Give the approvers of %(step)s %(seconds)s s", step=_name(facts), seconds=_plain(longer))
    return Ruling("approval_timed_out", cause, explanation, summary, [_set(index, "timeout_s", _plain(longer))])


def _more_attempts(facts: FailureFacts, step: tuple[int, dict[str, Any]] | None, category: str) -> Ruling:
    if category == "target_5xx":
        cause = tr("The target kept failing on its side (HTTP %(status)s)", status=facts.http_status or "5xx")
    else:
        cause = tr("The target could not be reached")
    explanation = tr(
        "Step %(step)s gave up after %(attempts)s attempt(s). Such failures usually pass: more attempts, further "
        "apart, ride them out.",
        step=_name(facts),
        attempts=facts.attempts,
    )
    if step is None or step[1].get("type") not in RETRYING_STEPS:
        return Ruling(category, cause, explanation, tr("No fix proposed"))
    index, body = step
    found = body.get("retry")
    retry: dict[str, Any] = found if isinstance(found, dict) else {}
    attempts = max(MORE_ATTEMPTS, min(facts.attempts * 2, MAX_ATTEMPTS))
    if int(_number(retry.get("max_attempts"), 0)) >= attempts:
        return Ruling(category, cause, explanation, tr("No fix proposed"))
    override = {**retry, "max_attempts": attempts, "initial_interval_s": 2, "max_interval_s": 120, "backoff": 2}
    summary = tr("Retry %(step)s up to %(attempts)s times, further apart", step=_name(facts), attempts=attempts)
    return Ruling(category, cause, explanation, summary, [_set(index, "retry", override)])


def _refused(facts: FailureFacts, step: tuple[int, dict[str, Any]] | None) -> Ruling:
    secrets = sorted(_secret_names(step[1])) if step else []
    cause = tr("The target refused the request (HTTP %(status)s)", status=facts.http_status or "4xx")
    if facts.error_type == "SecretNotFound":
        cause = tr("A secret the step names does not exist")
    if secrets:
        explanation = tr(
            "Check the secrets this step uses (%(names)s): a missing, expired or wrong value is the usual cause. "
            "Then check the request itself, and re-drive.",
            names=", ".join(secrets),
        )
    else:
        explanation = tr(
            "Check the credentials and the request the step sends (URL, method, body): the target will keep "
            "refusing it as it is. Then re-drive."
        )
    return Ruling("auth_4xx", cause, explanation, tr("Check the secret; no change to the workflow proposed"))


def _step(facts: FailureFacts) -> tuple[int, dict[str, Any]] | None:
    steps = facts.definition.get("steps")
    if not isinstance(steps, list):
        return None
    for index, body in enumerate(steps):
        if isinstance(body, dict) and body.get("id") == facts.step_id:
            return index, body
    return None


def _set(index: int, member: str, value: Any) -> dict[str, Any]:
    """`add` sets a member whether or not the step has it (RFC 6902)."""
    return {"op": "add", "path": f"/steps/{index}/{member}", "value": value}


def _secret_names(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(SECRET_TEMPLATE.findall(value))
    if isinstance(value, dict):
        return set().union(*(_secret_names(item) for item in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_secret_names(item) for item in value)) if value else set()
    return set()


def _name(facts: FailureFacts) -> str:
    return facts.step_id or "?"


def _number(value: Any, default: float) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else float(default)


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
