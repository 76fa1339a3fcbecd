"""What crosses the boundaries of billing: checkout, one Stripe event, dunning, and the billing API's bodies.

No e-mail address or Stripe key ever appears in these models: activities look the billing contact up.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

CheckoutMode = Literal["subscription", "payment"]
EventOutcome = Literal["applied", "ignored", "unknown_tenant", "duplicate", "stale", "region_mismatch"]
DunningAction = Literal["start", "settle", "end"]
DunningStatus = Literal["grace", "suspended", "settled"]
NoticeKind = Literal["payment_failed", "reminder", "suspended", "settled"]
# A bare local@domain.tld address, as the e-mail activity accepts it.
BillingEmail = Annotated[str, Field(max_length=320, pattern=r"^[^@\s<>,;:\"]+@[^@\s<>,;:\"]+\.[^@\s<>,;:\"]+$")]


class CheckoutInput(BaseModel):
    """One Checkout Session to create for a tenant: a plan (subscription) or a DFY package (one payment)."""

    tenant_id: str
    item: str
    mode: CheckoutMode
    price_id: str
    customer_id: str | None = None
    success_url: str
    cancel_url: str
    idempotency_key: str
    # The region whose regional price is charged: Stripe then collects the billing address, and only a
    # billing address in that region gets what was bought at that price.
    region: str | None = None


class CheckoutSession(BaseModel):
    session_id: str
    url: str | None


class PortalInput(BaseModel):
    """A Stripe customer portal session: the customer changes plan, card or cancels there."""

    tenant_id: str
    customer_id: str
    return_url: str
    idempotency_key: str


class PortalSession(BaseModel):
    url: str


class DunningPolicy(BaseModel):
    grace_period_s: float = Field(gt=0)
    reminder_interval_s: float = Field(gt=0)


class StripeEventInput(BaseModel):
    """The few typed fields of one Stripe event that billing acts on; never the whole event."""

    event_id: str
    type: str
    created: datetime
    tenant_id: str | None = None
    customer_id: str | None = None
    subscription_id: str | None = None
    subscription_status: str | None = None
    plan: str | None = None
    package: str | None = None
    invoice_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    priced_region: str | None = None
    billing_country: str | None = None
    dunning: DunningPolicy


class EventApplied(BaseModel):
    """What recording and applying an event did, and what dunning must do next."""

    event_id: str
    tenant_id: str | None
    outcome: EventOutcome
    dunning: DunningAction | None = None


class DunningInput(BaseModel):
    tenant_id: str
    invoice_id: str
    amount: int | None = None
    currency: str | None = None
    policy: DunningPolicy


class InvoiceFailed(BaseModel):
    """Another invoice of the tenant failed while dunning runs (the `payment_failed` signal)."""

    invoice_id: str


class Settlement(BaseModel):
    """An invoice was paid, or the subscription ended (the `settle` signal)."""

    invoice_id: str | None = None
    reason: Literal["paid", "subscription_ended"]


class DunningState(BaseModel):
    tenant_id: str
    status: DunningStatus = "grace"
    outstanding: list[str] = Field(default_factory=list)
    started_at: datetime
    grace_ends_at: datetime
    reminders_sent: int = 0
    suspended_by_dunning: bool = False
    settled_at: datetime | None = None
    settled_by: Literal["paid", "subscription_ended"] | None = None


class DunningNotice(BaseModel):
    """One dunning e-mail to the tenant's billing contact, who is looked up by the activity."""

    tenant_id: str
    kind: NoticeKind
    invoice_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    grace_ends_at: datetime | None = None
    idempotency_key: str


class NoticeSent(BaseModel):
    sent: bool
    message_id: str | None = None


class TenantStatusChange(BaseModel):
    tenant_id: str
    name: Literal["suspend", "resume"]
    reason: str = Field(max_length=500)


class TenantStatusChanged(BaseModel):
    applied: bool
    status: str | None


class BillingAudit(BaseModel):
    tenant_id: str | None
    action: str = Field(max_length=64)
    detail: dict[str, str | int | float | bool | None] = Field(default_factory=dict)


class CheckoutCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: str = Field(min_length=1, max_length=64, description="A paid plan id or a dfy_* package id")
    region: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$", description="ISO 3166 alpha-2 code")
    billing_email: BillingEmail | None = None


class CheckoutStarted(BaseModel):
    session_id: str
    url: str | None
    item: str
    mode: CheckoutMode
    price_id: str


class BillingContactUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    billing_email: BillingEmail


class BillingPublic(BaseModel):
    tenant_id: str
    plan: str
    status: str
    billing_email: str | None = None
    stripe_customer_id: str | None = None
    stripe_subscription_id: str | None = None
    subscription_status: str | None = None
    billing_country: str | None = None
    region_mismatch: str | None = Field(
        default=None, description="The regional price a checkout paid from outside its region; the purchase is held"
    )
    dunning: DunningState | None = None


class WebhookReceived(BaseModel):
    received: bool = True
    event_id: str
    handled: bool
    duplicate: bool = False
