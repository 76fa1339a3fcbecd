"""What routes take as parameters: settings, the engine, a Temporal client and the authenticated caller."""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Generic, Literal, TypeVar, cast

import structlog
from fastapi import BackgroundTasks, Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client, ScheduleDescription

from core.errors import ApiError
from core.metering import UsageBuffer
from core.security import hash_api_key, same_secret
from core.settings import Settings
from domain.api_keys import active_key, record_key_use
from domain.brain_context import BrainContext, tenant_plan
from domain.definitions import tenant_definition
from domain.runs import FoundRun, found_run
from domain.schedules import visible_schedule
from domain.sign_in import session_limits
from domain.web_sessions import live_session
from schemas.accounts import SessionView
from schemas.api import KeyRole
from schemas.i18n import Text, tr
from schemas.runs import DeciderRole
from schemas.tables import WebhookTrigger, WorkflowDefinitionRow
from schemas.tenants import STATUS_NAMES

DECIDER_ROLES: dict[str, DeciderRole] = {"founder": "founder", "admin": "tenant_admin", "member": "member"}


@dataclass(frozen=True)
class Caller:
    """Who is calling: the founder (platform admin) or a tenant's API key with its role."""

    kind: Literal["founder", "tenant"]
    tenant_id: str | None = None
    role: Literal["member", "admin", "founder"] = "founder"
    key_id: str | None = None
    # The signed-in user behind a web session (None for a token).
    user_id: str | None = None
    # The key's tenant's status when it was read (mirrored from the tenant's lifecycle).
    tenant_status: str = "active"

    @property
    def is_founder(self) -> bool:
        return self.kind == "founder"

    @property
    def decider_role(self) -> DeciderRole:
        return DECIDER_ROLES[self.role]


@dataclass(frozen=True)
class TenantCaller(Caller):
    """A tenant's API key: the caller of the routes that act for a tenant."""

    tenant_id: str


async def get_settings_dep(request: Request) -> Settings:
    return request.state.settings


async def get_engine(request: Request) -> Engine:
    return request.state.engine


async def get_usage(request: Request) -> UsageBuffer:
    return request.state.usage


async def get_temporal(request: Request) -> Client:
    return request.state.temporal


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EngineDep = Annotated[Engine, Depends(get_engine)]
UsageDep = Annotated[UsageBuffer, Depends(get_usage)]
TemporalDep = Annotated[Client, Depends(get_temporal)]
SessionDep = Annotated[Session, Depends(get_session)]


V = TypeVar("V")


class RecentlyRead(Generic[V]):
    """Credentials read from the database lately (by their token's hash), so a busy client does not cost a
    database query per request. An entry expires `ttl_s` after it was read, however often it is used since,
    so a change made by another process takes effect within `ttl_s`; this process forgets at once."""

    def __init__(self, ttl_s: float = 5.0, size: int = 10_000) -> None:
        self._ttl_s, self._size = ttl_s, size
        self._entries: dict[str, tuple[float, V]] = {}

    def get(self, token_hash: str) -> V | None:
        entry = self._entries.get(token_hash)
        return entry[1] if entry and entry[0] > time.monotonic() else None

    def put(self, token_hash: str, value: V) -> None:
        """Remembers a value just read from the database (never on a hit: that would extend its expiry)."""
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[token_hash] = (time.monotonic() + self._ttl_s, value)

    def forget_where(self, stale: Callable[[V], bool]) -> None:
        """Drops every entry whose value is `stale`, so its next use reads the database."""
        for token_hash in [h for h, (_, value) in list(self._entries.items()) if stale(value)]:
            self._entries.pop(token_hash, None)


class CallerCache(RecentlyRead[Caller]):
    """Recently read API keys: a revocation, a role change or the tenant's suspension made by another process
    takes effect within `ttl_s`."""

    def forget(self, key_id: str | None = None, tenant_id: str | None = None) -> None:
        """Drops the key `key_id`, or every key of `tenant_id`, so their next use reads the database."""
        self.forget_where(
            lambda caller: (
                (key_id is not None and caller.key_id == key_id)
                or (tenant_id is not None and caller.tenant_id == tenant_id)
            )
        )


async def get_callers(request: Request) -> CallerCache:
    return request.state.callers


# Inbound webhooks by their URL token's hash: a busy hook costs no database read and no thread hop per delivery.
HookCache = RecentlyRead[WebhookTrigger]


async def get_hooks(request: Request) -> HookCache:
    return request.state.hooks


CallersDep = Annotated[CallerCache, Depends(get_callers)]
HooksDep = Annotated[HookCache, Depends(get_hooks)]


class KeyUsage:
    """Which keys' use this process recorded lately, so `api_key.last_used_at` is written at most once per
    `interval_s` per key, after the response has been sent (never on the request's path)."""

    def __init__(self, interval_s: float = 3600.0, size: int = 100_000) -> None:
        self.interval_s, self._size = interval_s, size
        self._recorded: dict[str, float] = {}

    def due(self, key_id: str) -> bool:
        """True, and remembered as recorded, when the key's use was not recorded within the interval."""
        now = time.monotonic()
        last = self._recorded.get(key_id)
        if last is not None and now - last < self.interval_s:
            return False
        if len(self._recorded) >= self._size:
            self._recorded.clear()
        self._recorded[key_id] = now
        return True


def _tenant_caller(engine: Engine, key_hash: str) -> TenantCaller | None:
    key = active_key(engine, key_hash)
    if key is None:
        return None
    # The column is a plain string; the API only ever writes a KeyRole into it.
    role = cast(KeyRole, key.role)
    return TenantCaller(
        kind="tenant", tenant_id=key.tenant_id, role=role, key_id=key.key_id, tenant_status=key.tenant_status
    )


# What a key of a tenant that is not active may still do (route templates): see its state, its data requests
# and exports; a suspended tenant may also pay. Everything else answers 403 `tenant_<status>`.
INACTIVE_TENANT_ROUTES = {
    ("GET", "/api/tenants/{tenant_id}"),
    ("GET", "/api/billing"),
    ("GET", "/api/me/data-requests"),
    ("POST", "/api/me/export-data"),
    ("GET", "/api/me/export-data/{request_id}"),
}
SUSPENDED_TENANT_ROUTES = {("POST", "/api/billing/checkout"), ("POST", "/api/billing/portal")}


def _refuse_inactive_tenant(request: Request, caller: Caller) -> None:
    status = caller.tenant_status
    if status == "active":
        return
    route = (request.method, getattr(request.scope.get("route"), "path", ""))
    if route in INACTIVE_TENANT_ROUTES or (status == "suspended" and route in SUSPENDED_TENANT_ROUTES):
        return
    raise ApiError(
        403,
        f"tenant_{status}",
        tr("This key's tenant is %(state)s", state=STATUS_NAMES.get(status, status)),
        field="authorization",
        current_state=status,
    )


# Declares the scheme in OpenAPI (the Authorize button of /docs); get_caller answers a missing token itself.
bearer = HTTPBearer(auto_error=False, description="The founder token or a tenant API key")


async def get_caller(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    background: BackgroundTasks,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Caller:
    if credentials is None:  # no header, another scheme, or an empty token: a web session's cookie may do
        return await _session_caller(request, settings, engine)
    token = credentials.credentials
    if same_secret(token, settings.levqor_founder_token.get_secret_value()):
        return Caller(kind="founder")
    cache: CallerCache = request.state.callers
    key_hash = hash_api_key(token)
    caller = cache.get(key_hash)
    if caller is None:
        caller = await run_in_threadpool(_tenant_caller, engine, key_hash)
        if caller is None:
            raise ApiError(401, "unauthenticated", tr("Unknown or revoked token"), field="authorization")
        cache.put(key_hash, caller)
    _refuse_inactive_tenant(request, caller)
    usage: KeyUsage = request.state.key_usage
    if caller.key_id is not None and usage.due(caller.key_id):
        background.add_task(record_key_use, engine, caller.key_id, datetime.now(UTC), usage.interval_s)
    structlog.contextvars.bind_contextvars(tenant_id=caller.tenant_id)
    request.state.caller = caller  # this request's own state: ApiCallCounter meters the call by it
    return caller


SESSION_COOKIE = "levqor_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def web_session(request: Request, settings: Settings, engine: Engine) -> SessionView | None:
    """The live web session behind the request's cookie (read once per request), or None."""
    if hasattr(request.state, "web_session"):
        return request.state.web_session
    secret = request.cookies.get(SESSION_COOKIE)
    view = None
    if secret:
        view = await run_in_threadpool(live_session, engine, secret, datetime.now(UTC), session_limits(settings))
    request.state.web_session = view
    return view


def check_csrf(request: Request, view: SessionView, submitted: str | None) -> None:
    """403 `csrf_failed` unless an unsafe request carries its session's CSRF token (a header or a form field)."""
    if request.method in SAFE_METHODS:
        return
    if not submitted or not same_secret(submitted, view.csrf_token):
        raise ApiError(403, "csrf_failed", tr("Missing or wrong CSRF token; reload the page"), field="csrf_token")


def session_caller(view: SessionView) -> Caller:
    """The same Caller a token gives: the founder, or a tenant's admin or member."""
    if view.role == "founder":
        return Caller(kind="founder", user_id=view.user_id)
    if view.tenant_id is None:  # never written so; refused rather than mistaken for the founder
        raise ApiError(401, "unauthenticated", tr("This account belongs to no tenant"), field="authorization")
    role: KeyRole = "admin" if view.role == "admin" else "member"
    return TenantCaller(
        kind="tenant", tenant_id=view.tenant_id, role=role, user_id=view.user_id, tenant_status=view.tenant_status
    )


async def _session_caller(request: Request, settings: Settings, engine: Engine) -> Caller:
    """The caller of a JSON request authenticated by a web session's cookie; unsafe methods need X-CSRF-Token."""
    view = await web_session(request, settings, engine)
    if view is None:
        raise ApiError(401, "unauthenticated", tr("Send `Authorization: Bearer <token>`"), field="authorization")
    check_csrf(request, view, request.headers.get(CSRF_HEADER))
    caller = session_caller(view)
    _refuse_inactive_tenant(request, caller)
    structlog.contextvars.bind_contextvars(tenant_id=caller.tenant_id)
    request.state.caller = caller
    return caller


async def get_tenant_caller(caller: Annotated[Caller, Depends(get_caller)]) -> TenantCaller:
    if not isinstance(caller, TenantCaller):
        raise ApiError(
            403, "tenant_key_required", tr("This route acts for a tenant: use a tenant API key"), field="authorization"
        )
    return caller


def caller_tenant(caller: Caller, what: str | Text) -> str:
    """The tenant the caller acts for; 403 `tenant_key_required` for the founder, who belongs to none (`what`
    names what belongs to a tenant)."""
    if caller.tenant_id is None:
        raise ApiError(
            403,
            "tenant_key_required",
            tr("%(what)s belong to a tenant: act as one of its users", what=what),
            field="authorization",
        )
    return caller.tenant_id


async def get_founder(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
    if not caller.is_founder:
        raise ApiError(403, "founder_only", tr("Only the founder credential may do this"), field="authorization")
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]
CurrentTenant = Annotated[TenantCaller, Depends(get_tenant_caller)]
FounderDep = Annotated[Caller, Depends(get_founder)]


async def brain_for(
    caller: Caller, tenant_id: str, engine: Engine, temporal: Client, settings: Settings
) -> BrainContext:
    """What an AI operation of `caller` for `tenant_id` needs: the tenant's plan, and the platform's Temporal and
    database. The JSON API and the web pages build it here alike, so both ask the AI with the same rights."""
    plan = await run_in_threadpool(tenant_plan, engine, tenant_id)
    return BrainContext(
        client=temporal,
        engine=engine,
        task_queue=settings.task_queue,
        tenant_id=tenant_id,
        plan=plan,
        actor=audit_actor(caller),
        ai_configured=settings.openai_api_key is not None,
        is_admin=is_tenant_admin(caller),
        settings=settings,
    )


async def get_brain(caller: CallerDep, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep) -> BrainContext:
    """The JSON API's AI operations: for the caller's tenant (the founder, of none, gets 403)."""
    return await brain_for(caller, caller_tenant(caller, tr("AI answers")), engine, temporal, settings)


BrainDep = Annotated[BrainContext, Depends(get_brain)]


def require_admin(caller: Caller, what: str | Text) -> None:
    """403 unless the key is a tenant admin's; `what` names what only admins may change."""
    if caller.role != "admin":
        raise ApiError(403, "admin_only", tr("Only an admin key may change %(what)s", what=what), field="authorization")


def is_tenant_admin(caller: Caller) -> bool:
    """The founder or a tenant admin (a key or a signed-in user): who may retry runs, manage users and keys."""
    return caller.is_founder or caller.role == "admin"


def require_tenant_admin(caller: Caller, what: str | Text) -> None:
    """403 unless the caller is the founder or a tenant admin (a key or a signed-in user); `what` names the act."""
    if not is_tenant_admin(caller):
        raise ApiError(403, "admin_only", tr("Only an admin may %(act)s", act=what), field="authorization")


def audit_actor(caller: Caller) -> str:
    """Who acts, as the audit log records it: a signed-in user, the founder token or a key."""
    if caller.user_id is not None:
        return f"user:{caller.user_id}"
    return "founder" if caller.is_founder else f"key:{caller.key_id}"


class CappedBody:
    """A request's raw body, bounded by `limit` bytes: 413 `body_too_large` (or `too_large`) before anything
    is read when the declared Content-Length is over the limit, or as soon as more than that arrived, leaving
    the rest unread."""

    def __init__(self, request: Request, limit: int, too_large: ApiError | None = None) -> None:
        self._request, self._limit, self._refusal = request, limit, too_large

    def refuse_declared_oversize(self) -> None:
        """413 when the declared Content-Length is over the limit; reads nothing."""
        declared = self._request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._limit:
            raise self._too_large()

    async def read(self) -> bytes:
        self.refuse_declared_oversize()
        chunks: list[bytes] = []
        size = 0
        async for chunk in self._request.stream():
            size += len(chunk)
            if size > self._limit:
                raise self._too_large()
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self) -> ApiError:
        if self._refusal is not None:
            return self._refusal
        message = f"A webhook body may take at most {self._limit // 1024} KiB"
        return ApiError(413, "body_too_large", message, field="body")


async def get_webhook_body(request: Request, settings: SettingsDep) -> CappedBody:
    return CappedBody(request, settings.webhook_max_body_bytes)


WebhookBody = Annotated[CappedBody, Depends(get_webhook_body)]


async def get_telemetry_body(request: Request, settings: SettingsDep) -> CappedBody:
    limit = settings.telemetry_max_body_bytes
    message = f"A telemetry batch may take at most {limit} bytes"
    return CappedBody(request, limit, ApiError(413, "payload_too_large", message, field="body"))


TelemetryBody = Annotated[CappedBody, Depends(get_telemetry_body)]


def owned_definition(workflow_id: str, tenant: CurrentTenant, session: SessionDep) -> WorkflowDefinitionRow:
    """The caller's tenant's definition `workflow_id`; another tenant's id answers 404 like a made-up one."""
    return tenant_definition(session, workflow_id, tenant.tenant_id)


async def owned_run(run_id: str, caller: CallerDep, temporal: TemporalDep, engine: EngineDep) -> FoundRun:
    """The run `run_id` if the caller may see it (the founder sees every tenant's), from Temporal or the run
    archive; 404 otherwise."""
    return await found_run(engine, temporal, run_id, caller.tenant_id)


async def owned_schedule(schedule_id: str, caller: CallerDep, temporal: TemporalDep) -> ScheduleDescription:
    """The schedule `schedule_id` if the caller may see it (the founder sees every tenant's); 404 otherwise."""
    return await visible_schedule(temporal, schedule_id, caller.tenant_id)


OwnedDefinition = Annotated[WorkflowDefinitionRow, Depends(owned_definition)]
OwnedRun = Annotated[FoundRun, Depends(owned_run)]
OwnedSchedule = Annotated[ScheduleDescription, Depends(owned_schedule)]
