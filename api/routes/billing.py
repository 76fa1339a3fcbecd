"""Billing: a tenant admin buys a plan or DFY package through Stripe Checkout; Stripe reports back through
the signed webhook, which starts one workflow per event; `GET /api/billing` shows plan and dunning."""

import json
import uuid
from typing import Annotated, Any

import stripe
import structlog
from fastapi import APIRouter, Header, Request, status
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import WorkflowFailureError, WorkflowQueryFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from api.deps import CurrentTenant, EngineDep, FounderDep, SettingsDep, TemporalDep, WebhookBody, require_admin
from core.errors import ApiError
from core.settings import Settings
from language.plans import PLANS
from orchestrator.dunning import Dunning, dunning_workflow_id
from rules.pricing import CATALOG
from rules.stripe_events import MAX_ID, stripe_event_input
from schemas.billing import (
    BillingContactUpdate,
    BillingPublic,
    CheckoutCreate,
    CheckoutInput,
    CheckoutMode,
    CheckoutStarted,
    DunningPolicy,
    DunningState,
    PortalInput,
    PortalSession,
    WebhookReceived,
)
from schemas.tables import AuditEntry, BillingAccount, Tenant
from starters.billing import open_billing_portal, run_checkout, start_stripe_event

log = structlog.get_logger()
router = APIRouter(prefix="/api/billing", tags=["billing"])
PAID_PLANS = frozenset(PLANS) - {"free"}
# A tenant with one of these may not start a second subscription.
LIVE_SUBSCRIPTION = frozenset({"active", "trialing", "past_due", "unpaid", "incomplete"})
CHECKOUT_WAIT_S = 30.0
SIGNATURE_HEADER = "stripe-signature"
IdempotencyKey = Annotated[str | None, Header(min_length=1, max_length=200)]


@router.get("")
async def get_billing(tenant: CurrentTenant, engine: EngineDep, temporal: TemporalDep) -> BillingPublic:
    """The tenant's plan, Stripe subscription and dunning state (the billing e-mail only for admin keys)."""
    billing = await run_in_threadpool(_billing_public, engine, str(tenant.tenant_id))
    if tenant.role != "admin":
        billing.billing_email = None
    billing.dunning = await _dunning_state(temporal, billing.tenant_id)
    return billing


@router.get("/tenants/{tenant_id}")
async def get_tenant_billing(
    tenant_id: str, _founder: FounderDep, engine: EngineDep, temporal: TemporalDep
) -> BillingPublic:
    """Any tenant's plan, Stripe subscription, billing contact and dunning state (founder only)."""
    billing = await run_in_threadpool(_billing_public, engine, tenant_id)
    billing.dunning = await _dunning_state(temporal, billing.tenant_id)
    return billing


@router.put("/contact")
def set_billing_contact(
    body: BillingContactUpdate, tenant: CurrentTenant, engine: EngineDep
) -> BillingPublic:
    """Set the e-mail address that receives invoices' payment reminders (admin keys only)."""
    require_admin(tenant, "billing")
    _save_contact(engine, str(tenant.tenant_id), f"key:{tenant.key_id}", body.billing_email)
    return _billing_public(engine, str(tenant.tenant_id))


@router.post("/checkout", status_code=status.HTTP_201_CREATED)
async def start_checkout(
    body: CheckoutCreate,
    tenant: CurrentTenant,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> CheckoutStarted:
    """Create a Stripe Checkout Session for a paid plan or a DFY package; pay at the answer's `url`
    (admin keys only). The same Idempotency-Key answers the same session."""
    require_admin(tenant, "billing")
    if settings.stripe_api_key is None:
        raise ApiError(503, "billing_not_configured", "Payments are not set up on this platform yet")
    tenant_id, actor = str(tenant.tenant_id), f"key:{tenant.key_id}"
    mode, price_id = _price_for(body, settings)
    account = await run_in_threadpool(_prepare_account, engine, tenant_id, actor, body.billing_email)
    if mode == "subscription" and account.subscription_status in LIVE_SUBSCRIPTION:
        raise ApiError(
            409,
            "already_subscribed",
            "This tenant already has a subscription; change its plan in the Stripe customer portal",
            field="item",
            subscription_status=account.subscription_status,
        )
    params = CheckoutInput(
        tenant_id=tenant_id,
        item=body.item,
        mode=mode,
        price_id=price_id,
        customer_id=account.stripe_customer_id,
        success_url=settings.billing_success_url,
        cancel_url=settings.billing_cancel_url,
        idempotency_key=f"levqor-checkout-{tenant_id}-{idempotency_key or uuid.uuid4()}",
    )
    try:
        session = await run_checkout(
            temporal, params, settings.task_queue, settings.api_embedded_worker, CHECKOUT_WAIT_S
        )
    except TimeoutError:
        raise ApiError(503, "stripe_unavailable", "Stripe did not answer in time; retry shortly") from None
    except WorkflowFailureError as err:
        raise _stripe_error(err) from None
    await run_in_threadpool(
        _audit,
        engine,
        tenant_id,
        actor,
        "checkout_started",
        {"item": body.item, "price_id": price_id, "session_id": session.session_id},
    )
    return CheckoutStarted(
        session_id=session.session_id, url=session.url, item=body.item, mode=mode, price_id=price_id
    )


@router.post("/portal", status_code=status.HTTP_201_CREATED)
async def open_portal(
    tenant: CurrentTenant, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> PortalSession:
    """A short-lived Stripe customer portal link: plan, card, invoices, cancelling (admin keys only)."""
    require_admin(tenant, "billing")
    if settings.stripe_api_key is None:
        raise ApiError(503, "billing_not_configured", "Payments are not set up on this platform yet")
    tenant_id = str(tenant.tenant_id)
    account = await run_in_threadpool(_account, engine, tenant_id)
    if account is None or account.stripe_customer_id is None:
        raise ApiError(409, "no_stripe_customer", "Buy a plan or package first; then the portal manages it")
    params = PortalInput(
        tenant_id=tenant_id,
        customer_id=account.stripe_customer_id,
        return_url=settings.billing_portal_return_url,
        idempotency_key=f"levqor-portal-{uuid.uuid4()}",
    )
    try:
        return await open_billing_portal(
            temporal, params, settings.task_queue, settings.api_embedded_worker, CHECKOUT_WAIT_S
        )
    except TimeoutError:
        raise ApiError(503, "stripe_unavailable", "Stripe did not answer in time; retry shortly") from None
    except WorkflowFailureError as err:
        raise _stripe_error(err) from None


@router.post("/webhook")
async def receive_stripe_event(
    request: Request, body: WebhookBody, temporal: TemporalDep, settings: SettingsDep
) -> WebhookReceived:
    """Stripe's webhook: verifies the `Stripe-Signature` header on the raw body (400 otherwise, nothing
    changes), then applies a handled event once, however often it is delivered. Other types: 200, ignored."""
    if settings.stripe_webhook_secret is None:
        raise ApiError(503, "billing_not_configured", "The Stripe webhook secret is not set")
    raw = await body.read()
    event = _verified_event(raw, request.headers.get(SIGNATURE_HEADER), settings)
    policy = DunningPolicy(
        grace_period_s=settings.dunning_grace_period_s,
        reminder_interval_s=settings.dunning_reminder_interval_s,
    )
    try:
        params = stripe_event_input(event, _items_by_price(settings), PAID_PLANS, policy)
    except (ValueError, TypeError, OverflowError):
        raise ApiError(
            400, "invalid_payload", "The event's fields are not what Stripe sends", field="body"
        ) from None
    if params is None:
        log.info("stripe event ignored", event_id=event["id"], type=event.get("type"))
        return WebhookReceived(event_id=event["id"], handled=False)
    started = await start_stripe_event(temporal, params, settings.task_queue, settings.api_embedded_worker)
    log.info("stripe event received", event_id=params.event_id, type=params.type, duplicate=not started)
    return WebhookReceived(event_id=params.event_id, handled=True, duplicate=not started)


def _verified_event(raw: bytes, header: str | None, settings: Settings) -> dict[str, Any]:
    if not header:
        raise ApiError(400, "bad_signature", "Send the Stripe-Signature header", field=SIGNATURE_HEADER)
    secret = settings.stripe_webhook_secret.get_secret_value()  # type: ignore[union-attr]
    try:
        stripe.Webhook.construct_event(raw, header, secret)
        event = json.loads(raw)
    except stripe.SignatureVerificationError:
        raise ApiError(
            400, "bad_signature", "The signature does not match the body", field=SIGNATURE_HEADER
        ) from None
    except (ValueError, TypeError, AttributeError):  # signed, but not a JSON event object
        raise ApiError(400, "invalid_payload", "The body is not a JSON event", field="body") from None
    event_id = event.get("id") if isinstance(event, dict) else None
    if not isinstance(event_id, str) or not 0 < len(event_id) <= MAX_ID:
        raise ApiError(400, "invalid_payload", "The event has no usable id", field="id")
    return event


def _price_for(body: CheckoutCreate, settings: Settings) -> tuple[CheckoutMode, str]:
    """The checkout mode and the Stripe price: the regional one when configured, else the item's own."""
    if body.item in PAID_PLANS:
        mode: CheckoutMode = "subscription"
    elif body.item in CATALOG.packages:
        mode = "payment"
    else:
        choices = ", ".join(sorted(PAID_PLANS | set(CATALOG.packages)))
        raise ApiError(422, "unknown_item", f"Choose one of: {choices}", field="item")
    region = (body.region or "").upper()
    price_id = settings.stripe_prices.get(f"{body.item}:{region}") or settings.stripe_prices.get(body.item)
    if price_id is None:
        raise ApiError(503, "price_not_configured", f"{body.item} cannot be bought online yet", field="item")
    return mode, price_id


def _items_by_price(settings: Settings) -> dict[str, str]:
    return {price: item.partition(":")[0] for item, price in settings.stripe_prices.items()}


def _stripe_error(err: WorkflowFailureError) -> ApiError:
    cause = err.cause.cause if err.cause is not None else None
    kind = cause.type if isinstance(cause, ApplicationError) else None
    if kind == "StripeRejected":
        return ApiError(502, "stripe_rejected", "Stripe refused the request")
    if kind == "BillingNotConfigured":
        return ApiError(503, "billing_not_configured", "Payments are not set up on this platform yet")
    return ApiError(503, "stripe_unavailable", "Stripe is not reachable; retry shortly")


def _prepare_account(engine: Engine, tenant_id: str, actor: str, billing_email: str | None) -> BillingAccount:
    """The tenant's billing account with a new contact saved; 422 when it has no contact at all."""
    account = (
        _save_contact(engine, tenant_id, actor, billing_email)
        if billing_email
        else _account(engine, tenant_id)
    )
    if account is None or not account.billing_email:
        raise ApiError(
            422, "billing_email_required", "Give a billing e-mail for payment notices", field="billing_email"
        )
    return account


def _save_contact(engine: Engine, tenant_id: str, actor: str, billing_email: str) -> BillingAccount:
    with Session(engine, expire_on_commit=False) as session:
        account = session.get(BillingAccount, tenant_id) or BillingAccount(tenant_id=tenant_id)
        if account.billing_email != billing_email:
            account.billing_email = billing_email
            session.add(account)
            session.add(
                AuditEntry(
                    tenant_id=tenant_id,
                    actor=actor,
                    action="billing_contact_changed",
                    detail={"domain": billing_email.rpartition("@")[2]},
                )
            )
            session.commit()
        return account


def _account(engine: Engine, tenant_id: str) -> BillingAccount | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(BillingAccount, tenant_id)


def _billing_public(engine: Engine, tenant_id: str) -> BillingPublic:
    with Session(engine) as session:
        tenant = session.get(Tenant, tenant_id)
        account = session.get(BillingAccount, tenant_id)
    if tenant is None:
        raise ApiError(404, "tenant_not_found", "No tenant with this id", field="tenant_id")
    billing = BillingPublic(tenant_id=tenant.id, plan=tenant.plan, status=tenant.status)
    if account is not None:
        billing.billing_email, billing.stripe_customer_id = account.billing_email, account.stripe_customer_id
        billing.stripe_subscription_id = account.stripe_subscription_id
        billing.subscription_status = account.subscription_status
    return billing


async def _dunning_state(temporal: TemporalDep, tenant_id: str) -> DunningState | None:
    """The tenant's latest dunning, running or settled; None when it never had one (or it aged out)."""
    try:
        return await temporal.get_workflow_handle(dunning_workflow_id(tenant_id)).query(Dunning.state)
    except (RPCError, WorkflowQueryFailedError):
        return None


def _audit(engine: Engine, tenant_id: str, actor: str, action: str, detail: dict[str, Any]) -> None:
    with Session(engine) as session:
        session.add(AuditEntry(tenant_id=tenant_id, actor=actor, action=action, detail=detail))
        session.commit()
