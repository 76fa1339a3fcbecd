"""The Brain beside the workflows: "describe it" in the editor (a draft from a sentence, as JSON for
static/js/describe-it.js, with the fallback's notice in the page's language), and the workflow page's suggestions
(rules/workflow_suggestions.py), a fragment the page loads, each with a link that opens the editor on its step."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import SessionDep
from api.web.ai_deps import PageBrain
from api.web.ai_texts import SUGGESTION_REASONS, SUGGESTION_TITLES, fallback_text
from api.web.deps import PageCaller
from api.web.pages import page_locale, render
from core.errors import ApiError
from core.i18n import render as render_text
from domain import ai_drafts
from domain.workflow_suggestions import workflow_suggestions
from schemas.brain import DraftCreate
from schemas.i18n import tr

router = APIRouter(prefix="/app/workflows", include_in_schema=False)


@router.post("/draft")
async def draft(request: Request, body: DraftCreate, brain: PageBrain) -> JSONResponse:
    """A draft from the editor's sentence: the DraftPublic, plus `notice` (why it is a fallback) in the page's words."""
    language = page_locale(request)
    found = await ai_drafts.draft_workflow(brain, body, body.language or language)
    reason = fallback_text(found.fallback_reason)
    notice = render_text(tr("AI is not available: %(reason)s.", reason=reason), language) if reason else None
    return JSONResponse({**found.model_dump(mode="json"), "notice": notice})


@router.get("/{workflow_id}/suggestions")
async def suggestions(request: Request, workflow_id: str, caller: PageCaller, session: SessionDep) -> HTMLResponse:
    """What the workflow's latest version could do better (404 for another tenant's workflow)."""
    if caller.tenant_id is None:
        raise ApiError(404, "workflow_not_found", tr("No workflow with this id"), field="workflow_id")
    found = await run_in_threadpool(workflow_suggestions, session, workflow_id, caller.tenant_id)
    return render(
        request, "ai/_suggestions.html", suggestions=found, workflow_id=workflow_id, titles=SUGGESTION_TITLES,
        reasons=SUGGESTION_REASONS,
    )  # fmt: skip
