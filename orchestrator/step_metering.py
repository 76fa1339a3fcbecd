"""A worker interceptor that meters runs' billable steps: each HTTP, e-mail or AI step of a
`UserWorkflowRun` that succeeds counts one step for its tenant, and an AI step its credits.

Counted in the worker's UsageBuffer (a line appended to its outbox file, about 5 us; written in batches),
not by an activity the run calls: an extra activity at the end of every run cost about 5 ms of worker
CPU and 10 ms of latency per run (bench.throughput). The count is on disk before the activity's result
is reported, so a crashed worker never loses it; a worker killed between the two counts the retried
step again (at least once, never lost). Pure steps (log, condition, transform), delays and approvals
are not billed, like other automation platforms' "tasks". The Brain's own AI calls (`brain_ask`, outside runs)
count their credits themselves, with the day's, in the transaction that records the call (core/ai_credits.py)."""

from typing import Any

from temporalio import activity
from temporalio.worker import ExecuteActivityInput

from core.metering import UsageBuffer
from orchestrator.interceptors import AroundActivity, Proceed
from rules.usage import ai_credits
from schemas.runs import AiReply

STEP_ACTIVITIES = frozenset({"http_request", "send_email", "ai_complete"})


class StepMetering(AroundActivity):
    def __init__(self, usage: UsageBuffer) -> None:
        self._usage = usage

    async def around(self, input: ExecuteActivityInput, proceed: Proceed) -> Any:
        result = await proceed(input)
        info = activity.info()
        tenant_id = getattr(input.args[0], "tenant_id", None) if input.args else None
        if info.workflow_type == "UserWorkflowRun" and info.activity_type in STEP_ACTIVITIES and tenant_id:
            self._usage.add(tenant_id, "steps")
            if isinstance(result, AiReply):
                self._usage.add(
                    tenant_id, "ai_credits", ai_credits({result.model: result.prompt_tokens + result.completion_tokens})
                )
        return result
