"""Paying through Stripe: a Checkout Session for a paid plan or a package, and the customer portal for what
was bought. Workflows call Stripe; these wait for their answer and turn its failures into answers."""

import asyncio
import uuid
from collections.abc import Awaitable
from typing import TypeVar

from sqlalchemy import Engine
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError, FailureError

from core.errors import ApiError
from core.settings import Settings
from domain.billing import billing_account, record_audit, save_contact
from rules.checkout import LIVE_SUBSCRIPTION, checkout_mode, price_id_for, priced_region, purchasable_items
from schemas.billing import (
    CheckoutCreate,
    CheckoutInput,
    CheckoutMode,
    CheckoutStarted,
    PortalInput,
    PortalSession,
)
from schemas.i18n import tr
from schemas.tables import BillingAccount
from starters.billing import open_billing_portal, run_checkout

CHECKOUT_WAIT_S = 30.0
T = TypeVar("T")


async def create_checkout_session(
    engine: Engine,
    temporal: Client,
    settings: Settings,
    tenant_id: str,
    actor: str,
    order: CheckoutCreate,
    idempotency_key: str | None,
) -> CheckoutStarted:
    """A Checkout Session for the order, the same one for a repeated `idempotency_key`; audited. Refuses in
    this order: payments not configured (503), an unknown item (422) or one without a price (503), no
    billing contact (422), a second subscription (409), then Stripe's own failures (502, 503)."""
    _require_payments(settings)
    mode, price_id = _checkout_price(order, settings.stripe_prices)
    account = await asyncio.to_thread(_account_with_contact, engine, tenant_id, actor, order.billing_email)
    if mode == "subscription" and account.subscription_status in LIVE_SUBSCRIPTION:
        raise ApiError(
            409,
            "already_subscribed",
            tr("This tenant already has a subscription; change its plan in the Stripe customer portal"),
            field="item",
            subscription_status=account.subscription_status,
        )
    params = CheckoutInput(
        tenant_id=tenant_id,
        item=order.item,
        mode=mode,
        price_id=price_id,
        customer_id=account.stripe_customer_id,
        success_url=settings.billing_success_url,
        cancel_url=settings.billing_cancel_url,
        idempotency_key=f"levqor-checkout-{tenant_id}-{idempotency_key or uuid.uuid4()}",
        region=priced_region(order.item, order.region, settings.stripe_prices),
    )
    session = await _from_stripe(
        run_checkout(temporal, params, settings.task_queue, settings.api_embedded_worker, CHECKOUT_WAIT_S)
    )
    detail = {"item": order.item, "price_id": price_id, "session_id": session.session_id, "region": params.region}
    await asyncio.to_thread(record_audit, engine, tenant_id, actor, "checkout_started", detail)
    return CheckoutStarted(
        session_id=session.session_id, url=session.url, item=order.item, mode=mode, price_id=price_id
    )


async def create_portal_session(engine: Engine, temporal: Client, settings: Settings, tenant_id: str) -> PortalSession:
    """A short-lived customer portal link; 409 before the tenant bought anything through Stripe."""
    _require_payments(settings)
    account = await asyncio.to_thread(billing_account, engine, tenant_id)
    if account is None or account.stripe_customer_id is None:
        raise ApiError(409, "no_stripe_customer", tr("Buy a plan or package first; then the portal manages it"))
    params = PortalInput(
        tenant_id=tenant_id,
        customer_id=account.stripe_customer_id,
        return_url=settings.billing_portal_return_url,
        idempotency_key=f"levqor-portal-{uuid.uuid4()}",
    )
    return await _from_stripe(
        open_billing_portal(temporal, params, settings.task_queue, settings.api_embedded_worker, CHECKOUT_WAIT_S)
    )


def _require_payments(settings: Settings) -> None:
    if settings.stripe_api_key is None:
        raise ApiError(503, "billing_not_configured", tr("Payments are not set up on this platform yet"))


def _checkout_price(order: CheckoutCreate, prices: dict[str, str]) -> tuple[CheckoutMode, str]:
    mode = checkout_mode(order.item)
    if mode is None:
        raise ApiError(
            422, "unknown_item", tr("Choose one of: %(items)s", items=", ".join(purchasable_items())), field="item"
        )
    price_id = price_id_for(order.item, order.region, prices)
    if price_id is None:
        raise ApiError(
            503, "price_not_configured", tr("%(item)s cannot be bought online yet", item=order.item), field="item"
        )
    return mode, price_id


def _account_with_contact(engine: Engine, tenant_id: str, actor: str, billing_email: str | None) -> BillingAccount:
    """The tenant's billing account with a new contact saved; 422 when it has no contact at all."""
    if billing_email:
        account: BillingAccount | None = save_contact(engine, tenant_id, actor, billing_email)
    else:
        account = billing_account(engine, tenant_id)
    if account is None or not account.billing_email:
        raise ApiError(
            422, "billing_email_required", tr("Give a billing e-mail for payment notices"), field="billing_email"
        )
    return account


async def _from_stripe(call: Awaitable[T]) -> T:
    """The billing workflow's answer; its failures as the answer the caller sees."""
    try:
        return await call
    except TimeoutError:
        raise ApiError(503, "stripe_unavailable", tr("Stripe did not answer in time; retry shortly")) from None
    except WorkflowFailureError as err:
        raise _stripe_error(err) from None


def _stripe_error(err: WorkflowFailureError) -> ApiError:
    cause = err.cause.cause if isinstance(err.cause, FailureError) else None
    kind = cause.type if isinstance(cause, ApplicationError) else None
    if kind == "StripeRejected":
        return ApiError(502, "stripe_rejected", tr("Stripe refused the request"))
    if kind == "BillingNotConfigured":
        return ApiError(503, "billing_not_configured", tr("Payments are not set up on this platform yet"))
    return ApiError(503, "stripe_unavailable", tr("Stripe is not reachable; retry shortly"))
