"""What a diagnosis reads and writes: the category rules' fallback, a proposed fix checked against the version that
ran (and kept, table ai_fix), and the failures AutoRecovery has diagnosed by the AI. Kept out of workflow code so
that changing a rule or a check never breaks a recorded history."""

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.i18n import render
from core.prompt_masking import masked_for_prompt
from core.toggles import read_toggles
from rules.diagnosis import rule_diagnosis
from rules.failure_categories import AI_SUGGESTION_PREFIX, status_in_message
from rules.fix_check import check_patch
from schemas.brain import DiagnosisInput, DiagnosisRuling, FailureFacts, FixCheck, FixProposal
from schemas.i18n import Text
from schemas.recovery import DiagnosisPicks, FailureDiagnosis, FailuresToDiagnose
from schemas.tables import AiFix, FailureEntry, Tenant, WorkflowDefinitionRow, WorkflowVersionRow

# AutoRecovery's suggestions are read by the founder and the tenant in the queue: written in English.
RECOVERY_LANGUAGE = "en"


class DiagnosisActivities:
    def __init__(self, engine: Engine, ai_configured: bool) -> None:
        self._engine, self._ai_configured = engine, ai_configured

    @activity.defn(name="diagnose_by_rules")
    def diagnose_by_rules(self, params: DiagnosisInput) -> DiagnosisRuling:
        """The error category's cause, explanation and patch, in the requested language."""
        ruling = rule_diagnosis(params.facts)

        def text(value: Text) -> str:
            return render(value, params.language)

        return DiagnosisRuling(
            category=ruling.category,
            cause=text(ruling.cause),
            explanation=text(ruling.explanation),
            summary=text(ruling.summary),
            patch=ruling.patch,
        )

    @activity.defn(name="check_fix")
    def check_fix(self, proposal: FixProposal) -> FixCheck:
        """Applies the patch to the version that ran and validates it; a fix that passes is kept (when
        `proposal.store`). `problem` says, masked, why one does not."""
        body = self._version_body(proposal)
        checked = check_patch(body, proposal.patch, proposal.plan, lambda text: render(text, proposal.language))
        if checked.problem is not None:
            problem = masked_for_prompt(render(checked.problem, proposal.language))
            return FixCheck(valid=False, problem=problem)
        if not proposal.store:
            return FixCheck(valid=True)
        fix = AiFix(
            tenant_id=proposal.tenant_id,
            run_id=proposal.run_id,
            definition_id=proposal.definition_id,
            base_version=proposal.version,
            patch=proposal.patch,
            summary=proposal.summary[:2000],
            source=proposal.source,
            report=checked.report.model_dump(mode="json"),
        )
        with Session(self._engine, expire_on_commit=False) as session:
            session.add(fix)
            session.commit()
        activity.logger.info("fix proposed", extra={"run_id": proposal.run_id, "source": proposal.source})
        return FixCheck(fix_id=fix.id, valid=True)

    def _version_body(self, proposal: FixProposal) -> dict[str, Any]:
        with Session(self._engine) as session:
            definition = session.get(WorkflowDefinitionRow, proposal.definition_id)
            version = session.exec(
                select(WorkflowVersionRow).where(
                    WorkflowVersionRow.definition_id == proposal.definition_id,
                    WorkflowVersionRow.version == proposal.version,
                )
            ).first()
        if definition is None or definition.tenant_id != proposal.tenant_id or version is None:
            raise ApplicationError("the version that ran is gone", type="VersionGone", non_retryable=True)
        return version.body

    @activity.defn(name="pick_failures_to_diagnose")
    def pick_failures_to_diagnose(self, request: FailuresToDiagnose) -> DiagnosisPicks:
        """The first `request.limit` of the failures without an AI suggestion yet, with their masked facts, and the
        AI suggestions the others already have; nothing while AI features are off or no API key is configured."""
        if not self._ai_configured or not read_toggles(self._engine).ai_features or request.limit <= 0:
            return DiagnosisPicks()
        with Session(self._engine) as session:
            rows = session.exec(select(FailureEntry).where(col(FailureEntry.id).in_(request.failure_ids))).all()
            by_id = {row.id: row for row in rows}
            picks: list[FailureDiagnosis] = []
            kept: dict[str, str] = {}
            for failure_id in request.failure_ids:
                entry = by_id.get(failure_id)
                if entry is None:
                    continue
                if (entry.suggestion or "").startswith(AI_SUGGESTION_PREFIX):
                    kept[failure_id] = entry.suggestion or ""
                    continue
                diagnosis = self._diagnosis_input(session, entry) if len(picks) < request.limit else None
                if diagnosis is not None:
                    picks.append(FailureDiagnosis(failure_id=failure_id, diagnosis=diagnosis))
        return DiagnosisPicks(items=picks, kept=kept)

    def _diagnosis_input(self, session: Session, entry: FailureEntry) -> DiagnosisInput | None:
        version = session.exec(
            select(WorkflowVersionRow).where(
                WorkflowVersionRow.definition_id == entry.definition_id, WorkflowVersionRow.version == entry.version
            )
        ).first()
        if version is None:
            return None
        tenant = session.get(Tenant, entry.tenant_id)
        found = version.body.get("steps")
        steps: list[Any] = found if isinstance(found, list) else []
        step = next((s for s in steps if isinstance(s, dict) and s.get("id") == entry.step_id), {})
        facts = FailureFacts(
            run_id=entry.run_id,
            status="failed",
            definition_id=entry.definition_id,
            version=entry.version,
            step_id=entry.step_id,
            step_type=step.get("type"),
            error_type=entry.error_type,
            error_message=masked_for_prompt(entry.message),
            attempts=entry.attempts,
            http_status=status_in_message(entry.message),
            definition=masked_for_prompt(version.body),
        )
        plan = tenant.plan if tenant is not None else "free"
        return DiagnosisInput(tenant_id=entry.tenant_id, plan=plan, language=RECOVERY_LANGUAGE, facts=facts)
