"""Each tenant's long-lived `TenantLifecycle` workflow: its id, its start and its state."""

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from orchestrator.search_attributes import TENANT_ID
from orchestrator.tenant_lifecycle import TenantLifecycle
from schemas.tenants import LifecycleInput, TenantState


def tenant_workflow_id(tenant_id: str) -> str:
    return f"tenant-{tenant_id}"


async def ensure_lifecycle(client: Client, tenant_id: str, grace_period_s: float, task_queue: str) -> WorkflowHandle:
    """The tenant's lifecycle workflow, started if it is not running (tenants created before it existed)."""
    params = LifecycleInput(state=TenantState(tenant_id=tenant_id), grace_period_s=grace_period_s)
    try:
        return await client.start_workflow(
            TenantLifecycle.run,
            params,
            id=tenant_workflow_id(tenant_id),
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes([SearchAttributePair(TENANT_ID, tenant_id)]),
        )
    except WorkflowAlreadyStartedError:  # purged: the lifecycle ended for good
        return client.get_workflow_handle_for(TenantLifecycle.run, tenant_workflow_id(tenant_id))


async def lifecycle_state(client: Client, tenant_id: str) -> TenantState | None:
    """The lifecycle's state; None when Temporal cannot answer for it (never started, or gone)."""
    try:
        return await client.get_workflow_handle(tenant_workflow_id(tenant_id)).query(TenantLifecycle.state)
    except RPCError:
        return None
