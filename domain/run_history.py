"""Closed runs from the run archive: a run Temporal no longer holds is found, read and listed from there, for
as long as the tenant's history retention keeps it. The RunArchiver writes the archive; this only reads it."""

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Engine, and_, or_
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select
from temporalio.client import Client

from schemas.runs import RunProgress, RunPublic, RunSummary
from schemas.tables import RunArchiveCursor, RunArchiveEntry
from starters.archived_runs import archived_run

# A run's list never shows these from the archive: only a run in flight has them.
LIVE_STATUSES = frozenset({"running", "waiting_approval"})


class ArchivedRun(NamedTuple):
    """A closed run the caller may see, as the archive keeps it; `record` None when it cannot be read."""

    entry: RunArchiveEntry
    record: RunProgress | None

    @property
    def run_id(self) -> str:
        return self.entry.run_id


class ArchivePosition(NamedTuple):
    """Where a page of archived runs ends: the last run listed, newest first by closing time."""

    closed_at: datetime
    run_id: str


async def find_archived(engine: Engine, temporal: Client, run_id: str, tenant_id: str | None) -> ArchivedRun | None:
    """The archived run if `tenant_id` owns it (any tenant's when None); None otherwise."""
    found = await archived_run(engine, temporal, run_id)
    if found is None or tenant_id not in (None, found[0].tenant_id):
        return None
    return ArchivedRun(*found)


def read_archived(run: ArchivedRun) -> RunPublic:
    """The archived run as GET /api/runs/{id} answers any closed run."""
    entry, record = run
    return RunPublic(
        **(record.model_dump(exclude={"status", "tenant_id"}) if record else _without_record(entry)),
        status=entry.status,
        started_at=entry.started_at,
        closed_at=entry.closed_at,
    )


def archived_through(engine: Engine) -> datetime | None:
    """The archive holds every run that closed at or before this instant; None before the archiver's first pass."""
    with Session(engine) as session:
        cursor = session.get(RunArchiveCursor, "runs")
        return cursor.archived_through if cursor else None


def archive_page(
    engine: Engine,
    tenant_id: str | None,
    workflow_id: str | None,
    status: str | None,
    through: datetime,
    after: ArchivePosition | None,
    limit: int,
    started_since: datetime | None = None,
    started_until: datetime | None = None,
) -> list[RunSummary]:
    """Archived runs that closed at or before `through` (and after `after` in the list's order), newest
    closing first, at most `limit`; only those that started in [started_since, started_until) when given."""
    if status in LIVE_STATUSES:
        return []
    entry = RunArchiveEntry
    query = select(entry).where(col(entry.closed_at) <= through)
    if started_since is not None:
        query = query.where(col(entry.started_at) >= started_since)
    if started_until is not None:
        query = query.where(col(entry.started_at) < started_until)
    for column, value in ((entry.tenant_id, tenant_id), (entry.definition_id, workflow_id), (entry.status, status)):
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        query = query.where(
            or_(
                col(entry.closed_at) < after.closed_at,
                and_(col(entry.closed_at) == after.closed_at, col(entry.run_id) < after.run_id),
            )
        )
    query = query.order_by(col(entry.closed_at).desc(), col(entry.run_id).desc()).limit(limit)
    with Session(engine) as session:
        rows = session.exec(query.options(defer(entry.record))).all()  # type: ignore[arg-type]
        return [_summary(row) for row in rows]


def _summary(row: RunArchiveEntry) -> RunSummary:
    return RunSummary(
        run_id=row.run_id,
        definition_id=row.definition_id,
        status=row.status,
        trigger=row.trigger,
        started_at=row.started_at,
        closed_at=row.closed_at,
    )


def _without_record(entry: RunArchiveEntry) -> dict[str, object]:
    return {
        "run_id": entry.run_id,
        "definition_id": entry.definition_id,
        "version": entry.version,
        "current_step": None,
        "waiting": None,
        "steps": [],
        "vars": {},
        "error": None,
        "trigger": entry.trigger,
        "resumed_from": None,
        "input": {},
    }
