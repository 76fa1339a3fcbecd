"""The Brain's audit of AI calls is kept only as long as the tenant's `ai_transcripts` retention allows, and goes
whole with a purged tenant, its daily credit counts with it."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

from activities.tenants_store import TenantStoreActivities
from orchestrator.retention_enforcer import RetentionEnforcer
from rules.retention import default_platform_retention
from schemas.retention import RetentionEnforcerInput
from schemas.tables import AiCreditDay, AiInteraction, RetentionOverride, Tenant
from schemas.tenants import StatusRecord
from tests.orchestrator.test_tenant_purge import NoSchedules


def tenant_with_interactions(engine: Engine, *ages_days: int, keep_days: int | None = None) -> str:
    now = datetime.now(UTC)
    with Session(engine) as session:
        tenant = Tenant(name="Talkative", plan="starter")
        session.add(tenant)
        session.flush()
        if keep_days is not None:
            session.add(RetentionOverride(tenant_id=tenant.id, data_class="ai_transcripts", days=keep_days, set_by="f"))
        session.add_all(
            AiInteraction(
                tenant_id=tenant.id,
                purpose="chat",
                model="gpt-4o-mini",
                outcome="answered",
                prompt_excerpt=f"user: asked {age} days ago",
                created_at=now - timedelta(days=age, minutes=1),
            )
            for age in ages_days
        )
        session.add(AiCreditDay(tenant_id=tenant.id, day="2026-01-01", credits=3))
        session.commit()
        return tenant.id


def ages_kept(engine: Engine, tenant_id: str) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(select(AiInteraction).where(AiInteraction.tenant_id == tenant_id)).all()
    return sorted(row.prompt_excerpt for row in rows if row.prompt_excerpt)


async def test_the_retention_enforcer_deletes_interactions_older_than_the_tenants_policy(
    client: Client, worker_queue: str, engine: Engine
) -> None:
    default = tenant_with_interactions(engine, 0, 29, 31, 90)
    shortened = tenant_with_interactions(engine, 0, 2, 31, keep_days=1)
    params = RetentionEnforcerInput(platform=default_platform_retention(), tenant_ids=[default, shortened])

    result = await client.execute_workflow(
        RetentionEnforcer.run, params, id=f"retention-{uuid.uuid4()}", task_queue=worker_queue
    )

    assert result.totals["ai_transcripts"] == 4
    assert ages_kept(engine, default) == ["user: asked 0 days ago", "user: asked 29 days ago"]
    assert ages_kept(engine, shortened) == ["user: asked 0 days ago"]


async def test_a_purged_tenant_leaves_no_ai_interactions_or_credit_counts(engine: Engine) -> None:
    tenant_id = tenant_with_interactions(engine, 0, 3)
    store = TenantStoreActivities(engine, NoSchedules(), NoSchedules())

    await ActivityEnvironment().run(store.purge_tenant, StatusRecord(tenant_id=tenant_id, status="purged"))

    with Session(engine) as session:
        assert session.exec(select(AiInteraction).where(AiInteraction.tenant_id == tenant_id)).all() == []
        assert session.exec(select(AiCreditDay).where(AiCreditDay.tenant_id == tenant_id)).all() == []
