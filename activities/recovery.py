"""AutoRecovery's side effects: reading the failure queue, writing assessments, re-driving runs. A re-drive
passes the same admission as every start (core/admission.py, rules/admission.py), run reserved included."""

import asyncio
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.admission import admit_tenant, release_run
from core.toggles import read_toggles
from rules.admission import concurrency_refusal, stored_uses_ai
from schemas.recovery import (
    Assessments,
    AutoRecoveryInput,
    FailureScan,
    FailureToAssess,
    Redriven,
    RedriveRequest,
)
from schemas.runs import Refusal, RetryDefaults
from schemas.tables import AuditEntry, FailureEntry, WorkflowVersionRow
from schemas.toggles import LaunchStage

SCAN_LIMIT = 500


class RunControl(Protocol):
    """Re-drives a failed run in Temporal; `starters.runs.TemporalRunControl` is the real one."""

    async def redrive(
        self,
        run_id: str,
        definition: dict[str, Any],
        retry_defaults: RetryDefaults,
        trigger: str,
        launch_stage: LaunchStage | None = None,
    ) -> tuple[str, bool] | None: ...

    async def count_running_runs(self, tenant_id: str, excluding: str | None = None) -> int: ...


class RecoveryActivities:
    def __init__(self, engine: Engine, runs: RunControl) -> None:
        self._engine, self._runs = engine, runs

    @activity.defn(name="recovery_follow_toggles")
    def follow_toggles(self, params: AutoRecoveryInput) -> AutoRecoveryInput:
        """`params` with apply mode and the per-cycle limit the founder's system toggles hold now."""
        toggles = read_toggles(self._engine)
        return params.model_copy(
            update={"apply": toggles.auto_recovery_apply, "max_redrives": toggles.auto_recovery_max_redrives}
        )

    @activity.defn(name="list_open_failures")
    def list_open_failures(self, params: AutoRecoveryInput) -> FailureScan:
        """Open entries of the queue, oldest failure first, at most SCAN_LIMIT per cycle."""
        query = select(FailureEntry).where(FailureEntry.status == "open")
        if params.tenant_id is not None:
            query = query.where(FailureEntry.tenant_id == params.tenant_id)
        with Session(self._engine) as session:
            rows = session.exec(query.order_by(col(FailureEntry.last_failed_at)).limit(SCAN_LIMIT)).all()
        return FailureScan(
            failures=[
                FailureToAssess(failure_id=r.id, run_id=r.run_id, error_type=r.error_type, message=r.message)
                for r in rows
            ]
        )

    @activity.defn(name="write_assessments")
    def write_assessments(self, assessments: Assessments) -> None:
        now = activity.info().current_attempt_scheduled_time
        with Session(self._engine) as session:
            for item in assessments.items:
                entry = session.get(FailureEntry, item.failure_id)
                if entry is not None:
                    entry.category, entry.suggestion = item.category, item.suggestion
                    entry.auto_applicable, entry.assessed_at = item.auto_applicable, now
                    session.add(entry)
            session.commit()

    @activity.defn(name="redrive_failure")
    async def redrive_failure(self, request: RedriveRequest) -> Redriven:
        """Starts the resumed run (at most once per failed run) and marks the entry re-driven, if the tenant
        may run now; otherwise leaves the entry open and audits why (`refused` holds the code)."""
        entry, definition = await asyncio.to_thread(self._entry_and_definition, request.failure_id)
        gate = await asyncio.to_thread(admit_tenant, self._engine, entry.tenant_id, stored_uses_ai(definition))
        refusal, started = gate.refusal, False
        try:
            if refusal is None and gate.max_concurrent_runs is not None:
                running = await self._runs.count_running_runs(entry.tenant_id)
                refusal = concurrency_refusal(gate.max_concurrent_runs, running)
            if refusal is not None:
                await asyncio.to_thread(self._record_refusal, entry, refusal)
                return Redriven(failure_id=entry.id, refused=refusal.code)
            redriven = await self._runs.redrive(
                entry.run_id, definition, request.retry_defaults, "auto_recovery", gate.launch_stage
            )
            if redriven is None:
                raise ApplicationError(f"run {entry.run_id} no longer exists", type="RunGone", non_retryable=True)
            new_run_id, started = redriven
        finally:
            if gate.reserved_in is not None and not started:
                await asyncio.to_thread(release_run, self._engine, entry.tenant_id, gate.reserved_in)
        await asyncio.to_thread(self._mark_redriven, entry.id, new_run_id)
        return Redriven(failure_id=entry.id, new_run_id=new_run_id)

    def _record_refusal(self, entry: FailureEntry, refusal: Refusal) -> None:
        with Session(self._engine) as session:
            session.add(
                AuditEntry(
                    tenant_id=entry.tenant_id,
                    actor="auto_recovery",
                    action="failure.redrive_refused",
                    detail={"failure_id": entry.id, "run_id": entry.run_id, "code": refusal.code},
                )
            )
            session.commit()
        activity.logger.info("re-drive refused", extra={"failure_id": entry.id, "code": refusal.code})

    def _entry_and_definition(self, failure_id: str) -> tuple[FailureEntry, dict[str, Any]]:
        with Session(self._engine) as session:
            entry = session.get(FailureEntry, failure_id)
            if entry is None or entry.status != "open":
                raise ApplicationError(f"failure {failure_id} is not open", type="NotRedrivable", non_retryable=True)
            version = session.exec(
                select(WorkflowVersionRow).where(
                    WorkflowVersionRow.definition_id == entry.definition_id, WorkflowVersionRow.version == entry.version
                )
            ).first()
        if version is None:
            raise ApplicationError("the definition version is gone", type="NotRedrivable", non_retryable=True)
        return entry, version.body

    def _mark_redriven(self, failure_id: str, new_run_id: str) -> None:
        with Session(self._engine) as session:
            entry = session.get(FailureEntry, failure_id)
            if entry is not None:
                entry.status, entry.redriven_run_id = "redriven", new_run_id
                session.add(entry)
                session.commit()
