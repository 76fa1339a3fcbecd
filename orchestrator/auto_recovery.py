"""Scans the failure queue, classifies each failure and writes a healing suggestion; in apply mode it
also re-drives transient failures (at most `max_redrives` per cycle) whose tenant passes admission, leaving
the others open with the reason. Dry-run by default: it then
changes nothing but the suggestions. Runs on a platform Temporal Schedule, whose cycles take apply mode and the
limit from the founder's system toggles (`follow_toggles`), read by an activity at the start of each cycle."""

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.recovery import RecoveryActivities
    from orchestrator.retries import JOB_RETRY, JOB_TIMEOUT
    from rules.failure_categories import CATEGORIES, SUGGESTIONS, TRANSIENT
    from schemas.recovery import (
        Assessment,
        Assessments,
        AutoRecoveryInput,
        AutoRecoveryResult,
        Category,
        FailureToAssess,
        RedriveRequest,
    )


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


def assess(failure: FailureToAssess, apply: bool) -> Assessment:
    """The failure's category and healing suggestion; only transient ones in apply mode are auto-applicable."""
    category: Category = CATEGORIES.get(failure.error_type, "unknown")
    return Assessment(
        failure_id=failure.failure_id,
        category=category,
        suggestion=SUGGESTIONS[category],
        auto_applicable=apply and category in TRANSIENT,
    )
