"""The one error type every layer below the API raises for an answer the caller must see."""

from typing import Any


class ApiError(Exception):
    """Answered as JSON `{code, message, field, **extra}` with HTTP `status`; `code` is stable."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.extra = status, code, message, field, extra
