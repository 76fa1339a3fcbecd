"""Usage counters, written by the API (admission, API calls) and by workers (steps, AI credits).

`add_usage` is one atomic upsert, so concurrent writers lose nothing. Counts that need no answer go
through a `UsageBuffer`, whose outbox on local disk keeps them through a crash. Adding appends one line
to the process's open segment file (one `write`, no fsync: the kernel keeps what a killed process wrote),
so no request or activity waits for the database. A one-shot timer `flush_delay_s` later seals the
segment as a batch (fsync, rename) and drains it in one transaction that also records the batch's id:
a drain repeated after a crash finds the id and counts nothing twice. Each process drains, at start-up
and on every flush, the batches and segments that dead processes left (a live process holds a lock on
its segment). During a database outage the sealed batch waits on disk and the segment grows; past
`compact_bytes` it is compacted in place to one line per tenant, metric and month, so the outbox stays
bounded by the number of distinct counters however long the outage lasts, and memory holds nothing.
A power loss (not a process crash) can lose the counts of the unsealed segment: at most one interval."""

import fcntl
import hashlib
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast, get_args
from uuid import uuid4

import structlog
from sqlalchemy import Connection, Engine, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel, col

from core.settings import Settings
from rules.usage import period_end, period_of
from schemas.tables import UsageBatch, UsageCounter
from schemas.usage import Metric

DIALECT_INSERTS: dict[str, Callable[[type[SQLModel]], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}
SEGMENT, BATCH, PARTIAL = ".seg", ".batch", ".tmp"
METRICS = frozenset(get_args(Metric))
PARTIAL_ABANDONED_S = 60.0
# Applied batch ids are kept this long: a batch left on disk longer could count twice.
BATCH_ID_RETENTION = timedelta(days=35)
log = structlog.get_logger()

Counts = Counter[tuple[str, str, Metric]]  # (tenant_id, period, metric) -> amount


def add_usage(connection: Connection, tenant_id: str, period: str, metric: Metric, amount: int) -> int:
    """Adds `amount` to a counter (creating it) in one statement and answers the new value."""
    insert = DIALECT_INSERTS[connection.dialect.name](UsageCounter)
    now = datetime.now(UTC)
    statement = (
        insert.values(id=str(uuid4()), tenant_id=tenant_id, period=period, metric=metric, value=amount, updated_at=now)
        .on_conflict_do_update(
            index_elements=["tenant_id", "period", "metric"],
            set_={"value": col(UsageCounter.value) + amount, "updated_at": now},
        )
        .returning(col(UsageCounter.value))
    )
    return connection.execute(statement).scalar_one()


def apply_batch(engine: Engine, batch_id: str, counts: Counts) -> bool:
    """Adds a batch's counts and records its id in one transaction; False (nothing added) when the id
    was recorded before."""
    insert = DIALECT_INSERTS[engine.dialect.name](UsageBatch)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        first = connection.execute(
            insert.values(id=batch_id, applied_at=now).on_conflict_do_nothing().returning(col(UsageBatch.id))
        ).first()
        if first is None:
            return False
        for (tenant_id, period, metric), amount in sorted(counts.items()):  # one order: drains cannot deadlock
            add_usage(connection, tenant_id, period, metric, amount)
        connection.execute(delete(UsageBatch).where(col(UsageBatch.applied_at) < now - BATCH_ID_RETENTION))
    return True


def outbox_folder(outbox_dir: str | Path, engine: Engine) -> Path:
    """The outbox of one database: processes writing to different databases never drain each other's."""
    url = engine.url.render_as_string(hide_password=True)
    return Path(outbox_dir) / hashlib.sha256(url.encode()).hexdigest()[:16]


def usage_buffer(engine: Engine, settings: Settings) -> "UsageBuffer":
    """The process's buffer, its outbox where the settings put it."""
    return UsageBuffer(
        engine, settings.usage_outbox_dir, settings.usage_flush_interval_s, settings.usage_outbox_compact_bytes
    )


class UsageBuffer:
    """Counts per tenant and metric, kept in an append-only outbox file and drained in batches."""

    def __init__(
        self, engine: Engine, outbox_dir: str | Path, flush_delay_s: float = 5.0, compact_bytes: int = 1 << 20
    ) -> None:
        self._engine, self._delay, self._compact_bytes = engine, flush_delay_s, compact_bytes
        self._dir = outbox_folder(outbox_dir, engine)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # guards the open segment
        self._flushing = threading.Lock()  # one flush at a time
        self._timer: threading.Timer | None = None
        self._segment: Path | None = None
        self._fd: int | None = None
        self._written = 0
        # This process's sealed batch, not drained yet, and its locked descriptor: other processes leave it be.
        self._pending: tuple[Path, int] | None = None
        self._period, self._period_ends = "", 0.0  # the month counts go to, until its end (epoch seconds)
        threading.Thread(target=self._recover, name="usage-recovery", daemon=True).start()

    @property
    def folder(self) -> Path:
        return self._dir

    def add(self, tenant_id: str, metric: Metric, amount: int = 1) -> None:
        if amount <= 0:
            return
        if not tenant_id.isprintable():  # a tab or newline would break the line format
            log.warning("usage not counted: unprintable tenant id")
            return
        if time.time() >= self._period_ends:  # formatting the month costs more than the write
            period = period_of(datetime.now(UTC))
            self._period, self._period_ends = period, period_end(period).timestamp()
        line = f"{tenant_id}\t{self._period}\t{metric}\t{amount}\n".encode()
        with self._lock:
            try:
                if self._fd is None:
                    self._segment, self._fd = self._open_segment()
                os.write(self._fd, line)
            except OSError as err:  # a full or broken disk: the caller's work stands, the log keeps the count
                log.error("usage not written", tenant_id=tenant_id, metric=metric, amount=amount, error=str(err))
                return
            self._written += len(line)
            if self._timer is None:
                self._schedule(self._delay)

    def flush(self) -> None:
        """Drains this process's waiting batch, seals the open segment and drains it, then every batch left
        behind. A failed drain keeps the batch on disk for the next flush, and past `compact_bytes` the
        waiting batch and the segment are compacted in place."""
        with self._flushing:
            self._drain_pending()
            with self._lock:
                self._cancel_timer()
                sealing = self._swap_segment() if self._pending is None and self._written else None
                if self._pending is not None and self._written > self._compact_bytes:
                    self._compact_segment()
            if sealing is not None:
                self._pending = self._seal(*sealing)
                self._drain_pending()
            if self._pending is not None and self._pending[0].stat().st_size > self._compact_bytes:
                batch, fd = self._pending
                self._pending = batch, self._rewrite(batch)
                os.close(fd)
            leftovers = self._drain_leftovers()
            with self._lock:
                if (self._pending is not None or leftovers or self._written) and self._timer is None:
                    self._schedule(self._delay)

    def _drain_pending(self) -> None:
        if self._pending is not None and self._drain(self._pending[0]):
            os.close(self._pending[1])
            self._pending = None

    def _recover(self) -> None:
        """At start-up: drains what dead processes left, without sealing this process's own counts."""
        with self._flushing:
            leftovers = self._drain_leftovers()
        with self._lock:
            if leftovers and self._timer is None:
                self._schedule(self._delay)

    def close(self) -> None:
        """Drains what is counted; the emptied segment is removed (a later `add` opens a new one)."""
        self.flush()
        with self._lock:
            self._cancel_timer()
            if self._fd is not None and self._segment is not None and not self._written:
                self._segment.unlink(missing_ok=True)
                os.close(self._fd)
                self._segment, self._fd = None, None

    # ------------------------------------------------------------------ the outbox files

    def _schedule(self, delay: float) -> None:
        self._timer = threading.Timer(delay, self.flush)
        self._timer.daemon = True
        self._timer.start()

    def _cancel_timer(self) -> None:
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.cancel()
        self._timer = None

    def _open_segment(self) -> tuple[Path, int]:
        """A new segment, locked before it gets its name, so no other process takes it for a dead one's."""
        name = uuid4().hex
        partial, segment = self._dir / f"{name}{PARTIAL}", self._dir / f"{name}{SEGMENT}"
        fd = os.open(partial, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        _lock_new(fd)
        os.rename(partial, segment)
        return segment, fd

    def _swap_segment(self) -> tuple[Path, int] | None:
        """Under the lock: the written segment, replaced by a fresh one for the adds that follow."""
        if self._segment is None or self._fd is None:
            return None
        written = self._segment, self._fd
        self._segment, self._fd = self._open_segment()
        self._written = 0
        return written

    def _seal(self, segment: Path, fd: int) -> tuple[Path, int]:
        """The segment made a batch: synced and renamed, its lock kept until it is drained."""
        batch = segment.with_suffix(BATCH)
        os.fsync(fd)
        os.rename(segment, batch)
        _sync_folder(self._dir)
        return batch, fd

    def _compact_segment(self) -> None:
        """Under the lock: the open segment rewritten as one line per counter."""
        assert self._segment is not None and self._fd is not None
        fd = self._rewrite(self._segment)
        os.close(self._fd)
        self._fd, self._written = fd, os.fstat(fd).st_size

    def _rewrite(self, path: Path) -> int:
        """Replaces the file at `path` atomically with its counts summed, one line per counter; answers the
        new file's descriptor, locked. A batch keeps its id: applied or not, it holds the same counts."""
        counts = _parse(path.read_bytes())
        partial = self._dir / f"{uuid4().hex}{PARTIAL}"
        fd = os.open(partial, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        _lock_new(fd)
        body = _lines(counts)
        os.write(fd, body)
        os.fsync(fd)
        os.replace(partial, path)
        _sync_folder(self._dir)
        log.warning("usage outbox compacted during an outage", file=path.name, counters=len(counts), bytes=len(body))
        return fd

    def _drain(self, batch: Path) -> bool:
        """Applies a sealed batch once and deletes it; False when the database refused it this time."""
        try:
            counts = _parse(batch.read_bytes())
        except FileNotFoundError:  # another process drained it
            return True
        try:
            if counts and not apply_batch(self._engine, batch.stem, counts):
                log.info("usage batch was applied before", batch=batch.stem)
        except Exception as err:  # a database outage must not lose the counts or stop the flushing
            log.warning("usage flush failed", batch=batch.stem, counters=len(counts), error_type=type(err).__name__)
            return False
        batch.unlink(missing_ok=True)
        return True

    def _drain_leftovers(self) -> int:
        """Drains what dead processes left: their segments and batches, which nobody holds locked any more
        (a live process holds its own). Answers how many are left for a later flush."""
        left = 0
        for path in sorted(self._dir.iterdir()):
            if path.suffix not in (SEGMENT, PARTIAL, BATCH) or path == self._segment:
                continue
            if self._pending is not None and path == self._pending[0]:
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                left += not self._take_over(path, fd)
            finally:
                os.close(fd)
        return left

    def _take_over(self, path: Path, fd: int) -> bool:
        """Drains a dead process's file once its lock is free: a segment as a batch; a half-made file is
        deleted (its counts are in the file it would have replaced). False when it is left for later."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_ino != path.stat().st_ino:  # renamed or replaced meanwhile
                return True
            if path.suffix == PARTIAL:
                # Made and locked by a live process in two steps: only an old one is surely abandoned.
                if time.time() - os.fstat(fd).st_mtime > PARTIAL_ABANDONED_S:
                    path.unlink()
                return True
            if path.suffix == SEGMENT:
                os.rename(path, path := path.with_suffix(BATCH))
                _sync_folder(self._dir)
        except BlockingIOError:  # its process lives
            return True
        except FileNotFoundError:
            return True
        return self._drain(path)


def _parse(body: bytes) -> Counts:
    """A segment's or batch's counts summed; a torn last line (power loss) and malformed lines are skipped."""
    counts: Counts = Counter()
    for line, repeats in Counter(body.split(b"\n")[:-1]).items():  # most lines repeat: each is read once
        fields = line.decode(errors="replace").split("\t")
        if len(fields) != 4 or len(fields[0]) > 36 or len(fields[1]) != 7 or fields[2] not in METRICS:
            log.warning("usage outbox line skipped", length=len(line))
            continue
        tenant_id, period, metric, amount = fields
        if amount.isdigit():
            counts[(tenant_id, period, cast(Metric, metric))] += int(amount) * repeats
    return counts


def _lines(counts: Counts) -> bytes:
    return "".join(f"{t}\t{p}\t{m}\t{n}\n" for (t, p, m), n in sorted(counts.items()) if n > 0).encode()


def _lock_new(fd: int) -> None:
    """Locks a file this process has just made. Another process's start-up may be probing it that very moment
    (it holds the lock for a look, never waiting), so this one waits its turn instead of failing."""
    fcntl.flock(fd, fcntl.LOCK_EX)


def _sync_folder(folder: Path) -> None:
    """Makes a rename in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
