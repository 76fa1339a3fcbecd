"""A delivery to an inbound webhook: its signature checked, its run started through admission, and its
result waited for when the hook says so."""

import asyncio
import hashlib
import hmac
from typing import Any

import structlog
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError

from core.errors import ApiError
from core.metering import UsageBuffer
from core.security import same_secret
from core.settings import Settings
from domain.admission import start_admitted
from domain.runs import effective_status
from domain.webhooks import signing_box
from orchestrator.user_run import UserWorkflowRun
from schemas.tables import WebhookTrigger
from schemas.webhooks import MAX_WAIT_S, HookAccepted, HookFinished
from starters.runs import same_request

log = structlog.get_logger()
SIGNATURE_HEADER = "x-levqor-signature"


def check_signature(hook: WebhookTrigger, raw: bytes, given: str | None, settings: Settings) -> None:
    """Passes unsigned hooks; a signed hook's body must carry `sha256=<hex HMAC-SHA256 of the raw body>`
    under its signing secret (401 `bad_signature`; 503 when the secret cannot be opened)."""
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


async def deliver(
    engine: Engine,
    temporal: Client,
    settings: Settings,
    usage: UsageBuffer,
    hook: WebhookTrigger,
    payload: dict[str, Any],
    delivery_key: str | None,
    key_field: str,
) -> HookAccepted | HookFinished:
    """Starts a run of the hook's definition with `payload` as its input, through admission. The same
    delivery key never starts a second run (409 `idempotency_key_reused`, on `key_field`, when it started
    one with another body or version). A hook that waits answers the run's result if it closes in time."""
    handle, params = await start_admitted(
        engine, temporal, settings, usage, hook.definition_id, hook.tenant_id, payload, "webhook", delivery_key
    )
    if delivery_key is not None and not await same_request(handle, params):
        raise ApiError(
            409,
            "idempotency_key_reused",
            "This delivery id already started a run with another body or version",
            field=key_field,
        )
    log.info("webhook run started", tenant_id=hook.tenant_id, definition_id=params.definition_id, run_id=params.run_id)
    finished = await _wait(handle, min(hook.wait_timeout_s, MAX_WAIT_S)) if hook.wait_for_result else None
    return finished if finished is not None else HookAccepted(run_id=params.run_id)


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
