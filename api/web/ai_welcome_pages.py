"""The onboarding wizard for a new tenant (/app/welcome): its goals → a short plan and a first draft (the onboarding
workflow) → the draft opened in the editor, prefilled, or saved as it is. The home page offers it while the tenant
has no workflow (a fragment the home page loads)."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from api.deps import SessionDep
from api.web.ai_deps import PageBrain
from api.web.ai_texts import fallback_text
from api.web.deps import PageCaller
from api.web.locale import page_redirect
from api.web.pages import page_locale, render
from core.errors import ApiError
from domain import ai_help
from domain.definitions import create_definition
from schemas.brain import MAX_PROMPT_CHARS, OnboardingCreate
from schemas.i18n import tr
from schemas.tables import WorkflowDefinitionRow

router = APIRouter(prefix="/app/welcome", include_in_schema=False)
MAX_DEFINITION_CHARS = 64 * 1024
WORKFLOW_PAGE = "/app/workflows/{workflow_id}"


@router.get("")
async def welcome(request: Request, brain: PageBrain) -> HTMLResponse:
    """The wizard's first step: what the team wants to automate."""
    return _render(request, goals="")


@router.post("")
async def plan(
    request: Request, brain: PageBrain, goals: Annotated[str, Form(max_length=MAX_PROMPT_CHARS)] = ""
) -> HTMLResponse:
    """The goals turned into a short plan and a first draft."""
    if not goals.strip():
        return _render(
            request, status=422, goals=goals, error=tr("Say in a sentence or two what you want to automate.")
        )
    body = OnboardingCreate(goals=goals.strip(), language=page_locale(request))
    onboarding = await ai_help.plan_onboarding(brain, body, page_locale(request))
    return _render(
        request, goals=goals, onboarding=onboarding, fallback=fallback_text(onboarding.fallback_reason),
        definition_json=json.dumps(onboarding.draft.definition),
    )  # fmt: skip


@router.post("/editor")
async def open_in_editor(
    request: Request, caller: PageCaller, definition: Annotated[str, Form(max_length=MAX_DEFINITION_CHARS)]
) -> HTMLResponse:
    """The editor on a new workflow prefilled with the draft; its Save stores version 1."""
    return render(
        request, "workflows/editor.html", title=tr("New workflow"), section="workflows", workflow=None,
        definition=_definition(definition),
    )  # fmt: skip


@router.post("/save")
async def save(
    request: Request,
    caller: PageCaller,
    session: SessionDep,
    definition: Annotated[str, Form(max_length=MAX_DEFINITION_CHARS)],
) -> Response:
    """Stores the draft as version 1 of a new workflow (a valid one only) and opens its page."""
    if caller.tenant_id is None:
        raise ApiError(404, "not_found", tr("There is no such page"))
    saved = await run_in_threadpool(create_definition, session, _definition(definition), caller.tenant_id)
    return page_redirect(request, WORKFLOW_PAGE.format(workflow_id=saved.id))


@router.get("/offer")
async def offer(request: Request, caller: PageCaller, session: SessionDep) -> Response:
    """The home page's invitation to the wizard, while the tenant has no workflow (204 otherwise)."""
    if caller.tenant_id is None or await run_in_threadpool(_has_workflows, session, caller.tenant_id):
        return Response(status_code=204)
    return render(request, "ai/_welcome_offer.html")


def _has_workflows(session: Session, tenant_id: str) -> bool:
    found = session.exec(select(WorkflowDefinitionRow.id).where(WorkflowDefinitionRow.tenant_id == tenant_id))
    return found.first() is not None


def _definition(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ApiError(422, "invalid_definition", tr("The draft must be a JSON object"), field="definition")
    return value


def _render(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    return render(request, "ai/welcome.html", status=status, title=tr("Welcome to Levqor"), section="home", **context)
