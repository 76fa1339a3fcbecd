"""The run archive in the database: closed runs written in batches, and the cursor of how far it goes."""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session
from temporalio import activity

from schemas.run_archive import ArchiveProgress, ArchiveWindow, ClosedRun
from schemas.tables import RunArchiveCursor, RunArchiveEntry

# The narrowest window the archiver splits a busy stretch into: closing times are compared to the microsecond.
MIN_WINDOW = timedelta(milliseconds=1)


class ClosedRunSource(Protocol):
    async def count_closed(self, after: datetime, through: datetime) -> int: ...

    def closed_runs(self, after: datetime, through: datetime) -> AsyncIterator[list[ClosedRun]]: ...


class RunArchiveActivities:
    def __init__(self, engine: Engine, source: ClosedRunSource) -> None:
        self._engine, self._source = engine, source

    @activity.defn(name="archive_closed_runs")
    async def archive_closed_runs(self, window: ArchiveWindow) -> ArchiveProgress:
        """Archives the runs that closed after the cursor, up to `window.through` or fewer when more than
        `window.max_runs` closed in that stretch, then moves the cursor there. A run archived before is left
        as it is, so a retried or concurrent pass writes nothing twice."""
        cursor = await asyncio.to_thread(_archived_through, self._engine)
        after = cursor or window.through - timedelta(seconds=window.first_window_s)
        if after >= window.through:
            return ArchiveProgress(archived=0, listed=0, archived_through=after, caught_up=True)
        through = await self._bounded(after, window.through, window.max_runs)
        listed = archived = 0
        async for page in self._source.closed_runs(after, through):
            archived += await asyncio.to_thread(self._write, page)
            listed += len(page)
            activity.heartbeat(listed)
        await asyncio.to_thread(self._advance, through)
        return ArchiveProgress(
            archived=archived, listed=listed, archived_through=through, caught_up=through == window.through
        )

    async def _bounded(self, after: datetime, through: datetime, max_runs: int) -> datetime:
        """The end of the longest window from `after` that holds at most `max_runs` closed runs (halving)."""
        while through - after > MIN_WINDOW and await self._source.count_closed(after, through) > max_runs:
            through = after + (through - after) / 2
        return through

    def _write(self, runs: list[ClosedRun]) -> int:
        rows = [_row(run) for run in runs]
        if not rows:
            return 0
        with Session(self._engine) as session:
            dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(RunArchiveEntry).values(rows).on_conflict_do_nothing()
            written = session.connection().execute(statement.returning(RunArchiveEntry.run_id)).all()
            session.commit()
        return len(written)

    def _advance(self, through: datetime) -> None:
        with Session(self._engine) as session:
            cursor = session.get(RunArchiveCursor, "runs") or RunArchiveCursor(archived_through=through)
            if cursor.archived_through <= through:
                cursor.archived_through, cursor.updated_at = through, datetime.now(through.tzinfo)
                session.add(cursor)
                session.commit()


def _archived_through(engine: Engine) -> datetime | None:
    """Every run that closed at or before this instant is in the archive; None before the first pass."""
    with Session(engine) as session:
        cursor = session.get(RunArchiveCursor, "runs")
        return cursor.archived_through if cursor else None


def _row(run: ClosedRun) -> dict[str, Any]:
    return {
        **run.model_dump(exclude={"record", "results"}),
        "record": run.record,
        "results": run.results,
        "record_bytes": len(run.record or b"") + len(run.results or b""),
        "archived_at": datetime.now(run.closed_at.tzinfo),
    }
