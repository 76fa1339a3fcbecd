"""The one error type every layer below the API raises for an answer the caller must see."""

from typing import Any

from schemas.i18n import Text


class ApiError(Exception):
    """Answered as JSON `{code, message, field, **extra}` with HTTP `status`; `code` is stable. `message` is a
    `Text` (`tr(...)`) rendered in the reader's language by api/errors.py; `str(err.message)` is its English."""

    def __init__(self, status: int, code: str, message: str | Text, field: str | None = None, **extra: Any) -> None:
        super().__init__(str(message))
        self.status, self.code, self.message, self.field, self.extra = status, code, message, field, extra
