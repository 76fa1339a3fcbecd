"""Turns a new tenant's goals into a short plan and a first workflow draft."""

from typing import Any

from temporalio import workflow


@workflow.defn
class OnboardingPlan:
    @workflow.run
    async def run(self, params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError  # being built
