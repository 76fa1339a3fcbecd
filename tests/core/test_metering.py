"""Usage counts survive a crash: a process killed before its flush, or during a database outage, loses
none, and the next process's start-up drains them exactly once."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from core.db import create_db_engine, migrate
from core.metering import BATCH, SEGMENT, UsageBuffer, outbox_folder
from rules.usage import period_of
from schemas.tables import Tenant, UsageCounter
from tests.core.metering_child import COMPACT_BYTES

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def new_tenant_row(engine: Engine) -> str:
    tenant = Tenant(name="Outboxed", plan="pro")
    with Session(engine) as session:
        session.add(tenant)
        session.commit()
        return tenant.id


def counters(engine: Engine, tenant_id: str) -> dict[str, int]:
    query = select(UsageCounter).where(
        UsageCounter.tenant_id == tenant_id, UsageCounter.period == period_of(datetime.now(UTC))
    )
    with Session(engine) as session:
        return {row.metric: row.value for row in session.exec(query).all()}


def eventually(probe: Callable[[], T], check: Callable[[T], bool], timeout_s: float = 15) -> T:
    deadline = time.monotonic() + timeout_s
    while not check(value := probe()):
        assert time.monotonic() < deadline, f"condition not met within {timeout_s} s; last value: {value!r}"
        time.sleep(0.05)
    return value


@pytest.fixture
def killed_after_counting() -> Iterator[Callable[..., None]]:
    """Starts the counting process, waits until it has counted, and SIGKILLs it."""
    started: list[subprocess.Popen[bytes]] = []

    def run(url: str, outbox: Path, tenant_id: str, counts: int, flushes: int = 0) -> None:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.core.metering_child", url, str(outbox), tenant_id, str(counts), str(flushes)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        started.append(child)
        assert child.stdout is not None
        while (line := child.stdout.readline()) != b"counted\n":  # its log lines come first
            assert line, "the counting process ended early"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL

    yield run
    for child in started:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_counts_of_a_killed_process_are_drained_once_by_the_next(
    engine: Engine, tmp_path: Path, killed_after_counting: Callable[..., None]
) -> None:
    tenant_id = new_tenant_row(engine)
    outbox = tmp_path / "outbox"

    killed_after_counting(engine.url.render_as_string(hide_password=False), outbox, tenant_id, 3000)
    assert counters(engine, tenant_id) == {}  # nothing was flushed before the kill
    [left] = list(outbox_folder(outbox, engine).glob(f"*{SEGMENT}"))
    kept = left.read_bytes()
    UsageBuffer(engine, outbox, flush_delay_s=0.1)  # its start-up drains what the dead process left

    expected = {"runs": 1000, "steps": 1000, "ai_credits": 1000}
    assert eventually(lambda: counters(engine, tenant_id), lambda c: c == expected) == expected
    # The crash between the drain's commit and the batch's deletion leaves the batch behind: drained again,
    # it adds nothing.
    eventually(lambda: list(outbox_folder(outbox, engine).iterdir()), lambda files: not files)
    left.with_suffix(BATCH).write_bytes(kept)
    UsageBuffer(engine, outbox, flush_delay_s=0.1).flush()
    eventually(lambda: list(outbox_folder(outbox, engine).iterdir()), lambda files: not files)
    assert counters(engine, tenant_id) == expected


def test_counts_made_during_a_database_outage_are_bounded_on_disk_and_survive_a_kill(
    tmp_path: Path, killed_after_counting: Callable[..., None]
) -> None:
    url = f"sqlite:///{tmp_path / 'metering.db'}"
    migrate(url)
    engine = create_db_engine(url)
    tenant_id = new_tenant_row(engine)
    outbox = tmp_path / "outbox"
    with engine.begin() as connection:  # the outage: every write of a count fails
        connection.execute(text("ALTER TABLE usage_counter RENAME TO usage_counter_offline"))

    killed_after_counting(url, outbox, tenant_id, 30000, 20)

    files = list(outbox_folder(outbox, engine).iterdir())
    # One batch waiting for the database and the compacted segment: a few lines, not 30 000.
    assert sorted(path.suffix for path in files) == [BATCH, SEGMENT]
    assert sum(path.stat().st_size for path in files) < 3 * COMPACT_BYTES
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE usage_counter_offline RENAME TO usage_counter"))
    assert counters(engine, tenant_id) == {}

    UsageBuffer(engine, outbox, flush_delay_s=0.1)

    expected = {"runs": 10000, "steps": 10000, "ai_credits": 10000}
    assert eventually(lambda: counters(engine, tenant_id), lambda c: c == expected) == expected
    eventually(lambda: list(outbox_folder(outbox, engine).iterdir()), lambda files: not files)
    engine.dispose()


def test_a_live_buffer_keeps_counts_through_an_outage_and_writes_them_after(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'metering.db'}"
    migrate(url)
    engine = create_db_engine(url)
    tenant_id = new_tenant_row(engine)
    usage = UsageBuffer(engine, tmp_path / "outbox", flush_delay_s=3600, compact_bytes=4096)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE usage_counter RENAME TO usage_counter_offline"))

    for _ in range(5):
        for _ in range(400):
            usage.add(tenant_id, "steps")
        usage.add(tenant_id, "api_calls", 2)
        usage.flush()
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE usage_counter_offline RENAME TO usage_counter"))
    usage.close()

    assert counters(engine, tenant_id) == {"steps": 2000, "api_calls": 10}
    assert list(usage.folder.iterdir()) == []
    engine.dispose()


def test_a_new_segment_is_not_lost_to_another_process_probing_it(tmp_path: Path) -> None:
    """Another process's start-up looks at every file in the outbox, locking each for a moment; a segment made
    during that look waits for the lock instead of failing, so no count is dropped and no half-made file stays."""
    url = f"sqlite:///{tmp_path / 'metering.db'}"
    migrate(url)
    engine = create_db_engine(url)
    tenant_id = new_tenant_row(engine)
    outbox = tmp_path / "outbox"
    usage = UsageBuffer(engine, outbox, flush_delay_s=3600)
    prober = UsageBuffer(engine, outbox, flush_delay_s=3600)
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            prober._drain_leftovers()  # what a starting process does, as fast as it can

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    try:
        for _ in range(300):  # each flush seals the segment and opens a new one
            usage.add(tenant_id, "steps")
            usage.flush()
    finally:
        stop.set()
        thread.join(timeout=10)
    usage.close()

    assert counters(engine, tenant_id) == {"steps": 300}
    assert [path.suffix for path in usage.folder.iterdir()] == []
    engine.dispose()
