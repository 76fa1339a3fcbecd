"""Billing's database side effects: applying a Stripe event to its tenant once, and billing's audit log."""

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from rules.checkout import region_matches
from schemas.billing import BillingAudit, DunningAction, EventApplied, EventOutcome, StripeEventInput
from schemas.tables import AuditEntry, BillingAccount, BillingEvent, Tenant

ACTOR = "billing"
# Subscription statuses that keep the paid plan (past_due: dunning decides), and those that end it.
KEEPS_PLAN = frozenset({"active", "trialing", "past_due", "unpaid"})
ENDS_PLAN = frozenset({"canceled", "incomplete_expired"})
SUBSCRIPTION_EVENTS = frozenset(
    {"customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted"}
)
PAID_EVENTS = frozenset({"invoice.paid", "invoice.payment_succeeded"})
CHECKOUT_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})


class BillingStoreActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name="apply_stripe_event")
    def apply_event(self, event: StripeEventInput) -> EventApplied:
        """Records the event and applies it to its tenant in one transaction. An event already recorded by
        another workflow run is a duplicate and changes nothing; a retry of this run gets its first answer."""
        run_id = activity.info().workflow_run_id
        if run_id is None:  # an event is credited to the workflow run that applied it
            raise ApplicationError(
                "apply_stripe_event runs only in a workflow", type="NotInWorkflow", non_retryable=True
            )
        with Session(self._engine) as session:
            seen = session.get(BillingEvent, event.event_id)
            if seen is not None:
                outcome = seen.outcome if seen.workflow_run_id == run_id else "duplicate"
                dunning = seen.dunning if seen.workflow_run_id == run_id else None
                return EventApplied(
                    event_id=seen.id,
                    tenant_id=seen.tenant_id,
                    outcome=outcome,
                    dunning=dunning,
                )
            tenant = _tenant_for(session, event)
            if tenant is None:
                applied = EventApplied(event_id=event.event_id, tenant_id=None, outcome="unknown_tenant")
                _audit_event(
                    session, None, "billing_event_unmatched", event, type=event.type, customer_id=event.customer_id
                )
            else:
                applied = _apply(session, tenant, event)
            session.add(
                BillingEvent(
                    id=event.event_id,
                    type=event.type,
                    tenant_id=applied.tenant_id,
                    outcome=applied.outcome,
                    dunning=applied.dunning,
                    invoice_id=event.invoice_id,
                    workflow_run_id=run_id,
                    created_at=event.created,
                )
            )
            session.commit()
        activity.logger.info(
            "stripe event applied",
            extra={
                "event_id": event.event_id,
                "type": event.type,
                "tenant_id": applied.tenant_id,
                "outcome": applied.outcome,
            },
        )
        return applied

    @activity.defn(name="record_billing_audit")
    def record_audit(self, entry: BillingAudit) -> None:
        with Session(self._engine) as session:
            _audit(session, entry.tenant_id, entry.action, **entry.detail)
            session.commit()


def _tenant_for(session: Session, event: StripeEventInput) -> Tenant | None:
    """The tenant named in the event's metadata, else the one whose Stripe customer it is."""
    if event.tenant_id:
        tenant = session.get(Tenant, event.tenant_id[:36])
        if tenant is not None:
            return tenant
    if event.customer_id:
        account = session.exec(
            select(BillingAccount).where(BillingAccount.stripe_customer_id == event.customer_id)
        ).first()
        if account is not None:
            return session.get(Tenant, account.tenant_id)
    return None


def _apply(session: Session, tenant: Tenant, event: StripeEventInput) -> EventApplied:
    account = session.get(BillingAccount, tenant.id) or BillingAccount(tenant_id=tenant.id)
    _remember_customer(session, account, event.customer_id)
    if event.type in CHECKOUT_EVENTS and event.billing_country:
        account.billing_country = event.billing_country
    dunning: DunningAction | None = None
    outcome: EventOutcome = "applied"
    if (
        event.type in CHECKOUT_EVENTS
        and (event.plan or event.package)
        and not region_matches(event.priced_region, event.billing_country)
    ):
        outcome = "region_mismatch"
        _hold_purchase(session, account, event)
    elif event.type in SUBSCRIPTION_EVENTS or (event.type in CHECKOUT_EVENTS and event.plan):
        if _is_stale(account, event.created):
            outcome = "stale"
        else:
            dunning = _apply_subscription(session, tenant, account, event)
    elif event.type in CHECKOUT_EVENTS and event.package:
        _audit_payment(session, tenant.id, "dfy_package_purchased", event, package=event.package)
    elif event.type == "invoice.payment_failed":
        _audit_payment(session, tenant.id, "payment_failed", event, invoice_id=event.invoice_id)
        # Stripe does not promise order: a failure reported after the invoice was paid starts nothing.
        dunning = None if _was_paid(session, tenant.id, event.invoice_id) else "start"
    elif event.type in PAID_EVENTS:
        _audit_payment(session, tenant.id, "payment_succeeded", event, invoice_id=event.invoice_id)
        dunning = "settle"
    else:
        outcome = "ignored"
    account.updated_at = datetime.now(UTC)
    session.add(account)
    return EventApplied(event_id=event.event_id, tenant_id=tenant.id, outcome=outcome, dunning=dunning)


def _apply_subscription(
    session: Session, tenant: Tenant, account: BillingAccount, event: StripeEventInput
) -> DunningAction | None:
    """The plan and subscription the event states; a subscription that ended puts the tenant on free."""
    ended = event.type == "customer.subscription.deleted" or event.subscription_status in ENDS_PLAN
    status = (
        "canceled"
        if event.type == "customer.subscription.deleted"
        else (event.subscription_status or ("active" if event.type in CHECKOUT_EVENTS else None))
    )
    # A subscription at a regional price gives its plan only once a checkout from that region was paid.
    granted = event.plan if region_matches(event.priced_region, account.billing_country) else None
    plan = "free" if ended else (granted if status in KEEPS_PLAN and granted else tenant.plan)
    before = (tenant.plan, account.stripe_subscription_id, account.subscription_status)
    account.stripe_subscription_id = None if ended else (event.subscription_id or account.stripe_subscription_id)
    account.subscription_status = status or account.subscription_status
    account.last_event_at = event.created
    if plan != tenant.plan:
        _audit_event(session, tenant.id, "plan_changed", event, from_plan=tenant.plan, to_plan=plan)
        tenant.plan = plan
        session.add(tenant)
    if before[1:] != (account.stripe_subscription_id, account.subscription_status):
        _audit_event(
            session,
            tenant.id,
            "subscription_changed",
            event,
            subscription_id=account.stripe_subscription_id,
            status=account.subscription_status,
        )
    return "end" if ended else None


def _hold_purchase(session: Session, account: BillingAccount, event: StripeEventInput) -> None:
    """A checkout paid at a regional price from a billing address outside that region: nothing is granted,
    the account is flagged and the audit log says what for, so the founder refunds or re-prices in Stripe."""
    account.region_mismatch = event.priced_region
    _audit_payment(
        session,
        account.tenant_id,
        "checkout_region_mismatch",
        event,
        item=event.plan or event.package,
        priced_region=event.priced_region,
        billing_country=event.billing_country,
        subscription_id=event.subscription_id,
    )


def _remember_customer(session: Session, account: BillingAccount, customer_id: str | None) -> None:
    """Links the Stripe customer to the tenant, unless another tenant is linked to it already."""
    if not customer_id or account.stripe_customer_id == customer_id:
        return
    taken = session.exec(select(BillingAccount).where(BillingAccount.stripe_customer_id == customer_id)).first()
    if taken is None:
        if account.stripe_customer_id is not None:
            _audit(
                session,
                account.tenant_id,
                "stripe_customer_changed",
                previous=account.stripe_customer_id,
                customer_id=customer_id,
            )
        account.stripe_customer_id = customer_id


def _was_paid(session: Session, tenant_id: str, invoice_id: str | None) -> bool:
    paid = select(BillingEvent).where(
        BillingEvent.tenant_id == tenant_id,
        BillingEvent.invoice_id == invoice_id,
        col(BillingEvent.type).in_(PAID_EVENTS),
    )
    return invoice_id is not None and session.exec(paid).first() is not None


def _is_stale(account: BillingAccount, created: datetime) -> bool:
    return account.last_event_at is not None and created < account.last_event_at


def _audit(session: Session, tenant_id: str | None, action: str, **detail: object) -> None:
    session.add(AuditEntry(tenant_id=tenant_id, actor=ACTOR, action=action, detail=detail))


def _audit_event(
    session: Session, tenant_id: str | None, action: str, event: StripeEventInput, **detail: object
) -> None:
    """An audit entry caused by a Stripe event: the event's id comes first in its detail."""
    _audit(session, tenant_id, action, event_id=event.event_id, **detail)


def _audit_payment(session: Session, tenant_id: str, action: str, event: StripeEventInput, **detail: object) -> None:
    """An audit entry for a payment: the event, what the payment was for, then its amount."""
    _audit_event(session, tenant_id, action, event, **detail, amount=event.amount, currency=event.currency)
