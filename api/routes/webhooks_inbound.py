"""The public inbound webhook: `POST /api/hooks/{token}` starts a run with the JSON body as its input.

The URL token is the credential (no Authorization header). A signed hook also needs
`X-Levqor-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.
"""

import asyncio
import hashlib
import hmac
import json
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, Request, Response, status
from sqlalchemy import Engine
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError

from api.admission import Admission, start_admitted
from api.deps import EngineDep, SettingsDep, TemporalDep, UsageDep
from api.routes.runs import effective_status
from api.routes.webhooks import signing_box
from core.errors import ApiError
from core.security import hash_api_key, same_secret
from core.settings import Settings
from orchestrator.user_run import UserWorkflowRun
from schemas.runs import RunInput
from schemas.tables import WebhookTrigger
from schemas.webhooks import MAX_WAIT_S, HookAccepted, HookFinished
from starters.runs import new_run_id, same_request

log = structlog.get_logger()
router = APIRouter(prefix="/api/hooks", tags=["hooks"])
# Should become a setting (webhook_max_body_bytes); matches the 256 KiB cap on a run's input.
MAX_TOKEN_LENGTH = 200
SIGNATURE_HEADER = "x-levqor-signature"
DeliveryKey = Annotated[str | None, Header(min_length=1, max_length=200)]


@router.post("/{token}", status_code=status.HTTP_202_ACCEPTED, responses={200: {"model": HookFinished}})
async def receive_hook(
    token: str, request: Request, response: Response, engine: EngineDep, temporal: TemporalDep,
    settings: SettingsDep, usage: UsageDep, idempotency_key: DeliveryKey = None,
    x_delivery_id: DeliveryKey = None,
) -> HookAccepted | HookFinished:
    """Start a run (202 with its id), or wait for it when the hook says so (200 with its result)."""
    refuse_declared_oversize(request, settings.webhook_max_body_bytes)
    hook = await run_in_threadpool(_find_by_token, engine, token)
    raw = await read_capped_body(request, settings.webhook_max_body_bytes)
    _check_signature(hook, raw, request.headers.get(SIGNATURE_HEADER), settings)
    key, key_field = (
        (idempotency_key, "idempotency-key") if idempotency_key else (x_delivery_id, "x-delivery-id")
    )
    payload = _json_object(raw)

    def make_input(admitted: Admission) -> RunInput:
        return RunInput(
            run_id=new_run_id(hook.tenant_id, admitted.definition_id, key), tenant_id=hook.tenant_id,
            definition_id=admitted.definition_id, version=admitted.version, definition=admitted.definition.model_dump(mode="json"),
            input=payload, trigger="webhook", retry_defaults=settings.retry_defaults(),
        )

    handle, params = await start_admitted(
        engine, temporal, settings, usage, hook.definition_id, hook.tenant_id, payload, make_input
    )
    if key is not None and not await same_request(handle, params):
        raise ApiError(409, "idempotency_key_reused",
                       "This delivery id already started a run with another body or version", field=key_field)
    log.info("webhook run started", tenant_id=hook.tenant_id, definition_id=params.definition_id,
             run_id=params.run_id)
    finished = await _wait(handle, min(hook.wait_timeout_s, MAX_WAIT_S)) if hook.wait_for_result else None
    if finished is None:
        return HookAccepted(run_id=params.run_id)
    response.status_code = status.HTTP_200_OK
    return finished


def refuse_declared_oversize(request: Request, limit: int) -> None:
    """413 before anything is read when the declared Content-Length is over `limit`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)


async def read_capped_body(request: Request, limit: int) -> bytes:
    """The raw body; 413 as soon as more than `limit` bytes arrived, leaving the rest unread."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    message = f"A webhook body may take at most {limit // 1024} KiB"
    return ApiError(413, "body_too_large", message, field="body")


def _find_by_token(engine: Engine, token: str) -> WebhookTrigger:
    """The hook behind this token; an unknown token and a deleted hook answer alike."""
    hook = None
    if len(token) <= MAX_TOKEN_LENGTH:
        with Session(engine) as session:
            by_hash = select(WebhookTrigger).where(WebhookTrigger.token_hash == hash_api_key(token))
            hook = session.exec(by_hash).first()
    if hook is None:
        raise ApiError(404, "hook_not_found", "No webhook at this address", field="token")
    return hook


def _check_signature(hook: WebhookTrigger, raw: bytes, given: str | None, settings: Settings) -> None:
    if hook.signing_secret is None:
        return
    try:
        secret = signing_box(settings).open(hook.signing_secret)
    except ValueError:
        log.warning("webhook signing secret unreadable", definition_id=hook.definition_id)
        raise ApiError(503, "secrets_not_configured", "This hook's signing secret cannot be read") from None
    if not given:
        message = "Send `X-Levqor-Signature: sha256=<hex HMAC-SHA256 of the body>`"
        raise ApiError(401, "bad_signature", message, field=SIGNATURE_HEADER)
    expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    if not same_secret(given.strip().lower(), expected):
        raise ApiError(401, "bad_signature", "The signature does not match the body", field=SIGNATURE_HEADER)


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
        # A lone surrogate such as \ud800 parses, but has no UTF-8 form for Temporal's payload.
        json.dumps(value, ensure_ascii=False).encode()
    except (ValueError, RecursionError):
        raise ApiError(422, "invalid_json", "The body is not valid JSON", field="body") from None
    if not isinstance(value, dict):
        raise ApiError(422, "invalid_body", "The body must be a JSON object", field="body")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def _wait(handle: WorkflowHandle, timeout_s: float) -> HookFinished | None:
    """The run's result if it closes within `timeout_s`; None (answer 202) otherwise or if unreadable."""
    try:
        result = await asyncio.wait_for(handle.result(), timeout_s)
        return HookFinished(run_id=result.run_id, status=result.status, steps=result.steps)
    except TimeoutError:
        return None
    except WorkflowFailureError:
        return await _closed_run(handle)
    except RPCError as err:
        log.warning("webhook run result unreadable", status=err.status.name)
        return None


async def _closed_run(handle: WorkflowHandle) -> HookFinished | None:
    try:
        progress = await handle.query(UserWorkflowRun.progress)
        description = await handle.describe()
    except (RPCError, WorkflowQueryFailedError):
        return None
    status = effective_status(progress.status, description.status)
    return HookFinished(run_id=progress.run_id, status=status, steps=progress.steps, error=progress.error)
