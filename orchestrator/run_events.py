"""A worker interceptor that puts every run's start on the live stream (core/live_events.py), whichever way
it came in (API, webhook, schedule, re-drive, AutoRecovery): the worker is where all of them begin.

It acts for `UserWorkflowRun` only (which runs outside the sandbox), and only when its first workflow task
runs for real: replaying a run's history after a cache eviction publishes nothing, as `workflow.logger`
stays silent then. It adds no command to the run's history."""

from typing import Any

from temporalio import workflow
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

with workflow.unsafe.imports_passed_through():
    from core.live_events import publish
    from schemas.runs import RunInput

RUN_WORKFLOW = "UserWorkflowRun"


class RunEvents(Interceptor):
    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _RunStarted


class _RunStarted(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        info = workflow.info()
        params = input.args[0] if input.args else None
        if info.workflow_type == RUN_WORKFLOW and isinstance(params, RunInput) and not workflow.unsafe.is_replaying():
            publish(
                "run started",
                source="run",
                tenant_id=params.tenant_id,
                run_id=params.run_id,
                definition_id=params.definition_id,
                version=params.version,
                trigger=params.trigger,
                attempt=info.attempt,
            )
        return await self.next.execute_workflow(input)
