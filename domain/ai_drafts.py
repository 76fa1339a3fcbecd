"""Workflow drafts from a sentence, for the JSON API and the editor: a short `WorkflowDraft` run the caller waits
for. A draft is never stored (saving it is POST /api/workflows)."""

from anyio import to_thread
from temporalio.client import WorkflowFailureError

from core.errors import ApiError
from core.i18n import canonical_tag
from domain.ai_allowance import ai_unavailable
from domain.brain_context import BrainContext
from orchestrator.workflow_draft import WorkflowDraft
from rules.ai_masking import mask_emails
from schemas.brain import DraftCreate, DraftInput, DraftPublic
from schemas.i18n import tr
from starters.brain import ask_and_wait


async def draft_workflow(brain: BrainContext, body: DraftCreate, language: str) -> DraftPublic:
    """A draft of the workflow `body.prompt` describes, explained in `body.language` (else `language`, the reader's):
    the AI's when it can, else the closest template's with the reason. 422 for a blank prompt or an unknown
    language; 503 `draft_failed` when not even the template draft could be made."""
    if not body.prompt.strip():
        raise ApiError(422, "empty_prompt", tr("Describe the workflow in a few words"), field="body.prompt")
    tag = canonical_tag(body.language) if body.language is not None else language
    if tag is None:
        raise ApiError(422, "unknown_language", tr("Levqor does not speak this language"), field="body.language")
    reason = await to_thread.run_sync(
        lambda: ai_unavailable(brain.engine, brain.tenant_id, brain.plan, configured=brain.ai_configured)
    )
    # E-mail addresses never enter the workflow's history (nor the model's prompt): the draft reads them from its input.
    params = DraftInput(
        tenant_id=brain.tenant_id,
        plan=brain.plan,
        prompt=mask_emails(body.prompt),
        language=tag,
        fallback_reason=reason,
    )
    try:
        return await ask_and_wait(
            brain.client,
            WorkflowDraft.run,
            params,
            kind="draft",
            tenant_id=brain.tenant_id,
            task_queue=brain.task_queue,
        )
    except WorkflowFailureError as err:
        raise ApiError(503, "draft_failed", tr("The draft could not be made just now; try again")) from err
