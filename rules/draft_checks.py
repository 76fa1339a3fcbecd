"""The checks a drafted definition passes before anyone sees it: the validator on the tenant's plan, and a draft-only
refusal of literal credentials (a token, an API key or a password written into a header, a URL or any text), which
belong in the tenant's secrets and are referenced by name."""

import re
from collections.abc import Callable, Iterator
from typing import Any

from language.issues import ValidationIssue, ValidationReport, error, json_path, member
from language.validation import validate_definition
from schemas.brain import DraftReport
from schemas.i18n import Text, tr

# Well-known key shapes: OpenAI, Stripe, GitHub, Slack, AWS, Google.
KEY_SHAPES = re.compile(
    r"(sk-[A-Za-z0-9_-]{12,}|[sr]k_(?:live|test)_[A-Za-z0-9]{8,}|gh[pousr]_[A-Za-z0-9]{20,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,})"
)
SENSITIVE_HEADER = re.compile(r"authorization|api[-_]?key|token|secret|password|passwd|cookie|signature", re.I)
SENSITIVE_PARAM = re.compile(
    r"^(api[-_]?key|key|token|access[-_]?token|auth|secret|client[-_]?secret|password|passwd|pwd|signature|sig)$", re.I
)
# What a header value may say around a reference: `Bearer {{ secrets.API_TOKEN }}` holds no literal credential.
AUTH_SCHEMES = re.compile(r"\b(bearer|basic|token|digest|apikey)\b", re.I)
TEMPLATE = re.compile(r"\{\{.*?\}\}", re.S)
URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s]*:([^/@\s]+)@", re.I)
QUERY_PARAM = re.compile(r"[?&]([^=&#]+)=([^&#]*)")


def draft_report(raw: Any, plan: str) -> ValidationReport:
    """The validator's report on `raw` for `plan`, with every literal credential as a `literal_secret` error."""
    report, _ = validate_definition(raw, plan)
    return ValidationReport.of([*report.errors, *literal_secret_issues(raw), *report.warnings])


def literal_secret_issues(raw: Any) -> list[ValidationIssue]:
    """Every place of a raw definition that holds a credential in clear instead of `{{ secrets.NAME }}`."""
    paths = [path for path, text in _strings(raw, "$") if KEY_SHAPES.search(TEMPLATE.sub("", text))]
    for position, step in enumerate(_steps(raw)):
        if step.get("type") != "http_request":
            continue
        headers = step.get("headers")
        for name, value in headers.items() if isinstance(headers, dict) else ():
            if isinstance(value, str) and SENSITIVE_HEADER.search(str(name)) and _literal(value):
                paths.append(json_path("steps", position, "headers") + member(str(name)))
        url = step.get("url")
        if isinstance(url, str) and _url_holds_credential(url):
            paths.append(json_path("steps", position, "url"))
    message = tr(
        "This looks like a credential written in clear; store it as a tenant secret and reference it by name: "
        "{{ secrets.NAME }}."
    )
    return [error(path, "literal_secret", message) for path in dict.fromkeys(paths)]


def public_report(report: ValidationReport, render: Callable[[Text], str]) -> DraftReport:
    """The report as an answer carries it, its messages rendered by `render` (one reader's language)."""
    return DraftReport.model_validate(report.in_language(render).model_dump())


def repair_request(report: ValidationReport) -> str:
    """The message that asks the model to fix a draft: every error with its path (the model's language is English)."""
    lines = [f"- {issue.path} ({issue.code}): {issue.message}" for issue in report.errors]
    return (
        "The definition does not pass the validator. Fix every error below and answer the whole corrected "
        "definition and explanation in the same JSON shape. Reference credentials only as {{ secrets.NAME }}.\n"
        + "\n".join(lines)
    )


def _steps(raw: Any) -> list[dict[str, Any]]:
    steps = raw.get("steps") if isinstance(raw, dict) else None
    return [step if isinstance(step, dict) else {} for step in steps] if isinstance(steps, list) else []


def _literal(value: str) -> bool:
    """Whether a header value says more than an auth scheme around template references."""
    return bool(AUTH_SCHEMES.sub("", TEMPLATE.sub("", value)).strip(" :"))


def _url_holds_credential(url: str) -> bool:
    password = URL_PASSWORD.match(url)
    if password and "{{" not in password.group(1):
        return True
    return any(SENSITIVE_PARAM.match(name) and value and "{{" not in value for name, value in QUERY_PARAM.findall(url))


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(JSON path, text) of every string in a JSON value, keys excluded."""
    pending = [(value, path)]
    while pending:
        item, where = pending.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            pending.extend((child, where + member(str(key))) for key, child in item.items())
        elif isinstance(item, list):
            pending.extend((child, f"{where}[{index}]") for index, child in enumerate(item))
