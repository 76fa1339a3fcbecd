"""What the API observes about itself on every request, cheaply: a request id (and, once authenticated,
the tenant id) bound to the log context, Prometheus request metrics, and telemetry for server errors
and slow requests (buffered in memory, written in batches by core/telemetry.py)."""

import time
import uuid
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.telemetry import TelemetryBuffer

REQUEST_ID_HEADER = b"x-request-id"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Label values are bounded: a method outside this set is counted as OTHER, a path no route matched as
# `unmatched` (never the raw method or path, which a stranger chooses and which may carry a hook's token).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class ApiMetrics:
    """The API's own Prometheus registry (one per app, so several apps in one process never collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "levqor_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "levqor_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )


class RequestObservability:
    """Pure ASGI middleware (no extra task per request, so context bound inside the handler is visible here)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, slow_request_ms: float) -> None:
        self.app, self.metrics, self.slow_ms = app, metrics, slow_request_ms

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            self._observe(scope, status, elapsed)
            structlog.contextvars.clear_contextvars()

    def _observe(self, scope: Scope, status: int, elapsed: float) -> None:
        route = route_template(scope)
        method = scope["method"] if scope["method"] in KNOWN_METHODS else "OTHER"
        self.metrics.requests.labels(method, route, str(status)).inc()
        self.metrics.latency.labels(method, route).observe(elapsed)
        duration_ms = elapsed * 1000
        if status < 500 and duration_ms <= self.slow_ms:
            return
        telemetry: TelemetryBuffer | None = scope.get("state", {}).get("telemetry")
        if telemetry is None:
            return
        context: dict[str, Any] = structlog.contextvars.get_contextvars()
        kind, message = (
            ("error", f"{method} {route} answered {status}")
            if status >= 500
            else ("performance", f"slow request {method} {route}")
        )
        telemetry.record(
            kind,
            message,
            endpoint=f"{method} {route}",
            duration_ms=round(duration_ms, 2),
            status=status,
            tenant_id=context.get("tenant_id"),
            attributes={"request_id": context.get("request_id")},
        )


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/api/hooks/{token}`), never the request's own path; `unmatched`
    before routing or when no route matched."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "unmatched"


def _request_id(scope: Scope) -> str:
    """The caller's X-Request-ID when it is a sane token, else a new one."""
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER:
            candidate = value.decode("latin-1")
            if 0 < len(candidate) <= 64 and candidate.replace("-", "").replace("_", "").isalnum():
                return candidate
    return uuid.uuid4().hex
