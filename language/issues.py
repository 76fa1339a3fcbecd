"""What the definition validator answers: issues with a JSON path and a stable code, and the report."""

import re
from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import BaseModel, Field

from schemas.i18n import Text

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ValidationIssue(BaseModel):
    path: str
    """JSON path of the offending value, such as `$.steps[2].url`; `$` is the whole definition."""
    code: str
    """Stable snake_case code, such as `unknown_target`; clients branch on it, never on `message`."""
    message: str
    """In English; an API answer carries it in the reader's language (`in_language`)."""
    severity: Literal["error", "warning"]
    text: Text | None = Field(default=None, exclude=True)
    """The message as a catalog text, to be rendered for a reader; not part of the JSON."""

    def in_language(self, render: Callable[[Text], str]) -> "ValidationIssue":
        """This issue with its message rendered by `render` (core/i18n.py's `render` for one language)."""
        return self if self.text is None else self.model_copy(update={"message": render(self.text)})


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

    def in_language(self, render: Callable[[Text], str]) -> "ValidationReport":
        """This report with every message rendered by `render`."""
        errors = [issue.in_language(render) for issue in self.errors]
        return self.model_copy(update={"errors": errors, "warnings": [w.in_language(render) for w in self.warnings]})


def error(path: str, code: str, message: Text | str) -> ValidationIssue:
    return _issue(path, code, message, "error")


def warning(path: str, code: str, message: Text | str) -> ValidationIssue:
    return _issue(path, code, message, "warning")


def _issue(path: str, code: str, message: Text | str, severity: Literal["error", "warning"]) -> ValidationIssue:
    text = message if isinstance(message, Text) else None
    return ValidationIssue(path=path, code=code, message=str(message), severity=severity, text=text)


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
