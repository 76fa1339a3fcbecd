"""Answers a question about Levqor or the tenant's own workflows, grounded in the knowledge base, with citations;
the search results themselves when the AI cannot."""

from typing import Any

from temporalio import workflow


@workflow.defn
class HelpChat:
    @workflow.run
    async def run(self, params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError  # being built
