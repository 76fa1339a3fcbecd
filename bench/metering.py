"""The cost of one usage count: the in-memory add metering had before (a Counter increment under a lock)
against the durable add of `core.metering.UsageBuffer` (one line appended to the outbox file), in the same
run, plus what a flush costs: sealing the segment (fsync, rename) and draining it to the database.

    .venv/bin/python -m bench.metering [--adds 200000] [--reps 5] [--database-url sqlite:///...]

Figures are medians over `--reps` repetitions, in microseconds of CPU (process time) and wall time per add,
on a temporary SQLite database and outbox unless --database-url names one. A run of the bench API
(bench.throughput) makes about three adds: its start, its HTTP step and its API call.
"""

import argparse
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

from core.db import create_db_engine, migrate
from core.metering import UsageBuffer
from schemas.usage import Metric

TENANTS = [str(uuid4()) for _ in range(50)]
METRICS: tuple[Metric, ...] = ("runs", "steps", "api_calls")


class InMemoryCounts:
    """The add of the UsageBuffer before the outbox (its timer already started: the steady state)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, Metric]] = Counter()
        self._timer: object | None = object()

    def add(self, tenant_id: str, metric: Metric, amount: int = 1) -> None:
        if amount <= 0:
            return
        with self._lock:
            self._counts[(tenant_id, metric)] += amount
            if self._timer is None:
                self._timer = object()


def per_add_us(add: Callable[[str, Metric], None], adds: int) -> tuple[float, float]:
    """CPU and wall microseconds per add."""
    cpu, wall = time.process_time(), time.perf_counter()
    for number in range(adds):
        add(TENANTS[number % len(TENANTS)], METRICS[number % len(METRICS)])
    return (time.process_time() - cpu) * 1e6 / adds, (time.perf_counter() - wall) * 1e6 / adds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--adds", type=int, default=200_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="levqor-bench-metering-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'levqor.db'}"
        migrate(url)
        engine = create_db_engine(url)
        durable = UsageBuffer(engine, Path(tmp) / "outbox", flush_delay_s=3600)
        figures: dict[str, list[tuple[float, float]]] = {"in-memory add (before)": [], "durable add (outbox)": []}
        flushes: list[float] = []
        for _ in range(args.reps):
            figures["in-memory add (before)"].append(per_add_us(InMemoryCounts().add, args.adds))
            figures["durable add (outbox)"].append(per_add_us(durable.add, args.adds))
            started = time.perf_counter()
            durable.flush()
            flushes.append((time.perf_counter() - started) * 1e3)
        durable.close()
        engine.dispose()
    print(f"{args.adds} adds x {args.reps} reps, {len(TENANTS)} tenants; medians")
    print(f"  {'':28} {'CPU us/add':>11} {'wall us/add':>12}")
    for name, runs in figures.items():
        cpu = statistics.median(c for c, _ in runs)
        wall = statistics.median(w for _, w in runs)
        print(f"  {name:28} {cpu:11.2f} {wall:12.2f}")
    print(f"  flush of {args.adds} adds ({len(TENANTS) * len(METRICS)} counters): {statistics.median(flushes):.1f} ms")


if __name__ == "__main__":
    main()
