"""Every error the API answers is JSON `{code, message, field}` with a stable code. A logged error names the
route template, never the request path (a hook's path carries its token)."""

from collections.abc import Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from api.observability import route_template
from core.errors import ApiError
from core.i18n import DEFAULT, render
from language.issues import ValidationIssue, ValidationReport
from schemas.i18n import Text, tr
from schemas.validation_messages import validation_message
from schemas.workflows import WorkflowSaved

log = structlog.get_logger()
STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
}

# FastAPI's 400 for a JSON body that `json.loads` cannot even decode (not UTF-8); malformed JSON answers 422.
UNDECODABLE_BODY = "There was an error parsing the body"
# Starlette's own details (its 404, 405...) as catalog texts; any other detail is answered as it is.
HTTP_MESSAGES: dict[str, Text] = {
    "Not Found": tr("Not Found"),
    "Method Not Allowed": tr("Method Not Allowed"),
    "Unsupported Media Type": tr("Unsupported Media Type"),
    "Payload Too Large": tr("Payload Too Large"),
    "Unauthorized": tr("Unauthorized"),
    "Forbidden": tr("Forbidden"),
    "Bad Request": tr("Bad Request"),
}


def reader_locale(request: Request) -> str:
    """The language the answer is written in (the locale middleware's choice from Accept-Language; English
    without it)."""
    return getattr(request.state, "locale", DEFAULT)


def localized(value: Any, tag: str) -> Any:
    """`value` for a JSON answer in the language `tag`: texts rendered, validator issues with their messages in
    it, lists and dicts walked; anything else as it is."""
    if isinstance(value, Text):
        return render(value, tag)
    if isinstance(value, ValidationIssue):
        return value.in_language(lambda text: render(text, tag)).model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [localized(item, tag) for item in value]
    if isinstance(value, dict):
        return {key: localized(item, tag) for key, item in value.items()}
    return value


def in_reader_language(report: ValidationReport, request: Request) -> ValidationReport:
    """A validator's report with its messages in the language of `request`'s reader."""
    tag = reader_locale(request)
    return report.in_language(lambda text: render(text, tag))


def saved_in_reader_language(saved: WorkflowSaved, request: Request) -> WorkflowSaved:
    """A stored version's answer with its warnings in the language of `request`'s reader."""
    tag = reader_locale(request)
    warnings = [w.model_copy(update={"message": render(w.text, tag)}) if w.text else w for w in saved.warnings]
    return saved.model_copy(update={"warnings": warnings})


def error_response(
    status: int, code: str, message: str | Text, field: str | None = None, tag: str = DEFAULT, **extra: Any
) -> JSONResponse:
    content = {"code": code, "message": render(message, tag), "field": field, **localized(extra, tag)}
    return JSONResponse(status_code=status, content=content)


def field_path(loc: Sequence[Any]) -> str:
    """`("body", "steps", 0, "url")` → `body.steps[0].url`."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError) -> JSONResponse:
        answer = error_response(err.status, err.code, err.message, err.field, reader_locale(request), **err.extra)
        if "retry_after_s" in err.extra:  # maintenance mode: when to try again, for clients that read the header
            answer.headers["Retry-After"] = str(err.extra["retry_after_s"])
        return answer

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {"loc": (), "msg": "invalid request"}
        loc = first.get("loc", ())
        code = "invalid_json" if first.get("type") == "json_invalid" else "invalid_request"
        message = render(validation_message(first), reader_locale(request))
        path = field_path(loc)
        return error_response(422, code, f"{path}: {message}" if loc else message, path or None)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
        tag = reader_locale(request)
        if err.status_code == 400 and err.detail == UNDECODABLE_BODY:  # JSON is UTF-8: this body is not JSON either
            return error_response(422, "invalid_json", tr("body: cannot be decoded as UTF-8 JSON"), "body", tag)
        code = STATUS_CODES.get(err.status_code, "error")
        return error_response(err.status_code, code, HTTP_MESSAGES.get(str(err.detail), str(err.detail)), tag=tag)

    @app.exception_handler(RPCError)
    async def _temporal_error(request: Request, err: RPCError) -> JSONResponse:
        log.warning("temporal call failed", route=route_template(request.scope), status=err.status.name)
        if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            message = tr("The workflow engine is not reachable; retry shortly")
            return error_response(503, "temporal_unavailable", message, tag=reader_locale(request))
        return error_response(
            502, "temporal_error", tr("The workflow engine refused the call"), tag=reader_locale(request)
        )

    @app.exception_handler(OperationalError)
    async def _database_error(request: Request, err: OperationalError) -> JSONResponse:
        log.warning("database call failed", route=route_template(request.scope), error_type=type(err.orig).__name__)
        message = tr("The database is not reachable; retry shortly")
        return error_response(503, "database_unavailable", message, tag=reader_locale(request))

    @app.exception_handler(DataError)
    async def _unstorable_value(request: Request, err: DataError) -> JSONResponse:
        # PostgreSQL refuses values no validator looks for: a NUL character in text, a number out of its column's
        # range. They are the caller's input (an id in a path or query included), not a fault of ours.
        log.info("database refused a value", route=route_template(request.scope), error_type=type(err.orig).__name__)
        message = tr("A value in this request cannot be stored or looked up")
        return error_response(422, "invalid_value", message, tag=reader_locale(request))

    @app.exception_handler(PoolTimeoutError)
    async def _database_busy(request: Request, err: PoolTimeoutError) -> JSONResponse:
        log.warning("database pool exhausted", route=route_template(request.scope))
        return error_response(
            503, "database_busy", tr("The database is busy; retry shortly"), tag=reader_locale(request)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        log.exception("unhandled error", route=route_template(request.scope), error_type=type(err).__name__)
        message = tr("Something went wrong on our side; it has been logged.")
        return error_response(500, "internal_error", message, tag=reader_locale(request))
