"""The failure queue in the database: runs whose step failed for good, with an escalating priority."""

from datetime import timedelta

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio import activity

from schemas.runs import FailureRecorded, FailureReport
from schemas.tables import FailureEntry

ESCALATION_WINDOW = timedelta(hours=1)
# Failures of one definition within the window → priority; the first threshold reached wins.
ESCALATION = ((10, "critical"), (3, "high"))


class RunStoreActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name="record_failure")
    def record_failure(self, report: FailureReport) -> FailureRecorded:
        """Adds the run to the failure queue once (a retried call finds the row it wrote)."""
        with Session(self._engine) as session:
            entry = session.exec(select(FailureEntry).where(FailureEntry.run_id == report.run_id)).first()
            if entry is None:
                entry = self._new_entry(session, report)
                try:
                    session.commit()
                except IntegrityError:  # a concurrent attempt wrote it first; else this raises and retries
                    session.rollback()
                    entry = session.exec(select(FailureEntry).where(FailureEntry.run_id == report.run_id)).one()
            activity.logger.info("failure recorded", extra={"run_id": report.run_id, "priority": entry.priority})
            return FailureRecorded(failure_id=entry.id, priority=entry.priority)

    def _new_entry(self, session: Session, report: FailureReport) -> FailureEntry:
        since = report.last_failed_at - ESCALATION_WINDOW
        recent = session.exec(
            select(func.count())
            .select_from(FailureEntry)
            .where(FailureEntry.definition_id == report.definition_id, FailureEntry.last_failed_at >= since)
        ).one()
        entry = FailureEntry(
            tenant_id=report.tenant_id,
            run_id=report.run_id,
            definition_id=report.definition_id,
            version=report.version,
            step_id=report.step_id,
            error_type=report.error.type,
            message=report.error.message[:4000],
            attempts=report.attempts,
            first_failed_at=report.first_failed_at,
            last_failed_at=report.last_failed_at,
            priority=_priority(recent + 1),
        )
        session.add(entry)
        return entry


def _priority(failures_in_window: int) -> str:
    return next((level for threshold, level in ESCALATION if failures_in_window >= threshold), "normal")
