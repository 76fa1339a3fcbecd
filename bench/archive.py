"""How the run archive keeps history, measured against Temporal keeping it: N runs (log -> HTTP -> transform)
are started through the API and finish; then one RunArchiver pass archives them.

    .venv/bin/python -m bench.archive [--runs 2000] [--concurrency 50] [--reads 200]

Printed, each against a baseline measured in the same run:
- CPU per archived run (API process, which hosts the worker, and dev server) in the archiver pass, against the
  CPU per run the same processes spent running the runs: the archive's share of a run's cost, paid in one
  batch a minute, off the run's own path (no activity, no history event per run);
- bytes a closed run takes in the archive (record and row, encrypted with the tenant's key) against the bytes
  Temporal's own store grew by per run (history, mutable state, visibility): the cost of keeping history
  for a year by raising the namespace retention instead;
- GET /api/runs/{id} of a closed run read from the archive (after Temporal deleted the execution) against the
  same read while Temporal still holds it, p50 and p99.
"""

import argparse
import asyncio
import os
import shlex
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func
from sqlmodel import Session, select
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError

from bench.soak import add_stack_arguments, apply_dev_overrides, create_workflow, describe_setup, load_average
from bench.throughput import PLATFORM_QUEUE, CpuMeter, CpuUse, _event_loop, _expect, percentile, running_stack
from core.db import create_db_engine
from core.security import SecretBox
from orchestrator.run_archiver import RunArchiver
from schemas.run_archive import RunArchiverInput
from schemas.tables import RunArchiveEntry
from starters.connection import connect

CLOSED = "WorkflowType = 'UserWorkflowRun' AND ExecutionStatus != 'Running'"


def steps(target_url: str) -> dict[str, Any]:
    return {
        "name": "bench-archive",
        "steps": [
            {"id": "hello", "type": "log", "message": "order {{ input.n }} for {{ input.email }}"},
            {"id": "fetch", "type": "http_request", "url": target_url, "timeout_s": 5},
            {"id": "total", "type": "transform", "set": {"total": "input.n * 2"}},
        ],
    }


def store_bytes(tmp: Path) -> int:
    """The dev server's SQLite store on disk, its write-ahead log included."""
    return sum(path.stat().st_size for path in tmp.glob("temporal.db*"))


async def start_runs(http: httpx.AsyncClient, headers: dict[str, str], path: str, runs: int, width: int) -> list[str]:
    gate, run_ids = asyncio.Semaphore(width), []

    async def one(n: int) -> None:
        async with gate:
            answer = await http.post(path, json={"input": {"n": n, "email": f"buyer{n}@example.com"}}, headers=headers)
            _expect(answer, 202)
            run_ids.append(answer.json()["run_id"])

    await asyncio.gather(*(one(n) for n in range(runs)))
    return run_ids


async def until_closed(temporal: Client, runs: int) -> None:
    while (await temporal.count_workflows(CLOSED)).count < runs:
        await asyncio.sleep(0.5)


async def read_latencies(http: httpx.AsyncClient, headers: dict[str, str], run_ids: list[str]) -> list[float]:
    took = []
    for run_id in run_ids:
        began = time.perf_counter()
        answer = await http.get(f"/api/runs/{run_id}", headers=headers)
        took.append((time.perf_counter() - began) * 1000)
        _expect(answer, 200)
    return took


async def delete_executions(temporal: Client, run_ids: list[str]) -> None:
    """What the namespace retention does to a closed run; waits until Temporal no longer has them."""
    for run_id in run_ids:
        execution = WorkflowExecution(workflow_id=f"run-{run_id}")
        request = DeleteWorkflowExecutionRequest(namespace=temporal.namespace, workflow_execution=execution)
        await temporal.workflow_service.delete_workflow_execution(request)
    for run_id in run_ids:
        while True:
            try:
                await temporal.get_workflow_handle(f"run-{run_id}").describe()
            except RPCError:
                break
            await asyncio.sleep(0.5)


def archive_bytes(database_url: str) -> tuple[int, int]:
    engine = create_db_engine(database_url)
    with Session(engine) as session:
        count, total = session.exec(select(func.count(), func.sum(RunArchiveEntry.record_bytes))).one()
    engine.dispose()
    return count, total or 0


async def bench(args: argparse.Namespace) -> None:
    # The tenant payload codec on, so records are encrypted as in production (a throwaway key, never printed);
    # the archiver's own schedule out of the way of the measured pass.
    os.environ["LEVQOR_SECRETS_KEY"] = SecretBox.new_key()
    args.api_env += ["RUN_ARCHIVE_INTERVAL_S=86400"]
    dynamic_config = apply_dev_overrides(args)
    command = "python -m bench.archive " + shlex.join(sys.argv[1:])
    with running_stack(args) as stack:
        temporal = await connect(stack.temporal_address, "default")
        meter = CpuMeter(
            {"api process": stack.pids["api process"], "temporal server": stack.pids["temporal server"]}, ()
        )
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as http:
            headers, path = await create_workflow(http, steps(stack.target_url), args.plan)
            store_before, running = store_bytes(stack.tmp), CpuUse()
            before = meter.sample()
            run_ids = await start_runs(http, headers, path, args.runs, args.concurrency)
            await until_closed(temporal, args.runs)
            running.add(before, meter.sample(), args.runs)
            store_growth = store_bytes(stack.tmp) - store_before
            from_temporal = await read_latencies(http, headers, run_ids[: args.reads])

            archiving, before = CpuUse(), meter.sample()
            began = time.perf_counter()
            result = await temporal.execute_workflow(
                RunArchiver.run,
                RunArchiverInput(visibility_lag_s=0),
                id=f"bench-archiver-{uuid.uuid4()}",
                task_queue=PLATFORM_QUEUE,
            )
            pass_s = time.perf_counter() - began
            archiving.add(before, meter.sample(), result.archived)
            archived, archived_bytes = archive_bytes(stack.database_url)
            await delete_executions(temporal, run_ids[: args.reads])
            from_archive = await read_latencies(http, headers, run_ids[: args.reads])
    lines = describe_setup(args, dynamic_config, command) + [
        f"load average: {load_average()}",
        f"runs: {args.runs} finished; archiver pass: {result.archived} archived in {result.windows} window(s), "
        f"{pass_s:.2f} s ({result.archived / pass_s:.0f} runs/s)",
        "",
        f"{'CPU per run, ms':<34}{'running the run':>16}{'archiving it':>14}{'share':>8}",
    ]
    for role in ("api process", "temporal server"):
        run_ms, archive_ms = running.ms_per_run(role) or 0.0, archiving.ms_per_run(role) or 0.0
        lines.append(f"{role:<34}{run_ms:>16.2f}{archive_ms:>14.2f}{archive_ms / run_ms:>8.1%}")
    per_run_archive = archived_bytes / max(archived, 1)
    per_run_store = store_growth / args.runs
    lines += [
        "",
        f"bytes per closed run: archive {per_run_archive:,.0f} (record, encrypted) vs Temporal's store "
        f"{per_run_store:,.0f} (its SQLite file grew {store_growth / 1e6:.1f} MB for {args.runs} runs): "
        f"{per_run_store / max(per_run_archive, 1):.1f}x",
        f"GET /api/runs/{{id}} of a closed run, ms (p50 / p99, {len(from_archive)} reads): "
        f"Temporal {percentile(from_temporal, 0.5):.1f} / {percentile(from_temporal, 0.99):.1f}, "
        f"archive {percentile(from_archive, 0.5):.1f} / {percentile(from_archive, 0.99):.1f}",
    ]
    print("\n".join(lines))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.archive", description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--reads", type=int, default=200, help="runs read from Temporal, then from the archive")
    add_stack_arguments(parser)
    args = parser.parse_args()
    # Deleted executions go once their close tasks are acknowledged: every second, not every 30 s.
    args.dev_config += [
        'history.transferProcessorUpdateAckInterval="1s"',
        'history.visibilityProcessorUpdateAckInterval="1s"',
    ]
    return args


def main() -> None:
    args = parse_args()
    loop = _event_loop()
    try:
        loop.run_until_complete(bench(args))
    finally:
        loop.close()


if __name__ == "__main__":
    main()
