"""A delivery to an inbound webhook: its signature checked, its run started through admission, and its
result waited for when the hook says so."""

import asyncio
import hashlib
import hmac
import time
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
from schemas.i18n import tr
from schemas.tables import WebhookTrigger
from schemas.webhooks import MAX_WAIT_S, HookAccepted, HookFinished
from starters.runs import run_record, same_request

log = structlog.get_logger()
SIGNATURE_HEADER = "x-levqor-signature"
TIMESTAMP_HEADER = "x-levqor-timestamp"
SIGNING_SCHEME = (
    "`X-Levqor-Timestamp: <unix seconds>` and `X-Levqor-Signature: sha256=<hex HMAC-SHA256 of "
    "`<timestamp>.<body>`, or of `<timestamp>.<delivery id>.<body>` when the delivery sends one>`"
)


def signed_content(timestamp: str, delivery_id: str | None, raw: bytes) -> bytes:
    """What a signed delivery's MAC covers: `<timestamp>.<body>`, or `<timestamp>.<delivery id>.<body>` when the
    delivery carries an id (its Idempotency-Key, else its X-Delivery-Id), so neither can be swapped."""
    prefix = timestamp if delivery_id is None else f"{timestamp}.{delivery_id}"
    # Header values arrive decoded as latin-1; encoding them back gives the bytes the sender signed.
    return prefix.encode("latin-1") + b"." + raw


def check_signature(
    hook: WebhookTrigger,
    raw: bytes,
    signature: str | None,
    timestamp: str | None,
    delivery_id: str | None,
    settings: Settings,
) -> str | None:
    """Passes unsigned hooks (None). A signed hook's delivery must carry its timestamp and the MAC of
    `signed_content` under the hook's signing secret (401 `bad_signature`), and its timestamp must be within
    WEBHOOK_SIGNATURE_TOLERANCE_S of now either way (401 `stale_signature`: a replay of an old delivery);
    503 when the secret cannot be opened. Returns the verified MAC (hex)."""
    if hook.signing_secret is None:
        return None
    try:
        secret = signing_box(settings).open(hook.signing_secret)
    except ValueError:
        log.warning("webhook signing secret unreadable", definition_id=hook.definition_id)
        raise ApiError(503, "secrets_not_configured", tr("This hook's signing secret cannot be read")) from None
    if not timestamp or not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise ApiError(401, "bad_signature", tr("Send %(scheme)s", scheme=SIGNING_SCHEME), field=TIMESTAMP_HEADER)
    if not signature:
        raise ApiError(401, "bad_signature", tr("Send %(scheme)s", scheme=SIGNING_SCHEME), field=SIGNATURE_HEADER)
    mac = hmac.new(secret.encode(), signed_content(timestamp, delivery_id, raw), hashlib.sha256)
    if not same_secret(signature.strip().lower(), "sha256=" + mac.hexdigest()):
        message = tr("The signature does not match the timestamp, delivery id and body")
        raise ApiError(401, "bad_signature", message, field=SIGNATURE_HEADER)
    tolerance = settings.webhook_signature_tolerance_s
    if abs(time.time() - int(timestamp)) > tolerance:
        message = tr(
            "The delivery was signed more than %(tolerance)s s from now: a replay, or a clock that is off",
            tolerance=tolerance,
        )
        raise ApiError(401, "stale_signature", message, field=TIMESTAMP_HEADER)
    return mac.hexdigest()


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
            tr("This delivery id already started a run with another body or version"),
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
    """A run that did not complete, from the record it left (a query, which would replay it, only for runs
    that closed without one)."""
    try:
        description = await handle.describe()
        progress = await run_record(handle, description)
    except (RPCError, WorkflowQueryFailedError):
        return None
    status = effective_status(progress.status, description.status)
    return HookFinished(run_id=progress.run_id, status=status, steps=progress.steps, error=progress.error)
