"""Purging a tenant erases its web app users with their sessions and sign-in links."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.testing import ActivityEnvironment

from activities.tenants_store import TenantStoreActivities
from domain.web_sessions import SessionLimits, start_session
from schemas.tables import SignInLink, Tenant, User, WebSession
from schemas.tenants import StatusRecord
from tests.web.conftest import unique_email


class NoSchedules:
    async def delete_tenant_schedules(self, tenant_id: str) -> int:
        return 0

    async def delete_tenant_runs(self, tenant_id: str) -> int:
        return 0


async def test_purging_a_tenant_erases_its_users_sessions_and_links(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        tenant = Tenant(name="Gone Ltd")
        session.add(tenant)
        session.flush()
        user = User(tenant_id=tenant.id, email=unique_email("gone"), role="admin")
        session.add(user)
        session.flush()
        now = datetime.now(UTC)
        session.add(SignInLink(email=user.email, user_id=user.id, expires_at=now + timedelta(minutes=15)))
        session.commit()
        start_session(session, user, now, SessionLimits(idle_s=3600, max_age_s=7200))
    store = TenantStoreActivities(engine, NoSchedules())  # type: ignore[arg-type]

    await ActivityEnvironment().run(store.purge_tenant, StatusRecord(tenant_id=tenant.id, status="purged"))

    with Session(engine) as session:
        assert session.exec(select(User).where(User.tenant_id == tenant.id)).all() == []
        assert session.exec(select(SignInLink).where(SignInLink.user_id == user.id)).all() == []
        assert session.exec(select(WebSession).where(WebSession.user_id == user.id)).all() == []
