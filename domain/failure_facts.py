"""The facts of a failed or rejected run, as a diagnosis reads them: the failed step, its error, attempts, HTTP status
and what the target answered, the version that ran and the run's input, masked (core/prompt_masking.py) before
they go anywhere. Read from the run's record (Temporal or the run archive, never by replaying it) and the failure
queue."""

import json
from typing import Any, Literal

from anyio import to_thread
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowExecutionStatus

from core.errors import ApiError
from core.prompt_masking import masked_for_prompt
from domain.run_history import ArchivedRun
from domain.runs import FoundRun
from rules.failure_categories import status_in_message
from schemas.brain import FailureFacts
from schemas.i18n import tr
from schemas.runs import RunProgress, StepOutcome
from schemas.tables import FailureEntry, WorkflowVersionRow
from starters.archived_runs import archived_run
from starters.runs import run_record

MAX_BODY_EXCERPT = 1_000
MAX_MESSAGE = 2_000
ENDED: tuple[str, ...] = ("failed", "rejected")


async def failure_facts(engine: Engine, temporal: Client, run: FoundRun) -> FailureFacts:
    """The masked facts of `run`; 409 `run_not_failed` unless it failed or was rejected."""
    record, status = await closed_record(engine, temporal, run)
    entry, body = await to_thread.run_sync(_stored, engine, record)
    step = failed_step(record)
    error = (step.error if step else None) or record.error
    message = entry.message if entry is not None else (error.message if error else None)
    result = step.result if step is not None else None
    return FailureFacts(
        run_id=record.run_id,
        status=status,
        definition_id=record.definition_id,
        version=record.version,
        step_id=step.step_id if step else (entry.step_id if entry else None),
        step_type=step.type if step else None,
        error_type=entry.error_type if entry is not None else (error.type if error else None),
        error_message=masked_for_prompt(message[:MAX_MESSAGE]) if message else None,
        attempts=entry.attempts if entry is not None else (step.attempts if step else 0),
        http_status=http_status(message, result),
        body_excerpt=body_excerpt(result),
        decided_by=_decided_by(result) if status == "rejected" else None,
        definition=masked_for_prompt(body),
        input=masked_for_prompt(record.input),
    )


async def closed_record(
    engine: Engine, temporal: Client, run: FoundRun
) -> tuple[RunProgress, Literal["failed", "rejected"]]:
    """The record of a run that failed or was rejected, and which; 409 `run_not_failed` otherwise."""
    not_failed = ApiError(409, "run_not_failed", tr("Only a failed or rejected run can be diagnosed"), field="run_id")
    if isinstance(run, ArchivedRun):
        whole = await archived_run(engine, temporal, run.run_id, whole=True)
        record = whole.record if whole is not None else None
        status = run.entry.status
    else:
        closed = run.description.status
        if closed not in (WorkflowExecutionStatus.FAILED, WorkflowExecutionStatus.COMPLETED):
            raise not_failed
        record = await run_record(run.handle, run.description)
        status = "failed" if closed == WorkflowExecutionStatus.FAILED else record.status
    if record is None or status not in ENDED:
        raise not_failed
    return record, "failed" if status == "failed" else "rejected"


def failed_step(record: RunProgress) -> StepOutcome | None:
    """The step the run ended on: the last that failed or was rejected."""
    return next((s for s in reversed(record.steps) if s.status in ("failed", "rejected")), None)


def http_status(message: str | None, result: Any) -> int | None:
    """The status the target answered, as the step's error says it (or its result holds it)."""
    if _is_dict(result) and isinstance(result.get("status"), int):
        return int(result["status"])
    return status_in_message(message)


def body_excerpt(result: Any) -> str | None:
    """At most MAX_BODY_EXCERPT characters of the answer's body, masked, where the step kept one."""
    if not _is_dict(result) or result.get("body") is None:
        return None
    body = masked_for_prompt(result["body"])
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, default=str)
    return text[:MAX_BODY_EXCERPT]


def _stored(engine: Engine, record: RunProgress) -> tuple[FailureEntry | None, dict[str, Any]]:
    """The failure-queue entry the run left (None for a rejected run) and the body of the version that ran."""
    with Session(engine) as session:
        entry = session.exec(select(FailureEntry).where(FailureEntry.run_id == record.run_id)).first()
        version = session.exec(
            select(WorkflowVersionRow).where(
                WorkflowVersionRow.definition_id == record.definition_id,
                WorkflowVersionRow.version == record.version,
            )
        ).first()
    if version is None:
        raise ApiError(409, "version_gone", tr("The failed run's definition version no longer exists"), field="run_id")
    return entry, version.body


def _decided_by(result: Any) -> str | None:
    """Who rejected the gate, masked (a signed-in user's name and e-mail address)."""
    who = result.get("decided_by") if isinstance(result, dict) else None
    return masked_for_prompt(who) if isinstance(who, str) else None


def _is_dict(value: Any) -> bool:
    return isinstance(value, dict)
