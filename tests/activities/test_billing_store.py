"""Billing rows under the tenant's other duties: purging erases the billing contact and the Stripe link."""

import uuid

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.testing import ActivityEnvironment

from activities.tenants_store import TenantStoreActivities
from schemas.tables import BillingAccount, Tenant
from schemas.tenants import StatusRecord


class NoSchedules:
    async def set_schedules_paused(self, tenant_id: str, paused: bool, note: str) -> int:
        return 0

    async def delete_tenant_schedules(self, tenant_id: str) -> int:
        return 0

    async def delete_tenant_runs(self, tenant_id: str) -> int:
        return 0


async def test_purging_a_tenant_erases_its_billing_contact_and_its_stripe_link(engine: Engine) -> None:
    tenant_id, customer = str(uuid.uuid4()), f"cus_{uuid.uuid4().hex[:12]}"
    with Session(engine) as session:
        session.add(Tenant(id=tenant_id, name="Leaving Ltd"))
        session.flush()
        session.add(
            BillingAccount(
                tenant_id=tenant_id,
                billing_email="ap@leaving.example",
                stripe_customer_id=customer,
                stripe_subscription_id=f"sub_{customer}",
            )
        )
        session.commit()

    await ActivityEnvironment().run(
        TenantStoreActivities(engine, NoSchedules()).purge_tenant,
        StatusRecord(tenant_id=tenant_id, status="purged"),
    )

    with Session(engine) as session:
        account = session.get(BillingAccount, tenant_id)
    assert account is not None
    assert (account.billing_email, account.stripe_customer_id, account.stripe_subscription_id) == (None, None, None)
