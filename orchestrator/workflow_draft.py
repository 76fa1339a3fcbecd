"""Drafts a workflow definition from a sentence: structured outputs, validated, repaired at most 3 rounds; the
closest template when the AI cannot."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.brain import DraftInput, DraftPublic


@workflow.defn
class WorkflowDraft:
    @workflow.run
    async def run(self, params: DraftInput) -> DraftPublic:
        raise NotImplementedError  # being built
