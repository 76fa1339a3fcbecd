"""Whether a proposed fix may be offered: its JSON Patch applies to the version that ran, carries no masked value
(the AI saw e-mail addresses and credentials masked; a patch writing a mask back would break the workflow), changes
something, and the patched definition passes the validator with the tenant's plan."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from language.issues import ValidationIssue
from language.json_patch import JsonPatchError, apply_patch
from language.validation import validate_definition
from schemas.brain import DraftReport, ReportIssue
from schemas.i18n import Text, tr

MASKS = ("***", "\u27easecret:")
MAX_PROBLEMS = 5


@dataclass(frozen=True)
class PatchCheck:
    patched: dict[str, Any] | None
    report: DraftReport
    problem: Text | None
    """Why the fix is not offered; None when it is."""


def check_patch(
    body: dict[str, Any], patch: list[dict[str, Any]], plan: str, render: Callable[[Text], str]
) -> PatchCheck:
    """`patch` applied to `body` and validated against `plan`; the report's messages rendered by `render`."""
    empty = DraftReport(valid=False)
    written = json.dumps([op.get("value") for op in patch if isinstance(op, dict)], ensure_ascii=False)
    if any(mask in written for mask in MASKS):
        return PatchCheck(None, empty, tr("The patch writes a masked value back into the workflow"))
    try:
        patched = apply_patch(body, patch)
    except JsonPatchError as err:
        return PatchCheck(
            None, empty, tr("The patch does not apply (%(code)s): %(error)s", code=err.code, error=str(err))
        )
    if patched == body:
        return PatchCheck(None, empty, tr("The patch changes nothing"))
    report, _ = validate_definition(patched, plan)
    public = DraftReport(
        valid=report.valid,
        errors=[_issue(issue, render) for issue in report.errors],
        warnings=[_issue(issue, render) for issue in report.warnings],
    )
    if not report.valid:
        listed = "; ".join(f"{i.path}: {i.code} ({i.message})" for i in public.errors[:MAX_PROBLEMS])
        return PatchCheck(patched, public, tr("The patched workflow does not validate: %(errors)s", errors=listed))
    return PatchCheck(patched, public, None)


def _issue(issue: ValidationIssue, render: Callable[[Text], str]) -> ReportIssue:
    message = render(issue.text) if issue.text is not None else issue.message
    return ReportIssue(path=issue.path, code=issue.code, message=message, severity=issue.severity)
