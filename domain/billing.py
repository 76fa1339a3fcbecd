"""A tenant's billing record: its plan, its link to Stripe, its billing contact and its dunning state."""

import asyncio
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from core.errors import ApiError
from schemas.billing import BillingPublic
from schemas.i18n import tr
from schemas.tables import AuditEntry, BillingAccount, Tenant
from starters.billing import dunning_state


def billing_of(engine: Engine, tenant_id: str) -> BillingPublic:
    """The tenant's plan, status, Stripe customer and subscription and billing e-mail; 404 for no tenant."""
    with Session(engine) as session:
        tenant = session.get(Tenant, tenant_id)
        account = session.get(BillingAccount, tenant_id)
    if tenant is None:
        raise ApiError(404, "tenant_not_found", tr("No tenant with this id"), field="tenant_id")
    billing = BillingPublic(tenant_id=tenant.id, plan=tenant.plan, status=tenant.status)
    if account is not None:
        billing.billing_email, billing.stripe_customer_id = account.billing_email, account.stripe_customer_id
        billing.stripe_subscription_id = account.stripe_subscription_id
        billing.subscription_status = account.subscription_status
        billing.billing_country, billing.region_mismatch = account.billing_country, account.region_mismatch
    return billing


async def billing_with_dunning(engine: Engine, temporal: Client, tenant_id: str) -> BillingPublic:
    """`billing_of` with the state of the tenant's latest dunning, if it had one."""
    billing = await asyncio.to_thread(billing_of, engine, tenant_id)
    billing.dunning = await dunning_state(temporal, billing.tenant_id)
    return billing


def change_billing_contact(engine: Engine, tenant_id: str, actor: str, billing_email: str) -> BillingPublic:
    """Sets the address that receives payment notices (audited when it changes); answers `billing_of`."""
    save_contact(engine, tenant_id, actor, billing_email)
    return billing_of(engine, tenant_id)


def billing_account(engine: Engine, tenant_id: str) -> BillingAccount | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(BillingAccount, tenant_id)


def save_contact(engine: Engine, tenant_id: str, actor: str, billing_email: str) -> BillingAccount:
    """The tenant's billing account (created when it has none) with `billing_email` as its contact; a change
    is audited with the address's domain only."""
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


def record_audit(engine: Engine, tenant_id: str, actor: str, action: str, detail: dict[str, Any]) -> None:
    with Session(engine) as session:
        session.add(AuditEntry(tenant_id=tenant_id, actor=actor, action=action, detail=detail))
        session.commit()
