"""Billing: a tenant admin buys a plan or DFY package through Stripe Checkout; Stripe reports back through
the signed webhook, which starts one workflow per event; `GET /api/billing` shows plan and dunning."""

from typing import Annotated

from fastapi import APIRouter, Header, Request, status

from api.deps import (
    CurrentTenant,
    EngineDep,
    FounderDep,
    SettingsDep,
    TemporalDep,
    WebhookBody,
    require_admin,
)
from domain.billing import billing_with_dunning, change_billing_contact
from domain.checkout import create_checkout_session, create_portal_session
from domain.stripe_webhook import SIGNATURE_HEADER, accept_stripe_event
from schemas.billing import (
    BillingContactUpdate,
    BillingPublic,
    CheckoutCreate,
    CheckoutStarted,
    PortalSession,
    WebhookReceived,
)
from schemas.i18n import tr

router = APIRouter(prefix="/api/billing", tags=["billing"])
IdempotencyKey = Annotated[str | None, Header(min_length=1, max_length=200)]


@router.get("")
async def get_billing(tenant: CurrentTenant, engine: EngineDep, temporal: TemporalDep) -> BillingPublic:
    """The tenant's plan, Stripe subscription and dunning state (the billing e-mail only for admin keys)."""
    billing = await billing_with_dunning(engine, temporal, str(tenant.tenant_id))
    if tenant.role != "admin":
        billing.billing_email = None
    return billing


@router.get("/tenants/{tenant_id}")
async def get_tenant_billing(
    tenant_id: str, _founder: FounderDep, engine: EngineDep, temporal: TemporalDep
) -> BillingPublic:
    """Any tenant's plan, Stripe subscription, billing contact and dunning state (founder only)."""
    return await billing_with_dunning(engine, temporal, tenant_id)


@router.put("/contact")
def set_billing_contact(body: BillingContactUpdate, tenant: CurrentTenant, engine: EngineDep) -> BillingPublic:
    """Set the e-mail address that receives invoices' payment reminders (admin keys only)."""
    require_admin(tenant, tr("billing"))
    return change_billing_contact(engine, str(tenant.tenant_id), f"key:{tenant.key_id}", body.billing_email)


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
    require_admin(tenant, tr("billing"))
    return await create_checkout_session(
        engine, temporal, settings, str(tenant.tenant_id), f"key:{tenant.key_id}", body, idempotency_key
    )


@router.post("/portal", status_code=status.HTTP_201_CREATED)
async def open_portal(
    tenant: CurrentTenant, engine: EngineDep, temporal: TemporalDep, settings: SettingsDep
) -> PortalSession:
    """A short-lived Stripe customer portal link: plan, card, invoices, cancelling (admin keys only)."""
    require_admin(tenant, tr("billing"))
    return await create_portal_session(engine, temporal, settings, str(tenant.tenant_id))


@router.post("/webhook")
async def receive_stripe_event(
    request: Request, body: WebhookBody, temporal: TemporalDep, settings: SettingsDep
) -> WebhookReceived:
    """Stripe's webhook: verifies the `Stripe-Signature` header on the raw body (400 otherwise, nothing
    changes), then applies a handled event once, however often it is delivered. Other types: 200, ignored."""
    return await accept_stripe_event(temporal, settings, body.read, request.headers.get(SIGNATURE_HEADER))
