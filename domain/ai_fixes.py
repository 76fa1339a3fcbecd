"""The AI debugger for the JSON API and the web app: a diagnosis of a failed or rejected run (a short `RunDiagnosis`
run the caller waits for), the fixes it proposed, and applying one: the fixed definition is stored as a new
version through the same path as every edit (validation, schedules follow), audited `ai_fix_applied`, and the run
re-driven on it from its failed step when asked."""

import difflib
import json
from datetime import UTC, datetime
from typing import Any

from anyio import to_thread
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError

from core.errors import ApiError
from core.i18n import canonical_tag
from domain.ai_allowance import ai_unavailable
from domain.brain_context import BrainContext
from domain.definitions import update_definition
from domain.failure_facts import failure_facts
from domain.failures import redrive_failed_run
from domain.run_history import ArchivedRun
from domain.runs import FoundRun
from language.json_patch import JsonPatchError, apply_patch
from orchestrator.run_diagnosis import RunDiagnosis
from schemas.brain import DiagnosisInput, DiagnosisPublic, DraftReport, FixApplied, FixPublic
from schemas.i18n import tr
from schemas.tables import AiFix, AuditEntry, WorkflowDefinitionRow, WorkflowVersionRow
from starters.brain import ask_and_wait

AUDIT_ACTION = "ai_fix_applied"
MAX_FIXES = 50


async def diagnose_run(brain: BrainContext, run: FoundRun, language: str) -> DiagnosisPublic:
    """The likely cause of the run's failure and a validated fix (stored, to be applied), in `language`: the AI's
    when it can, else the error category's rules with the reason. 409 `run_not_failed` unless the run failed or was
    rejected; 422 `unknown_language`; 503 `diagnosis_failed` when not even the rules could answer."""
    tag = canonical_tag(language)
    if tag is None:
        raise ApiError(422, "unknown_language", tr("Levqor does not speak this language"), field="body.language")
    facts = await failure_facts(brain.engine, brain.client, run)
    reason = await to_thread.run_sync(
        lambda: ai_unavailable(brain.engine, brain.tenant_id, brain.plan, configured=brain.ai_configured)
    )
    params = DiagnosisInput(
        tenant_id=brain.tenant_id, plan=brain.plan, language=tag, facts=facts, fallback_reason=reason
    )
    try:
        result = await ask_and_wait(
            brain.client,
            RunDiagnosis.run,
            params,
            kind="diagnosis",
            tenant_id=brain.tenant_id,
            task_queue=brain.task_queue,
        )
    except WorkflowFailureError as err:
        raise ApiError(503, "diagnosis_failed", tr("The diagnosis could not be made just now; try again")) from err
    fix = await to_thread.run_sync(_fix_public, brain.engine, brain.tenant_id, result.fix_id) if result.fix_id else None
    return DiagnosisPublic(
        source=result.source,
        fallback_reason=result.fallback_reason,
        credits=result.credits,
        run_id=result.run_id,
        step_id=result.step_id,
        category=result.category,
        cause=result.cause,
        explanation=result.explanation,
        fix=fix,
    )


def run_fixes(engine: Engine, tenant_id: str, run_id: str) -> list[FixPublic]:
    """The fixes proposed for the tenant's run, newest first (at most MAX_FIXES)."""
    with Session(engine) as session:
        rows = session.exec(
            select(AiFix)
            .where(AiFix.tenant_id == tenant_id, AiFix.run_id == run_id)
            .order_by(col(AiFix.created_at).desc())
            .limit(MAX_FIXES)
        ).all()
        bodies = _bodies(session, {(row.definition_id, row.base_version) for row in rows})
    return [fix_public(row, bodies.get((row.definition_id, row.base_version), {})) for row in rows]


async def apply_fix(brain: BrainContext, run: FoundRun, fix_id: str, redrive: bool) -> FixApplied:
    """Stores the fixed definition as the next version (tenant admins and the founder; 403 `admin_only`), audits it,
    and re-drives the run on it from its failed step when `redrive`. 404 `fix_not_found`; 409 `fix_already_applied`,
    `definition_changed` (a version was stored since the one that ran: nobody's edit is overwritten) or
    `run_not_failed` (only a failed run is re-driven)."""
    if not brain.is_admin:
        raise ApiError(403, "admin_only", tr("Only a tenant admin may apply a fix"), field="authorization")
    if redrive and not _failed(run):
        raise ApiError(409, "run_not_failed", tr("Only a failed run can be retried"), field="redrive")
    fix, body = await to_thread.run_sync(_claim, brain.engine, brain.tenant_id, run.run_id, fix_id, brain.actor)
    try:
        patched = apply_patch(body, fix.patch)
        saved = await update_definition(brain.engine, brain.client, fix.definition_id, patched, brain.tenant_id)
    except Exception as err:  # whatever failed, the fix was not applied: the claim is given back
        await to_thread.run_sync(_unclaim, brain.engine, fix.id)
        if isinstance(err, JsonPatchError):  # a stored fix applied when it was proposed; its base never changes
            raise ApiError(409, "fix_not_applicable", tr("This fix no longer applies"), field="fix_id") from err
        raise
    await to_thread.run_sync(_record_applied, brain.engine, fix, saved.version, brain.actor)
    applied = FixApplied(fix_id=fix.id, definition_id=fix.definition_id, version=saved.version)
    if not redrive:
        return applied
    if brain.settings is None:
        raise ApiError(503, "redrive_unavailable", tr("The run cannot be re-driven from here; retry it from its page"))
    accepted = await redrive_failed_run(brain.engine, brain.client, brain.settings, run, version=saved.version)
    await to_thread.run_sync(_record_redrive, brain.engine, fix.id, accepted.run_id)
    return applied.model_copy(update={"redriven_run_id": accepted.run_id})


def fix_public(row: AiFix, body: dict[str, Any]) -> FixPublic:
    """The fix as the API answers it, with the unified diff of the definition's JSON before and after."""
    try:
        after = apply_patch(body, row.patch)
    except JsonPatchError:
        after = body
    return FixPublic(
        fix_id=row.id,
        summary=row.summary,
        patch=row.patch,
        definition_id=row.definition_id,
        base_version=row.base_version,
        report=DraftReport.model_validate(row.report) if row.report else DraftReport(valid=False),
        diff=definition_diff(body, after, row.base_version),
        applied_version=row.applied_version,
        source="ai" if row.source == "ai" else "fallback",
        created_at=row.created_at,
        applied_at=row.applied_at,
        redriven_run_id=row.redriven_run_id,
    )


def definition_diff(before: Any, after: Any, version: int) -> str:
    """A unified diff of two definitions' pretty JSON."""
    old, new = (json.dumps(v, indent=2, ensure_ascii=False).splitlines(keepends=True) for v in (before, after))
    return "".join(difflib.unified_diff(old, new, f"version {version}", "fixed", n=3))


def _failed(run: FoundRun) -> bool:
    if isinstance(run, ArchivedRun):
        return run.entry.status == "failed"
    return run.description.status == WorkflowExecutionStatus.FAILED


def _fix_public(engine: Engine, tenant_id: str, fix_id: str) -> FixPublic | None:
    with Session(engine) as session:
        row = session.get(AiFix, fix_id)
        if row is None or row.tenant_id != tenant_id:
            return None
        bodies = _bodies(session, {(row.definition_id, row.base_version)})
    return fix_public(row, bodies.get((row.definition_id, row.base_version), {}))


def _bodies(session: Session, versions: set[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for definition_id, number in versions:
        row = session.exec(
            select(WorkflowVersionRow).where(
                WorkflowVersionRow.definition_id == definition_id, WorkflowVersionRow.version == number
            )
        ).first()
        if row is not None:
            found[(definition_id, number)] = row.body
    return found


def _claim(engine: Engine, tenant_id: str, run_id: str, fix_id: str, actor: str) -> tuple[AiFix, dict[str, Any]]:
    """The fix and the body of the version it patches, marked as being applied by `actor` (one claim wins)."""
    with Session(engine, expire_on_commit=False) as session:
        fix = session.get(AiFix, fix_id)
        if fix is None or fix.tenant_id != tenant_id or fix.run_id != run_id:
            raise ApiError(404, "fix_not_found", tr("No fix with this id for this run"), field="fix_id")
        if fix.applied_at is not None:
            raise _already_applied()
        definition = session.get(WorkflowDefinitionRow, fix.definition_id)
        if definition is None or definition.tenant_id != tenant_id:
            raise ApiError(404, "workflow_not_found", tr("No workflow with this id"), field="fix_id")
        if definition.latest_version != fix.base_version:
            raise ApiError(
                409,
                "definition_changed",
                tr(
                    "The workflow changed since version %(version)s, which this fix patches; diagnose the run again",
                    version=fix.base_version,
                ),
                field="fix_id",
                latest_version=definition.latest_version,
            )
        body = _bodies(session, {(fix.definition_id, fix.base_version)}).get((fix.definition_id, fix.base_version))
        claimed = session.execute(
            update(AiFix)
            .where(col(AiFix.id) == fix_id, col(AiFix.applied_at).is_(None))
            .values(applied_at=datetime.now(UTC), applied_by=actor[:100])
        )
        session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise _already_applied()
    if body is None:
        _unclaim(engine, fix_id)
        raise ApiError(409, "version_gone", tr("The failed run's definition version no longer exists"), field="fix_id")
    return fix, body


def _already_applied() -> ApiError:
    return ApiError(409, "fix_already_applied", tr("This fix was already applied"), field="fix_id")


def _unclaim(engine: Engine, fix_id: str) -> None:
    with Session(engine) as session:
        session.execute(update(AiFix).where(col(AiFix.id) == fix_id).values(applied_at=None, applied_by=None))
        session.commit()


def _record_applied(engine: Engine, fix: AiFix, version: int, actor: str) -> None:
    with Session(engine) as session:
        session.execute(update(AiFix).where(col(AiFix.id) == fix.id).values(applied_version=version))
        detail = {
            "fix_id": fix.id,
            "run_id": fix.run_id,
            "definition_id": fix.definition_id,
            "base_version": fix.base_version,
            "version": version,
            "source": fix.source,
        }
        session.add(AuditEntry(tenant_id=fix.tenant_id, actor=actor[:100], action=AUDIT_ACTION, detail=detail))
        session.commit()


def _record_redrive(engine: Engine, fix_id: str, run_id: str) -> None:
    with Session(engine) as session:
        session.execute(update(AiFix).where(col(AiFix.id) == fix_id).values(redriven_run_id=run_id))
        session.commit()
