"""Diagnoses a failed or rejected run: the likely cause and a validated JSON Patch fix; the error category's rules
when the AI cannot."""

from typing import Any

from temporalio import workflow


@workflow.defn
class RunDiagnosis:
    @workflow.run
    async def run(self, params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError  # being built
