"""The 30-day grace period of a deleted tenant, at its real length on the time-skipping test server."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.tenants_store import PURGED_NAME, TenantStoreActivities
from core.security import new_api_key
from orchestrator.tenant_lifecycle import TenantLifecycle
from orchestrator.worker import WORKFLOW_RUNNER
from schemas.tables import (
    ApiKey,
    DataRequest,
    Tenant,
    TenantSecret,
    WorkflowDefinitionRow,
    WorkflowVersionRow,
)
from schemas.tenants import LifecycleInput, TenantChange, TenantState

GRACE = timedelta(days=30)


class NoSchedules:
    """Stand-in: the time-skipping server has no Schedules API; the dev-server tests cover pausing."""

    async def set_schedules_paused(self, tenant_id: str, paused: bool, note: str) -> int:
        return 0

    async def delete_tenant_schedules(self, tenant_id: str) -> int:
        return 0

    async def delete_tenant_runs(self, tenant_id: str) -> int:
        return 0

    async def cancel_tenant_runs(self, tenant_id: str, reason: str) -> int:
        return 0


def tenant_with_data(engine: Engine) -> str:
    with Session(engine) as session:
        tenant = Tenant(name="Ada's Bakery")
        session.add(tenant)
        session.flush()
        key = new_api_key()
        session.add(ApiKey(tenant_id=tenant.id, role="admin", prefix=key.prefix, key_hash=key.key_hash))
        session.add(TenantSecret(tenant_id=tenant.id, name="CRM_TOKEN", ciphertext="sealed"))
        definition = WorkflowDefinitionRow(tenant_id=tenant.id, name="orders")
        session.add(definition)
        session.flush()
        session.add(WorkflowVersionRow(definition_id=definition.id, version=1, body={"name": "orders", "steps": []}))
        session.add(
            DataRequest(tenant_id=tenant.id, kind="erasure", deadline_at=datetime.now(UTC) + timedelta(days=30))
        )
        session.commit()
        return tenant.id


async def lifecycle(
    env: WorkflowEnvironment, engine: Engine, tenant_id: str, queue: str
) -> WorkflowHandle[TenantLifecycle, TenantState]:
    return await env.client.start_workflow(
        TenantLifecycle.run,
        LifecycleInput(state=TenantState(tenant_id=tenant_id), grace_period_s=GRACE.total_seconds()),
        id=f"tenant-{tenant_id}",
        task_queue=queue,
    )


async def test_a_deleted_tenant_is_purged_when_the_grace_period_ends(
    skipping_env: WorkflowEnvironment, engine: Engine
) -> None:
    tenant_id, queue = tenant_with_data(engine), f"purge-{uuid.uuid4()}"
    store = TenantStoreActivities(engine, NoSchedules(), NoSchedules())
    async with Worker(
        skipping_env.client,
        task_queue=queue,
        workflows=[TenantLifecycle],
        workflow_runner=WORKFLOW_RUNNER,
        activities=[store.record_status, store.pause_schedules, store.cancel_runs, store.purge_tenant],
        activity_executor=ThreadPoolExecutor(4),
    ):
        handle = await lifecycle(skipping_env, engine, tenant_id, queue)
        deleted = await handle.execute_update(TenantLifecycle.change, TenantChange(name="delete", by="founder"))

        final = await handle.result()

    assert deleted.status == "deleted"
    assert final.status == "purged" and final.history[-1].at - final.history[-2].at >= GRACE
    with Session(engine) as session:
        assert session.get_one(Tenant, tenant_id).name == PURGED_NAME
        for table in (ApiKey, TenantSecret, WorkflowDefinitionRow):
            assert session.exec(select(table).where(table.tenant_id == tenant_id)).all() == []
        erasure = session.exec(select(DataRequest).where(DataRequest.tenant_id == tenant_id)).one()
        assert erasure.status == "completed" and erasure.completed_at is not None


async def test_a_tenant_restored_within_the_grace_period_keeps_its_data(
    skipping_env: WorkflowEnvironment, engine: Engine
) -> None:
    tenant_id, queue = tenant_with_data(engine), f"restore-{uuid.uuid4()}"
    store = TenantStoreActivities(engine, NoSchedules(), NoSchedules())
    async with Worker(
        skipping_env.client,
        task_queue=queue,
        workflows=[TenantLifecycle],
        workflow_runner=WORKFLOW_RUNNER,
        activities=[store.record_status, store.pause_schedules, store.cancel_runs, store.purge_tenant],
        activity_executor=ThreadPoolExecutor(4),
    ):
        handle = await lifecycle(skipping_env, engine, tenant_id, queue)
        await handle.execute_update(TenantLifecycle.change, TenantChange(name="delete", by="founder"))
        await skipping_env.sleep(timedelta(days=29))

        restored = await handle.execute_update(TenantLifecycle.change, TenantChange(name="restore", by="founder"))
        await skipping_env.sleep(timedelta(days=5))
        state = await handle.query(TenantLifecycle.state)
        await handle.terminate()

    assert restored.status == "active" and state.status == "active"
    with Session(engine) as session:
        assert session.get_one(Tenant, tenant_id).status == "active"
        assert len(session.exec(select(ApiKey).where(ApiKey.tenant_id == tenant_id)).all()) == 1
