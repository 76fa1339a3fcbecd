"""The public inbound webhook: `POST /api/hooks/{token}` starts a run with the JSON body as its input.

The URL token is the credential (no Authorization header). A signed hook also needs
`X-Levqor-Timestamp: <unix seconds>` and `X-Levqor-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`
(`"<timestamp>.<delivery id>.<raw body>"` when the delivery sends an Idempotency-Key or X-Delivery-Id); a delivery
signed more than 5 minutes from now is refused, so a captured one cannot be replayed later, and a signed delivery
without an id is deduplicated by its signature, so a replay within those minutes starts no second run.
"""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response, status
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, HooksDep, SettingsDep, TemporalDep, UsageDep, WebhookBody
from core.errors import ApiError
from domain.hook_deliveries import SIGNATURE_HEADER, TIMESTAMP_HEADER, check_signature, deliver
from domain.webhooks import hook_by_hash, hook_key
from schemas.i18n import tr
from schemas.webhooks import HookAccepted, HookFinished

router = APIRouter(prefix="/api/hooks", tags=["hooks"])
DeliveryKey = Annotated[str | None, Header(min_length=1, max_length=200)]


@router.post("/{token}", status_code=status.HTTP_202_ACCEPTED, responses={200: {"model": HookFinished}})
async def receive_hook(
    token: str,
    request: Request,
    body: WebhookBody,
    response: Response,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    usage: UsageDep,
    hooks: HooksDep,
    idempotency_key: DeliveryKey = None,
    x_delivery_id: DeliveryKey = None,
) -> HookAccepted | HookFinished:
    """Start a run (202 with its id), or wait for it when the hook says so (200 with its result)."""
    body.refuse_declared_oversize()
    token_hash = hook_key(token)
    hook = hooks.get(token_hash)
    if hook is None:
        hook = await run_in_threadpool(hook_by_hash, engine, token_hash)
        hooks.put(token_hash, hook)
    raw = await body.read()
    key, key_field = (idempotency_key, "idempotency-key") if idempotency_key else (x_delivery_id, "x-delivery-id")
    headers = request.headers
    mac = check_signature(hook, raw, headers.get(SIGNATURE_HEADER), headers.get(TIMESTAMP_HEADER), key, settings)
    if key is None and mac is not None:  # a replay within the tolerance finds the run its original started
        key, key_field = f"signed:{mac}", SIGNATURE_HEADER
    answer = await deliver(engine, temporal, settings, usage, hook, _json_object(raw), key, key_field)
    if isinstance(answer, HookFinished):
        response.status_code = status.HTTP_200_OK
    return answer


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
        # A lone surrogate such as \ud800 parses, but has no UTF-8 form for Temporal's payload.
        json.dumps(value, ensure_ascii=False).encode()
    except (ValueError, RecursionError):
        raise ApiError(422, "invalid_json", tr("The body is not valid JSON"), field="body") from None
    if not isinstance(value, dict):
        raise ApiError(422, "invalid_body", tr("The body must be a JSON object"), field="body")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
