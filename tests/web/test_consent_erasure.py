"""Purging a tenant keeps its users' cookie choices as proof they were given, no longer linked to the users."""

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.testing import ActivityEnvironment

from activities.tenants_store import TenantStoreActivities
from schemas.tables import ConsentRecord, Tenant, User
from schemas.tenants import StatusRecord
from tests.web.conftest import unique_email
from tests.web.test_account_erasure import NoSchedules


async def test_purging_a_tenant_unlinks_its_users_cookie_choices(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        tenant = Tenant(name="Gone Cookies Ltd")
        session.add(tenant)
        session.flush()
        user = User(tenant_id=tenant.id, email=unique_email("cookies"), role="admin")
        session.add(user)
        session.flush()
        choice = ConsentRecord(visitor_id="v" * 24, user_id=user.id, categories=["analytics"], config_version="1")
        session.add(choice)
        session.commit()
    store = TenantStoreActivities(engine, NoSchedules())  # type: ignore[arg-type]

    await ActivityEnvironment().run(store.purge_tenant, StatusRecord(tenant_id=tenant.id, status="purged"))

    with Session(engine) as session:
        kept = session.exec(select(ConsentRecord).where(ConsentRecord.id == choice.id)).one()
        assert (kept.user_id, kept.categories, kept.visitor_id) == (None, ["analytics"], "v" * 24)
