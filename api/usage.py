"""Metering on the API side: the atomic run reservation behind plan limits, and API-call counting.

API calls are counted in memory per process and flushed every few seconds (and at shutdown): one
upsert per request would add a database round trip to every call (measured in the module test),
while a counter in a dict costs nothing. A crash loses at most one flush interval of API calls.
"""

import asyncio
from collections import Counter
from datetime import UTC, datetime

import structlog
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from activities.usage import add_usage
from api.errors import ApiError
from core.security import hash_api_key
from schemas.tables import Tenant
from schemas.usage import PLAN_LIMITS, Metric, limits_for, period_end, period_of

FLUSH_INTERVAL_S = 5.0
log = structlog.get_logger()


def reserve_run(engine: Engine, tenant_id: str, limits: dict[str, dict[Metric, int | None]] = PLAN_LIMITS) -> None:
    """Counts a run start, or answers 429 when the plan's monthly runs are used up.

    Increment first, then check the value the database answered: concurrent starts each see a
    distinct value, so at most `limit` of them pass. A refused start takes its increment back."""
    with Session(engine) as session:
        tenant = session.get(Tenant, tenant_id)
    limit = limits_for(tenant.plan if tenant else "free", limits)["runs"]
    period = period_of(datetime.now(UTC))
    with engine.begin() as connection:
        used = add_usage(connection, tenant_id, period, "runs", 1)
    if limit is None or used <= limit:
        return
    with engine.begin() as connection:
        add_usage(connection, tenant_id, period, "runs", -1)
    raise ApiError(
        429, "usage_limit_reached", f"This plan allows {limit} runs a month; the limit resets at the next period",
        field="metric", metric="runs", limit=limit, used=limit, resets_at=period_end(period).isoformat(),
    )


class UsageBuffer:
    """API calls per tenant since the last flush, written with one upsert per tenant."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def add(self, tenant_id: str) -> None:
        self._counts[tenant_id] += 1

    def flush(self, engine: Engine) -> None:
        counts, self._counts = self._counts, Counter()
        if not counts:
            return
        period = period_of(datetime.now(UTC))
        try:
            with engine.begin() as connection:
                for tenant_id, calls in sorted(counts.items()):  # a fixed order: concurrent flushes cannot deadlock
                    add_usage(connection, tenant_id, period, "api_calls", calls)
        except Exception:
            self._counts.update(counts)  # the transaction rolled back; the next flush carries these
            raise

    async def run(self, engine: Engine, interval_s: float = FLUSH_INTERVAL_S) -> None:
        """Flushes every `interval_s` until cancelled, then once more."""
        try:
            while True:
                await asyncio.sleep(interval_s)
                await self._flush_logged(engine)
        finally:
            await self._flush_logged(engine)

    async def _flush_logged(self, engine: Engine) -> None:
        try:
            await run_in_threadpool(self.flush, engine)
        except Exception as err:  # a database outage must not stop the flushing loop
            log.warning("usage flush failed", error_type=type(err).__name__)


class ApiCallCounter:
    """ASGI middleware: after each request, one count for the tenant whose key authenticated it.
    The key was just looked up by `get_caller`, so the caller cache answers without the database."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] != "http":
            return
        state = scope.get("state") or {}
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        if "usage" not in state or scheme.lower() != "bearer" or not token.strip():
            return
        caller = state["callers"].get(hash_api_key(token.strip()))
        if caller is not None and caller.tenant_id is not None:
            state["usage"].add(caller.tenant_id)
