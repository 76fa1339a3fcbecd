"""Scans the failure queue, classifies each failure and writes a healing suggestion; in apply mode it
also re-drives transient failures (at most `max_redrives` per cycle) whose tenant passes admission, leaving
the others open with the reason. While AI is available (the founder's toggle on, an API key configured), the
first MAX_DIAGNOSES failures of a cycle without an AI suggestion yet are diagnosed by a child `RunDiagnosis`:
their suggestion becomes the AI's cause and fix, marked as the AI's (since patch "ai-diagnosis"). Dry-run by default: it then
changes nothing but the suggestions. Runs on a platform Temporal Schedule, whose cycles take apply mode and the
limit from the founder's system toggles (`follow_toggles`), read by an activity at the start of each cycle."""

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from activities.diagnosis import DiagnosisActivities
    from activities.recovery import RecoveryActivities
    from orchestrator.retries import JOB_RETRY, JOB_TIMEOUT
    from orchestrator.run_diagnosis import RunDiagnosis
    from rules.failure_categories import CATEGORIES, SUGGESTIONS, TRANSIENT, ai_suggestion
    from schemas.recovery import (
        Assessment,
        Assessments,
        AutoRecoveryInput,
        AutoRecoveryResult,
        Category,
        FailuresToDiagnose,
        FailureToAssess,
        RedriveRequest,
    )

# AI diagnoses per cycle: each is an AI call (or two) billed to the failure's tenant.
MAX_DIAGNOSES = 3
DIAGNOSIS_TIMEOUT = timedelta(minutes=5)


@workflow.defn
class AutoRecovery:
    @workflow.run
    async def run(self, params: AutoRecoveryInput) -> AutoRecoveryResult:
        if params.follow_toggles:
            params = await workflow.execute_activity_method(
                RecoveryActivities.follow_toggles, params, start_to_close_timeout=JOB_TIMEOUT, retry_policy=JOB_RETRY
            )
        scan = await workflow.execute_activity_method(
            RecoveryActivities.list_open_failures, params, start_to_close_timeout=JOB_TIMEOUT, retry_policy=JOB_RETRY
        )
        assessments = [assess(failure, params.apply) for failure in scan.failures]
        if workflow.patched("ai-diagnosis"):
            assessments = await self._with_ai_diagnoses(assessments)
        await workflow.execute_activity_method(
            RecoveryActivities.write_assessments,
            Assessments(items=assessments),
            start_to_close_timeout=JOB_TIMEOUT,
            retry_policy=JOB_RETRY,
        )
        chosen = [a for a in assessments if a.auto_applicable][: params.max_redrives]
        redriven: list[str] = []
        errors: list[str] = []
        refused: dict[str, str] = {}
        for assessment in chosen:
            try:
                done = await workflow.execute_activity_method(
                    RecoveryActivities.redrive_failure,
                    RedriveRequest(failure_id=assessment.failure_id, retry_defaults=params.retry_defaults),
                    start_to_close_timeout=JOB_TIMEOUT,
                    retry_policy=JOB_RETRY,
                )
                if done.refused is not None:  # the tenant may not run now (suspended, at a limit, throttled)
                    refused[done.failure_id] = done.refused
                else:
                    redriven.append(done.new_run_id)
            except ActivityError as err:  # one bad entry must not stop the cycle
                workflow.logger.warning(
                    "re-drive failed", extra={"failure_id": assessment.failure_id, "error": str(err.cause)}
                )
                errors.append(assessment.failure_id)
        return AutoRecoveryResult(
            assessed=len(assessments),
            auto_applicable=sum(a.auto_applicable for a in assessments),
            redriven=redriven,
            redrive_errors=errors,
            refused=refused,
        )

    async def _with_ai_diagnoses(self, assessments: list[Assessment]) -> list[Assessment]:
        """`assessments` with the AI's suggestion for those it diagnosed (none while AI is unavailable)."""
        picks = await workflow.execute_activity_method(
            DiagnosisActivities.pick_failures_to_diagnose,
            FailuresToDiagnose(failure_ids=[a.failure_id for a in assessments], limit=MAX_DIAGNOSES),
            start_to_close_timeout=JOB_TIMEOUT,
            retry_policy=JOB_RETRY,
        )
        suggestions = dict(picks.kept)
        for item in picks.items:
            try:
                result = await workflow.execute_child_workflow(
                    RunDiagnosis.run,
                    item.diagnosis,
                    id=f"auto-recovery-diagnosis-{workflow.info().run_id}-{item.failure_id}",
                    execution_timeout=DIAGNOSIS_TIMEOUT,
                )
            except ChildWorkflowError as err:  # the rules' suggestion stays
                workflow.logger.warning(
                    "diagnosis failed", extra={"failure_id": item.failure_id, "error": str(err.cause)}
                )
                continue
            if result.source == "ai":
                suggestions[item.failure_id] = ai_suggestion(result.cause, result.summary)
        return [
            a.model_copy(update={"suggestion": suggestions[a.failure_id]}) if a.failure_id in suggestions else a
            for a in assessments
        ]


def assess(failure: FailureToAssess, apply: bool) -> Assessment:
    """The failure's category and healing suggestion; only transient ones in apply mode are auto-applicable."""
    category: Category = CATEGORIES.get(failure.error_type, "unknown")
    return Assessment(
        failure_id=failure.failure_id,
        category=category,
        suggestion=SUGGESTIONS[category],
        auto_applicable=apply and category in TRANSIENT,
    )
