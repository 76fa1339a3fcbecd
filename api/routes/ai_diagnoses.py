"""The AI debugger: diagnoses of failed runs and their fixes."""

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api.ai_answers import refuse_when_out_of_credits
from api.deps import BrainDep, OwnedRun
from api.errors import reader_locale
from domain import ai_fixes
from schemas.brain import DiagnosisCreate, DiagnosisPublic, FixApplied, FixApply, FixPublic

router = APIRouter(prefix="/api/ai/runs", tags=["ai"])


@router.post("/{run_id}/diagnose")
async def diagnose_run(
    run: OwnedRun, brain: BrainDep, request: Request, body: DiagnosisCreate | None = None
) -> DiagnosisPublic:
    """The likely cause of a failed or rejected run and a proposed fix: a JSON Patch against the version that ran,
    validated, with its diff (`fix`, none when no change helps). Written by the AI (`source: "ai"`) or, when it
    cannot, by the error category's rules (`source: "fallback"` and `fallback_reason`); 409 `run_not_failed` for a
    run that neither failed nor was rejected; 429 `ai_credits_exhausted` with the rules' diagnosis under `fallback`."""
    language = body.language if body is not None and body.language else reader_locale(request)
    answer = await ai_fixes.diagnose_run(brain, run, language)
    refuse_when_out_of_credits(answer)
    return answer


@router.get("/{run_id}/fixes")
async def list_fixes(run: OwnedRun, brain: BrainDep) -> list[FixPublic]:
    """The fixes proposed for the run, newest first, each with its diff and whether it was applied."""
    return await run_in_threadpool(ai_fixes.run_fixes, brain.engine, brain.tenant_id, run.run_id)


@router.post("/{run_id}/fixes/{fix_id}/apply")
async def apply_fix(run: OwnedRun, fix_id: str, brain: BrainDep, body: FixApply | None = None) -> FixApplied:
    """Stores the fixed definition as the next version (tenant admins; 403 `admin_only`) and, with `redrive`,
    re-drives the run from its failed step on it. 409 `fix_already_applied`, `definition_changed` (the workflow
    changed since the version the fix patches) or `run_not_failed` (a re-drive of a run that did not fail)."""
    return await ai_fixes.apply_fix(brain, run, fix_id[:64], body.redrive if body is not None else False)
