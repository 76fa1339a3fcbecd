"""What the definition validator answers: issues with a JSON path and a stable code, and the report."""

import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ValidationIssue(BaseModel):
    path: str
    """JSON path of the offending value, such as `$.steps[2].url`; `$` is the whole definition."""
    code: str
    """Stable snake_case code, such as `unknown_target`; clients branch on it, never on `message`."""
    message: str
    severity: Literal["error", "warning"]


class ValidationReport(BaseModel):
    valid: bool
    """True when there are no errors; warnings never make a definition invalid."""
    errors: list[ValidationIssue]
    warnings: list[ValidationIssue]

    @classmethod
    def of(cls, issues: Sequence[ValidationIssue]) -> "ValidationReport":
        errors = [issue for issue in issues if issue.severity == "error"]
        warnings = [issue for issue in issues if issue.severity == "warning"]
        return cls(valid=not errors, errors=errors, warnings=warnings)


def error(path: str, code: str, message: str) -> ValidationIssue:
    return ValidationIssue(path=path, code=code, message=message, severity="error")


def warning(path: str, code: str, message: str) -> ValidationIssue:
    return ValidationIssue(path=path, code=code, message=message, severity="warning")


def json_path(*parts: str | int) -> str:
    """`$` followed by `[i]` for positions, `.key` for identifiers and `['key']` for other keys."""
    return "$" + "".join(member(part) for part in parts)


def member(part: str | int) -> str:
    """One step of a JSON path: `[2]`, `.url` or `['X-Api-Key']`."""
    if isinstance(part, int):
        return f"[{part}]"
    if _IDENTIFIER.match(part):
        return f".{part}"
    escaped = part.replace("\\", "\\\\").replace("'", "\\'")
    return f"['{escaped}']"
