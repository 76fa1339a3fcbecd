"""Stripe's webhook: a verified event that billing handles starts one StripeEvent workflow, once however
often Stripe delivers it; other event types are acknowledged and ignored."""

import json
from collections.abc import Awaitable, Callable
from typing import Any

import stripe
import structlog
from temporalio.client import Client

from core.errors import ApiError
from core.settings import Settings
from rules.checkout import PAID_PLANS, items_by_price
from rules.stripe_events import MAX_ID, stripe_event_input
from schemas.billing import DunningPolicy, WebhookReceived
from schemas.i18n import tr
from starters.billing import start_stripe_event

log = structlog.get_logger()
SIGNATURE_HEADER = "stripe-signature"


async def accept_stripe_event(
    temporal: Client, settings: Settings, read_body: Callable[[], Awaitable[bytes]], signature: str | None
) -> WebhookReceived:
    """Reads the raw body only once the webhook secret is configured (503 otherwise), verifies `signature`
    (the Stripe-Signature header) on it and starts the event's workflow; 400 when the signature or the
    event is not what Stripe sends, and nothing changes."""
    if settings.stripe_webhook_secret is None:
        raise ApiError(503, "billing_not_configured", tr("The Stripe webhook secret is not set"))
    event = _verified_event(await read_body(), signature, settings.stripe_webhook_secret.get_secret_value())
    policy = DunningPolicy(
        grace_period_s=settings.dunning_grace_period_s, reminder_interval_s=settings.dunning_reminder_interval_s
    )
    try:
        params = stripe_event_input(event, items_by_price(settings.stripe_prices), PAID_PLANS, policy)
    except (ValueError, TypeError, OverflowError):
        raise ApiError(
            400, "invalid_payload", tr("The event's fields are not what Stripe sends"), field="body"
        ) from None
    if params is None:
        log.info("stripe event ignored", event_id=event["id"], type=event.get("type"))
        return WebhookReceived(event_id=event["id"], handled=False)
    started = await start_stripe_event(temporal, params, settings.task_queue, settings.api_embedded_worker)
    log.info("stripe event received", event_id=params.event_id, type=params.type, duplicate=not started)
    return WebhookReceived(event_id=params.event_id, handled=True, duplicate=not started)


def _verified_event(raw: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    if not signature:
        raise ApiError(400, "bad_signature", tr("Send the Stripe-Signature header"), field=SIGNATURE_HEADER)
    try:
        stripe.Webhook.construct_event(raw, signature, secret)
        event = json.loads(raw)
    except stripe.SignatureVerificationError:
        raise ApiError(
            400, "bad_signature", tr("The signature does not match the body"), field=SIGNATURE_HEADER
        ) from None
    except (ValueError, TypeError, AttributeError):  # signed, but not a JSON event object
        raise ApiError(400, "invalid_payload", tr("The body is not a JSON event"), field="body") from None
    event_id = event.get("id") if isinstance(event, dict) else None
    if not isinstance(event_id, str) or not 0 < len(event_id) <= MAX_ID:
        raise ApiError(400, "invalid_payload", tr("The event has no usable id"), field="id")
    return event
