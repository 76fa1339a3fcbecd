"""UtcDateTime keeps the instant and hands it back aware in UTC, on SQLite and on PostgreSQL."""

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Engine, create_engine, delete, func, pool
from sqlalchemy.exc import StatementError
from sqlmodel import Session, col, select

from core.db import create_db_engine, migrate
from schemas.tables import AuditEntry

INDIA = timezone(timedelta(hours=5, minutes=30))


@pytest.fixture(params=["sqlite", "server"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database; PostgreSQL's session runs in another zone, so reads must convert."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'levqor.db'}"
        migrate(url)
        engine = create_db_engine(url)
    else:
        if not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
            pytest.skip("DATABASE_URL names no PostgreSQL server")
        url = request.getfixturevalue("database_url")  # the session's database, migrated
        engine = create_engine(url, poolclass=pool.NullPool, connect_args={"options": "-c timezone=Asia/Kolkata"})
    yield engine
    engine.dispose()


@pytest.fixture
def actor(engine: Engine) -> Iterator[str]:
    """Marks this test's audit rows, which are removed afterwards."""
    actor = f"test-columns-{uuid4()}"
    yield actor
    with Session(engine) as session:
        session.exec(delete(AuditEntry).where(col(AuditEntry.actor) == actor))
        session.commit()


def write(engine: Engine, actor: str, at: datetime) -> str:
    row = AuditEntry(actor=actor, action="tz_check", at=at)
    with Session(engine) as session:
        session.add(row)
        session.commit()
        return row.id


def test_an_aware_datetime_reads_back_as_the_same_instant_in_utc(engine: Engine, actor: str) -> None:
    written = datetime(2026, 3, 29, 1, 30, 15, 250_000, tzinfo=INDIA)

    row_id = write(engine, actor, written)

    with Session(engine) as session:
        read = session.exec(select(AuditEntry.at).where(AuditEntry.id == row_id)).one()
        oldest = session.exec(select(func.min(AuditEntry.at)).where(AuditEntry.actor == actor)).one()
    assert read == written
    assert read.tzinfo is UTC
    assert read == datetime(2026, 3, 28, 20, 0, 15, 250_000, tzinfo=UTC)
    assert oldest == written and oldest.tzinfo is UTC


def test_comparisons_are_between_instants_whatever_the_offset(engine: Engine, actor: str) -> None:
    write(engine, actor, datetime(2026, 6, 1, 12, 0, tzinfo=UTC))

    def found_at_or_after(moment: datetime) -> int:
        with Session(engine) as session:
            query = select(func.count()).where(AuditEntry.actor == actor, col(AuditEntry.at) >= moment)
            return session.exec(query).one()

    assert found_at_or_after(datetime(2026, 6, 1, 17, 0, tzinfo=INDIA)) == 1  # 11:30 UTC
    assert found_at_or_after(datetime(2026, 6, 1, 18, 0, tzinfo=INDIA)) == 0  # 12:30 UTC


def test_a_naive_datetime_is_refused_and_nothing_is_written(engine: Engine, actor: str) -> None:
    with pytest.raises(StatementError, match="has no time zone"):
        write(engine, actor, datetime(2026, 6, 1, 12, 0))

    with Session(engine) as session:
        assert session.exec(select(func.count()).where(AuditEntry.actor == actor)).one() == 0
