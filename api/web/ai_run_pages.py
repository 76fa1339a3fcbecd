"""The run page's "Why did this fail?": the debugger's diagnosis of a failed or rejected run (its cause, explanation
and source, the proposed fix as a diff), and applying the fix (admins), optionally re-driving the run on the new
version. Both are POSTs with the session's CSRF token; another tenant's run answers 404 like the run page."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from api.deps import require_tenant_admin
from api.web.ai_deps import PageBrain
from api.web.ai_texts import fallback_text
from api.web.deps import PageCaller
from api.web.pages import page_locale, render
from core.errors import ApiError
from domain import ai_fixes, runs
from schemas.brain import DiagnosisPublic
from schemas.i18n import tr

router = APIRouter(prefix="/app/runs", include_in_schema=False)
FIX_ID_CHARS = 64


@router.post("/{run_id}/diagnose")
async def diagnose(
    request: Request, run_id: str, brain: PageBrain, status: Annotated[str, Form(max_length=32)] = "failed"
) -> HTMLResponse:
    """The diagnosis of a failed or rejected run: a fragment for the run page (htmx), else a page of its own.
    `status` is the run's as its page showed it: only a failed run offers the re-drive (the domain checks again)."""
    found = await runs.found_run(brain.engine, brain.client, run_id, brain.tenant_id)
    try:
        diagnosis = await ai_fixes.diagnose_run(brain, found, page_locale(request))
    except ApiError as err:
        if not request.headers.get("HX-Request"):
            raise
        return render(request, "ai/_refused.html", status=err.status, message=err.message)  # inside the run page
    context: dict[str, Any] = {
        "diagnosis": diagnosis,
        "run_id": run_id,
        "may_apply": brain.is_admin,
        "redrivable": status == "failed",
    }
    context |= {"fallback": fallback_text(diagnosis.fallback_reason), "diff": diff_lines(diagnosis)}
    if request.headers.get("HX-Request"):
        return render(request, "ai/_diagnosis.html", **context)
    return render(request, "ai/diagnosis.html", title=tr("Why did this fail?"), section="runs", **context)


@router.post("/{run_id}/fixes/{fix_id}/apply")
async def apply_fix(
    request: Request,
    run_id: str,
    fix_id: str,
    brain: PageBrain,
    caller: PageCaller,
    redrive: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    """Stores the fixed definition as a new version (admins), re-drives the run on it if asked, and says where."""
    found = await runs.found_run(brain.engine, brain.client, run_id, brain.tenant_id)
    require_tenant_admin(caller, tr("apply a fix"))
    applied = await ai_fixes.apply_fix(brain, found, fix_id[:FIX_ID_CHARS], redrive)
    return render(
        request, "ai/fix_applied.html", title=tr("Fix applied"), section="runs", applied=applied, run_id=run_id
    )


def diff_lines(diagnosis: DiagnosisPublic) -> list[tuple[str, str]]:
    """The fix's unified diff as (kind, line) pairs: add, del, hunk, or ctx; file headers left out."""
    if diagnosis.fix is None:
        return []
    lines: list[tuple[str, str]] = []
    for line in diagnosis.fix.diff.splitlines():
        if line.startswith(("+++", "---")):
            continue
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "ctx")
        lines.append((kind, line + "\n"))
    return lines
