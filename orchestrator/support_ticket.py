"""One support ticket, from its triage to the customer's satisfaction score: tier-aware SLA deadlines as durable
timers that escalate to the founders."""

from typing import Any

from temporalio import workflow


@workflow.defn
class SupportTicket:
    @workflow.run
    async def run(self, params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError  # being built
