"""The Admin Power Panel's approval queue (founders only): every class C gate waiting across tenants with its run's
context (tenant, workflow and version, the rendered message, the masked input and the steps after the gate), and
approve or reject with a comment. The list is polled; it is swapped only when the set of waiting gates changes, so
a comment being typed survives the polling."""

import hashlib
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import EngineDep, SettingsDep, TemporalDep
from api.web.admin_ops_view import founder_actor
from api.web.deps import FounderPage
from api.web.locale import page_url
from api.web.pages import page_locale, render
from api.web.panel_formats import Formats
from core.i18n import render as render_text
from domain.approval_queue import decide_as_founder, founder_queue
from domain.approvals import decider_name
from language.steps import STEP_ID_PATTERN
from schemas.i18n import tr
from schemas.panel import QueuedGate
from schemas.runs import StepDecision

router = APIRouter(prefix="/admin/power/approvals", include_in_schema=False)
NOTICES = {"approve": tr("Approved: the run goes on."), "reject": tr("Rejected: the run ends at its gate.")}
MAX_COMMENT = 2000


@router.get("")
async def queue(
    request: Request,
    _founder: FounderPage,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    done: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    """The class C gates waiting for a founder, oldest request first."""
    gates = await founder_queue(engine, temporal)
    locale = page_locale(request)
    title = render_text(tr("Approval queue"), locale)
    context = _context(request, gates, settings.panel_poll_s)
    return render(request, "admin/approvals.html", title=title, part="approvals", notice=NOTICES.get(done), **context)


@router.get("/live")
async def live(
    request: Request,
    _founder: FounderPage,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    state: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The queue's list for the page's polling: 204 (nothing to swap) while the same gates wait."""
    gates = await founder_queue(engine, temporal)
    context = _context(request, gates, settings.panel_poll_s)
    if context["state"] == state:
        return Response(status_code=204)
    return render(request, "admin/_approvals_list.html", **context)


@router.post("/{run_id}/{step_id}")
async def decide(
    request: Request,
    run_id: Annotated[str, Path(max_length=64)],
    step_id: Annotated[str, Path(pattern=STEP_ID_PATTERN)],
    founder: FounderPage,
    engine: EngineDep,
    temporal: TemporalDep,
    decision: Annotated[Literal["approve", "reject"], Form()],
    comment: Annotated[str, Form(max_length=MAX_COMMENT)] = "",
) -> RedirectResponse:
    """Approves or rejects a waiting gate with an optional comment, which the run and the audit log keep."""
    choice = StepDecision(
        step_id=step_id,
        approved=decision == "approve",
        role="founder",
        decided_by=await decider_name(engine, founder.user_id, None),
        comment=comment.strip() or None,
    )
    await decide_as_founder(engine, temporal, run_id, choice, founder_actor(founder))
    return RedirectResponse(page_url(request, f"/admin/power/approvals?done={decision}"), status_code=303)


def queue_state(gates: list[QueuedGate]) -> str:
    """A short fingerprint of which gates wait: the list is swapped only when it changes."""
    waiting = sorted(f"{gate.run_id}:{gate.gate.step_id}" for gate in gates)
    return hashlib.sha256(json.dumps(waiting).encode()).hexdigest()[:16]


def _context(request: Request, gates: list[QueuedGate], poll_s: int) -> dict[str, Any]:
    return {
        "gates": gates,
        "state": queue_state(gates),
        "fmt": Formats(page_locale(request)),
        "poll_s": poll_s,
        "max_comment": MAX_COMMENT,
        "pretty": lambda value: json.dumps(value, indent=2, ensure_ascii=False, default=str),
    }
