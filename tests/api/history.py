"""Moving closed runs into the run archive, and deleting their executions as Temporal's retention would."""

import uuid

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from core.settings import Settings
from orchestrator.run_archiver import RunArchiver
from schemas.run_archive import RunArchiverInput, RunArchiverResult
from tests.conftest import until


async def archive_now(client: Client, settings: Settings) -> RunArchiverResult:
    """One archiver pass on the app's worker, taking every run closed until now."""
    return await client.execute_workflow(
        RunArchiver.run,
        RunArchiverInput(visibility_lag_s=0),
        id=f"test-archiver-{uuid.uuid4()}",
        task_queue=settings.task_queue,
    )


async def delete_execution(client: Client, run_id: str) -> None:
    """What Temporal's retention does to a closed run: its execution and history are gone."""
    await client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace=client.namespace, workflow_execution=WorkflowExecution(workflow_id=f"run-{run_id}")
        )
    )

    async def gone() -> bool:
        try:
            await client.get_workflow_handle(f"run-{run_id}").describe()
        except RPCError as err:
            return err.status == RPCStatusCode.NOT_FOUND
        return False

    await until(gone, bool)
