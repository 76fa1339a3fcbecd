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


def error_response(status: int, code: str, message: str, field: str | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse(status_code=status, content={"code": code, "message": message, "field": field, **extra})


def field_path(loc: Sequence[Any]) -> str:
    """`("body", "steps", 0, "url")` → `body.steps[0].url`."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, err: ApiError) -> JSONResponse:
        answer = error_response(err.status, err.code, err.message, err.field, **err.extra)
        if "retry_after_s" in err.extra:  # maintenance mode: when to try again, for clients that read the header
            answer.headers["Retry-After"] = str(err.extra["retry_after_s"])
        return answer

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {"loc": (), "msg": "invalid request"}
        loc = first.get("loc", ())
        code = "invalid_json" if first.get("type") == "json_invalid" else "invalid_request"
        message = str(first.get("msg", "invalid request"))
        return error_response(422, code, f"{field_path(loc)}: {message}" if loc else message, field_path(loc) or None)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, err: StarletteHTTPException) -> JSONResponse:
        if err.status_code == 400 and err.detail == UNDECODABLE_BODY:  # JSON is UTF-8: this body is not JSON either
            return error_response(422, "invalid_json", "body: cannot be decoded as UTF-8 JSON", "body")
        code = STATUS_CODES.get(err.status_code, "error")
        return error_response(err.status_code, code, str(err.detail))

    @app.exception_handler(RPCError)
    async def _temporal_error(request: Request, err: RPCError) -> JSONResponse:
        log.warning("temporal call failed", route=route_template(request.scope), status=err.status.name)
        if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            return error_response(503, "temporal_unavailable", "The workflow engine is not reachable; retry shortly")
        return error_response(502, "temporal_error", "The workflow engine refused the call")

    @app.exception_handler(OperationalError)
    async def _database_error(request: Request, err: OperationalError) -> JSONResponse:
        log.warning("database call failed", route=route_template(request.scope), error_type=type(err.orig).__name__)
        return error_response(503, "database_unavailable", "The database is not reachable; retry shortly")

    @app.exception_handler(DataError)
    async def _unstorable_value(request: Request, err: DataError) -> JSONResponse:
        # PostgreSQL refuses values no validator looks for: a NUL character in text, a number out of its column's
        # range. They are the caller's input (an id in a path or query included), not a fault of ours.
        log.info("database refused a value", route=route_template(request.scope), error_type=type(err.orig).__name__)
        return error_response(422, "invalid_value", "A value in this request cannot be stored or looked up")

    @app.exception_handler(PoolTimeoutError)
    async def _database_busy(request: Request, err: PoolTimeoutError) -> JSONResponse:
        log.warning("database pool exhausted", route=route_template(request.scope))
        return error_response(503, "database_busy", "The database is busy; retry shortly")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        log.exception("unhandled error", route=route_template(request.scope), error_type=type(err).__name__)
        return error_response(500, "internal_error", "Something went wrong on our side; it has been logged.")
