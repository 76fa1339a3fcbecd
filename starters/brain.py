"""Running the Brain's short workflows for a caller who waits for the answer: a draft, a diagnosis, a chat
answer, an onboarding plan. Each is one workflow execution with a fresh id under the tenant."""

from datetime import timedelta
from uuid import uuid4

from temporalio.client import Client
from temporalio.types import MethodAsyncSingleParam, ParamType, ReturnType, SelfType

# Long enough for three AI rounds with their retries; the workflow falls back well before.
BRAIN_EXECUTION_TIMEOUT = timedelta(minutes=5)


def brain_workflow_id(kind: str, tenant_id: str | None) -> str:
    return f"brain-{kind}-{tenant_id or 'platform'}-{uuid4()}"


async def ask_and_wait(
    client: Client,
    run: MethodAsyncSingleParam[SelfType, ParamType, ReturnType],
    params: ParamType,
    *,
    kind: str,
    tenant_id: str | None,
    task_queue: str,
) -> ReturnType:
    """Executes the Brain workflow whose `@workflow.run` method is `run` with `params`, and returns its result."""
    return await client.execute_workflow(
        run,
        params,
        id=brain_workflow_id(kind, tenant_id),
        task_queue=task_queue,
        execution_timeout=BRAIN_EXECUTION_TIMEOUT,
    )
