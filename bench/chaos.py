"""Chaos check: runs of `UserWorkflowRun` survive SIGKILLs of the worker and of the Temporal dev server,
each completes exactly once, and each HTTP step reaches the target under its own idempotency key.

    .venv/bin/python -m bench.chaos [--runs 50] [--seed 8] [--deadline 230] [--keep]

Everything runs on 127.0.0.1 and is stopped at the end, also on error, Ctrl-C or the deadline: a headless
Temporal dev server on a temp SQLite file, the idempotent HTTP target of bench/chaos_target.py (it records
every request), and one worker process (`python -m orchestrator.worker`). The runs are started with the
Temporal client, spread over START_SPREAD_S, each `log -> POST -> delay -> GET slow -> delay -> quick GET or
POST (by run) -> log`, with random delays and target sleeps: POSTs run as regular activities, a GET first as
a local activity with a short budget and then, if it did not answer within it, as a regular one. Meanwhile KILLS SIGKILLs the worker twice and the dev server once, each restarted a moment
later (the server on the same db file and port). Then every run is awaited and the check prints what the
runs, their histories, Temporal's visibility and the target's record say, and exits 1 when an invariant
fails. Should the check itself be SIGKILLed, the worker and target die with it (PR_SET_PDEATHSIG) and a
guard process kills the dev server and removes the temp folder.
"""

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import temporalio
from temporalio.api.enums.v1 import EventType, TaskQueueType, TimeoutType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
)
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError

from bench.throughput import free_port, wait_for_port
from core.db import migrate
from language.steps import WorkflowDefinition
from orchestrator.user_run import LOCAL_HTTP_MAX_TIMEOUT, SAFE_METHODS
from schemas.runs import RetryDefaults, RunInput, RunResult
from starters.connection import connect
from starters.runs import run_workflow_id, start_run
from temporal.devserver import start_dev_server, stop, wait_until_serving

REPO = Path(__file__).resolve().parent.parent
FOUNDER_TOKEN = "chaos-founder-token-0123456789abcdef"
QUEUE = "chaos"
NAMESPACE = "default"
TENANT_ID = "chaos"
DEFINITION_ID = "chaos-def"
# Short retries, as the worker's RETRY_* settings; the runs carry them, so they are what applies.
RETRIES = RetryDefaults(initial_interval_s=0.2, max_interval_s=2.0, max_attempts=10)
START_SPREAD_S = 30.0
START_RETRY_S = 0.5
START_GIVE_UP_S = 30.0
VERIFY_RESERVE_S = 25.0
# Spawned through this trampoline, a child gets SIGKILL if the check itself dies without cleaning up.
DIE_WITH_PARENT = (
    "import ctypes, os, sys; ctypes.CDLL(None).prctl(1, 9); "  # PR_SET_PDEATHSIG, SIGKILL
    "os.getppid() == int(sys.argv[1]) or sys.exit(1); os.execv(sys.argv[2], sys.argv[2:])"
)
# The dev server comes from temporal/devserver.py, so it gets a guard: a process that SIGKILLs it (and removes
# the temp folder, unless kept) if the check dies, and exits by itself once the server is gone.
GUARD = """
import ctypes, os, shutil, signal, sys, time
parent, pid, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def reap(*_):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
    os._exit(0)
signal.signal(signal.SIGTERM, reap)
ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
if os.getppid() != parent:
    reap()
while os.path.exists(f"/proc/{pid}"):
    time.sleep(0.5)
"""


@dataclass(frozen=True)
class Kill:
    role: Literal["worker", "server"]
    at_s: float  # after the first start
    down_s: float


# A killed worker's open workflow tasks come back after the 10 s workflow-task timeout (and its activities
# after the 10 s heartbeat timeout), so the kills are ~11 s apart and runs keep starting in between.
KILLS = (Kill("worker", 5.0, 2.0), Kill("server", 16.0, 3.0), Kill("worker", 27.0, 2.0))


# ---------------------------------------------------------------- the runs


@dataclass(frozen=True)
class PlannedRun:
    params: RunInput
    # idempotency key -> "local" (a safe method: a local first attempt, then a regular activity if that one did
    # not answer within the budget) | "regular" (an unsafe method or a long timeout: regular activities only)
    http_kinds: dict[str, str]

    @property
    def workflow_id(self) -> str:
        return run_workflow_id(self.params.run_id)


def plan_run(n: int, target_url: str, rng: random.Random) -> PlannedRun:
    def sleep() -> float:
        return round(rng.uniform(0.2, 1.0), 2)

    # Even runs confirm with a quick GET (a local first attempt that mostly answers within its budget), odd
    # runs with a POST (regular activities only: a POST is never cut off and sent twice by the budget).
    quick = n % 2 == 0
    steps: list[dict[str, Any]] = [
        {"id": "hello", "type": "log", "message": "chaos run {{ input.n }}"},
        {
            "id": "create",
            "type": "http_request",
            "method": "POST",
            "url": f"{target_url}/orders?sleep={sleep()}",
            "json": {"run": "{{ input.n }}", "item": "chaos"},
            "timeout_s": 5,
        },
        {"id": "pause", "type": "delay", "seconds": round(rng.uniform(1.0, 3.0), 2)},
        {
            "id": "fetch",
            "type": "http_request",
            "url": f"{target_url}/slow?sleep={round(2 * sleep(), 2)}",
            "timeout_s": 60,
        },
        {"id": "settle", "type": "delay", "seconds": round(rng.uniform(1.0, 3.0), 2)},
        {
            "id": "confirm",
            "type": "http_request",
            "method": "GET",
            "url": f"{target_url}/confirm?sleep={round(sleep() / 10, 3)}&order={{{{ steps.create.body.serial }}}}",
            "timeout_s": 5,
        }
        if quick
        else {
            "id": "confirm",
            "type": "http_request",
            "method": "POST",
            "url": f"{target_url}/confirm?sleep={sleep()}",
            "json": {"order": "{{ steps.create.body.serial }}", "seen": "{{ steps.fetch.body.serial }}"},
            "timeout_s": 60,
        },
        {
            "id": "bye",
            "type": "log",
            "message": "run {{ input.n }} confirmed order {{ steps.create.body.serial }}",
        },
    ]
    definition = WorkflowDefinition.model_validate({"name": "chaos", "steps": steps})
    run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    params = RunInput(
        run_id=run_id,
        tenant_id=TENANT_ID,
        definition_id=DEFINITION_ID,
        version=1,
        definition=definition.model_dump(mode="json"),
        input={"n": n},
        retry_defaults=RETRIES,
        closing_status_upsert=False,
    )
    kinds = {
        f"{run_id}:{step['id']}": "local"
        if step.get("method", "GET") in SAFE_METHODS and step["timeout_s"] <= LOCAL_HTTP_MAX_TIMEOUT.total_seconds()
        else "regular"
        for step in steps
        if step["type"] == "http_request"
    }
    return PlannedRun(params, kinds)


# ---------------------------------------------------------------- the processes under test


class Cluster:
    """The dev server, the target and the worker, all ours: started, SIGKILLed, restarted, and stopped."""

    def __init__(self, tmp: Path, env: dict[str, str], temporal_port: int, target_port: int, keep: bool) -> None:
        self.tmp, self.env, self.keep = tmp, env, keep
        self.temporal_port, self.target_port = temporal_port, target_port
        self.address = f"127.0.0.1:{temporal_port}"
        self.server: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.target: subprocess.Popen[bytes] | None = None
        self.guards: list[subprocess.Popen[bytes]] = []
        self.workers_started = 0

    @property
    def target_url(self) -> str:
        return f"http://127.0.0.1:{self.target_port}"

    @property
    def record(self) -> Path:
        return self.tmp / "target.jsonl"

    def start_server(self) -> int:
        self.server = start_dev_server(
            self.tmp / "temporal.db",
            port=self.temporal_port,
            ui_port=None,
            log_file=self.tmp / "temporal.log",
        )
        folder = "" if self.keep else str(self.tmp)
        guard = [sys.executable, "-c", GUARD, str(os.getpid()), str(self.server.pid), folder]
        self.guards.append(subprocess.Popen(guard, stdin=subprocess.DEVNULL))
        return self.server.pid

    async def wait_for_server(self) -> None:
        await asyncio.to_thread(wait_until_serving, self.address, 30, self.server)

    def start_target(self) -> None:
        args = ["-m", "bench.chaos_target", str(self.target_port), str(self.record)]
        self.target = self._spawn(args, "target", cwd=REPO)  # bench/ is not an installed package
        wait_for_port(self.target_port, self.target, "the HTTP target")

    def start_worker(self) -> int:
        self.workers_started += 1
        self.worker = self._spawn(["-m", "orchestrator.worker"], f"worker{self.workers_started}")
        return self.worker.pid

    def kill(self, role: Literal["worker", "server"]) -> int:
        process = self.worker if role == "worker" else self.server
        assert process is not None
        process.kill()  # SIGKILL
        process.wait()
        return process.pid

    def worker_died_by_itself(self) -> int | None:
        return None if self.worker is None else self.worker.poll()

    def stop_all(self) -> None:
        """Worker first (so it does not fail over a missing server), then target and server."""
        for process in (self.worker, self.target):
            if process is not None:
                # 3 s, then SIGKILL: a worker whose server is down would spend ~10 s shutting down.
                stop(process, timeout_s=3.0)
        if self.server is not None:
            stop(self.server)
        for guard in self.guards:
            guard.kill()  # SIGKILL: its SIGTERM handler would remove the folder
            guard.wait()

    def kill_all(self) -> None:
        for process in (self.worker, self.target, self.server, *self.guards):
            if process is not None and process.poll() is None:
                process.kill()

    def log_tail(self, name: str, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((self.tmp / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])
        return ""

    def _spawn(self, args: list[str], name: str, cwd: Path | None = None) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-c", DIE_WITH_PARENT, str(os.getpid()), sys.executable, *args]
        with (self.tmp / f"{name}.log").open("ab") as out:
            # The worker runs in the temp folder, so no `.env` of the checkout leaks into its settings.
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=cwd or self.tmp,
            )


@contextlib.contextmanager
def running_cluster(args: argparse.Namespace) -> Iterator[Cluster]:
    """A fresh temp folder, dev server, target and migrated app database; everything removed on the way out.
    A watchdog kills the lot if even the cleanup overruns the deadline."""
    with contextlib.ExitStack() as cleanup:
        tmp = Path(tempfile.mkdtemp(prefix="levqor-chaos-"))
        if not args.keep:
            cleanup.callback(shutil.rmtree, tmp, ignore_errors=True)
        temporal_port, target_port = free_port(), free_port()
        database_url = f"sqlite:///{tmp / 'levqor.db'}"
        env = {
            **os.environ,
            "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
            "TEMPORAL_NAMESPACE": NAMESPACE,
            "TASK_QUEUE": QUEUE,
            "DATABASE_URL": database_url,
            "LEVQOR_FOUNDER_TOKEN": FOUNDER_TOKEN,
            "LEVQOR_HTTP_ALLOW_PRIVATE": "true",
            "LOG_LEVEL": "WARNING",
            "RETRY_INITIAL_INTERVAL_S": str(RETRIES.initial_interval_s),
            "RETRY_MAX_INTERVAL_S": str(RETRIES.max_interval_s),
        }
        cluster = Cluster(tmp, env, temporal_port, target_port, args.keep)
        cleanup.callback(cluster.stop_all)

        def watchdog(_signum: int, _frame: object) -> None:
            cluster.kill_all()
            if not args.keep:
                shutil.rmtree(tmp, ignore_errors=True)
            os._exit(124)

        signal.signal(signal.SIGALRM, watchdog)
        signal.alarm(int(args.deadline) + 20)
        cleanup.callback(signal.alarm, 0)

        migrate(database_url)
        cluster.start_server()
        wait_until_serving(cluster.address, 30, cluster.server)
        cluster.start_target()
        yield cluster


async def wait_for_pollers(client: Client, timeout_s: float = 30.0) -> None:
    """Until a worker polls the run queue. Only for the first worker: a dead one's pollers linger."""
    request = DescribeTaskQueueRequest(
        namespace=NAMESPACE,
        task_queue=TaskQueue(name=QUEUE),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    deadline = time.monotonic() + timeout_s
    while not (await client.workflow_service.describe_task_queue(request)).pollers:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no worker polls {QUEUE!r} after {timeout_s} s")
        await asyncio.sleep(0.1)


# ---------------------------------------------------------------- the chaos


@dataclass
class Event:
    at: float  # wall clock (time.time()), as the target and workflow timestamps are
    text: str
    kill: Kill | None = None


@dataclass
class Started:
    planned: PlannedRun
    handle: WorkflowHandle[Any, RunResult] | None
    start_retries: int = 0
    error: str | None = None
    at: float | None = None


async def start_all(client: Client, plans: list[PlannedRun], t0: float) -> list[Started]:
    """Each run at its slot of the spread; a start refused while the server is down is retried (the start is
    idempotent: the same run id never starts a second execution)."""

    async def one(slot: int, plan: PlannedRun) -> Started:
        await asyncio.sleep(max(0.0, t0 + slot * START_SPREAD_S / len(plans) - time.time()))
        retries, give_up = 0, time.monotonic() + START_GIVE_UP_S
        while True:
            try:
                handle = await start_run(client, plan.params, QUEUE, eager=False)
                return Started(plan, handle, retries, at=time.time())
            except RPCError as err:
                if time.monotonic() > give_up:
                    return Started(plan, None, retries, f"{err.status.name if err.status else ''} {err.message}")
                retries += 1
                await asyncio.sleep(START_RETRY_S)

    return await asyncio.gather(*(one(slot, plan) for slot, plan in enumerate(plans)))


async def inflict(cluster: Cluster, t0: float, events: list[Event]) -> None:
    for kill in KILLS:
        await asyncio.sleep(max(0.0, t0 + kill.at_s - time.time()))
        if kill.role == "worker" and (code := cluster.worker_died_by_itself()) is not None:
            events.append(Event(time.time(), f"worker {cluster.workers_started} had exited by itself (code {code})"))
        pid = cluster.kill(kill.role)
        name = f"worker {cluster.workers_started}" if kill.role == "worker" else "dev server"
        events.append(Event(time.time(), f"SIGKILL {name} (pid {pid})", kill))
        await asyncio.sleep(kill.down_s)
        if kill.role == "worker":
            pid = cluster.start_worker()
            events.append(Event(time.time(), f"worker {cluster.workers_started} started (pid {pid})"))
        else:
            pid = cluster.start_server()
            await cluster.wait_for_server()
            events.append(Event(time.time(), f"dev server serving again, same db file and port (pid {pid})"))


@dataclass
class Finished:
    result: RunResult | None = None
    failure: str | None = None
    at: float | None = None


async def await_run(handle: WorkflowHandle[Any, RunResult], timeout_s: float) -> Finished:
    """The run's result; RPC errors (a server that was down) are retried until the bound."""
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                try:
                    return Finished(result=await handle.result(), at=time.time())
                except WorkflowFailureError as err:
                    return Finished(failure=f"{err.cause}", at=time.time())
                except RPCError:
                    await asyncio.sleep(0.5)
    except TimeoutError:
        return Finished()


async def list_executions(client: Client, expected: int, timeout_s: float) -> dict[str, list[WorkflowExecution]]:
    """Every UserWorkflowRun execution by workflow id, once visibility shows them all closed."""
    deadline = time.monotonic() + timeout_s
    while True:
        found: dict[str, list[WorkflowExecution]] = defaultdict(list)
        with contextlib.suppress(RPCError):
            async for execution in client.list_workflows("WorkflowType='UserWorkflowRun'"):
                found[execution.id].append(execution)
        everything = [execution for executions in found.values() for execution in executions]
        settled = len(found) >= expected and all(e.status != WorkflowExecutionStatus.RUNNING for e in everything)
        if settled or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


async def count_history_events(client: Client, workflow_ids: list[str]) -> Counter[str]:
    """Event types over every run's history: recorded effects, timeouts and failed workflow tasks."""
    counts: Counter[str] = Counter()
    for workflow_id in workflow_ids:
        with contextlib.suppress(RPCError):
            history = await client.get_workflow_handle(workflow_id).fetch_history()
            for event in history.events:
                name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
                if event.HasField("workflow_task_timed_out_event_attributes"):
                    kind = event.workflow_task_timed_out_event_attributes.timeout_type
                    name += ":" + TimeoutType.Name(kind).removeprefix("TIMEOUT_TYPE_")
                if event.HasField("marker_recorded_event_attributes"):  # a local activity's, or a patch's
                    name += ":" + event.marker_recorded_event_attributes.marker_name
                counts[name] += 1
    return counts


# ---------------------------------------------------------------- what the runs, Temporal and the target say


@dataclass
class Check:
    label: str
    value: int | str
    holds: bool
    note: str = ""


@dataclass
class Findings:
    runs: list[Check] = field(default_factory=list)
    workflow: list[Check] = field(default_factory=list)
    target: list[Check] = field(default_factory=list)
    coverage: list[Check] = field(default_factory=list)
    timeline: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Check]:
        return [c for c in [*self.runs, *self.workflow, *self.target, *self.coverage] if not c.holds]


def read_record(path: Path) -> list[dict[str, Any]]:
    with contextlib.suppress(FileNotFoundError):
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return []


def _stamp(value: Any) -> float | None:
    return value.timestamp() if value is not None else None


def analyse(
    started: list[Started],
    finished: list[Finished],
    executions: dict[str, list[WorkflowExecution]],
    history: Counter[str],
    requests: list[dict[str, Any]],
    events: list[Event],
    t0: float,
) -> Findings:
    found = Findings()
    plans = [s.planned for s in started]
    kinds = {key: kind for plan in plans for key, kind in plan.http_kinds.items()}
    results = [f.result for f in finished if f.result is not None]

    # runs
    not_started = [s for s in started if s.handle is None]
    completed = [r for r in results if r.status == "completed"]
    failed = [f for f in finished if f.failure is not None or (f.result is not None and f.result.status != "completed")]
    unfinished = len(started) - len(not_started) - len(results) - sum(f.failure is not None for f in finished)
    found.runs = [
        Check("runs started", len(started) - len(not_started), not not_started, f"of {len(started)}"),
        Check("completed", len(completed), len(completed) == len(started)),
        Check("failed", len(failed), not failed),
        Check("not finished", unfinished, unfinished == 0, "within the bound"),
        Check(
            "start calls retried by the check",
            sum(s.start_retries for s in started),
            True,
            "the client retries UNAVAILABLE by itself first",
        ),
    ]
    if not_started:
        found.notes += [f"not started: {s.planned.workflow_id}: {s.error}" for s in not_started[:5]]
    found.notes += [f"failed: {f.failure}" for f in finished if f.failure][:5]

    # workflow level
    ids = {plan.workflow_id for plan in plans}
    repeated = [wid for wid, runs in executions.items() if len(runs) > 1]
    not_completed = [e for runs in executions.values() for e in runs if e.status != WorkflowExecutionStatus.COMPLETED]
    wrong_steps, mismatched, multi_attempt = 0, 0, 0
    local = sum(kind == "local" for kind in kinds.values())
    regular = len(kinds) - local
    answers = {r["key"]: r["answer"] for r in requests if r["status"] == 200}
    for plan, outcome in zip(plans, finished, strict=True):
        result = outcome.result
        if result is None:
            continue
        expected = [step["id"] for step in plan.params.definition["steps"]]
        if [s.step_id for s in result.steps] != expected or any(s.status != "succeeded" for s in result.steps):
            wrong_steps += 1
        for step in result.steps:
            if step.type != "http_request":
                continue
            key = f"{plan.params.run_id}:{step.step_id}"
            body = (step.result or {}).get("body")
            if body is None or body != answers.get(key) or body.get("key") != key:
                mismatched += 1
            multi_attempt += step.attempts > 1
    found.workflow = [
        Check("workflow ids in visibility", len(executions), set(executions) == ids, f"expected {len(ids)}"),
        Check("ids with more than one execution", len(repeated), not repeated),
        Check("executions not COMPLETED", len(not_completed), not not_completed),
        Check(
            "results with a wrong step list",
            wrong_steps,
            wrong_steps == 0,
            "each step id once, in order, all succeeded",
        ),
        Check(
            "HTTP replies unlike the target's answer",
            mismatched,
            mismatched == 0,
            "body the run kept vs the record",
        ),
        Check("HTTP steps that took more than 1 attempt", multi_attempt, True, "as the activity reported"),
        Check(
            "local-activity markers in histories",
            history["MARKER_RECORDED:core_local_activity"],
            history["MARKER_RECORDED:core_local_activity"] == local,
            f"expected {local}: one per local first attempt",
        ),
        Check(
            "activity completions in histories",
            history["ACTIVITY_TASK_COMPLETED"],
            regular <= history["ACTIVITY_TASK_COMPLETED"] <= regular + local,
            f"expected {regular} to {regular + local}: one per regular step, and per local first attempt that "
            "did not answer within its budget",
        ),
        Check(
            "workflow tasks timed out on a killed worker",
            history["WORKFLOW_TASK_TIMED_OUT:START_TO_CLOSE"],
            True,
            "started there, never completed (10 s)",
        ),
        Check(
            "sticky workflow tasks never picked up",
            history["WORKFLOW_TASK_TIMED_OUT:SCHEDULE_TO_START"],
            True,
            "queued for a killed worker's cache (5 s)",
        ),
        Check("workflow tasks failed", history["WORKFLOW_TASK_FAILED"], True),
    ]

    # target level
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for request in requests:
        by_key[str(request["key"])].append(request)
    seen_twice = {key for key, rs in by_key.items() if len(rs) > 1}
    differing = [
        key
        for key, rs in by_key.items()
        if len({json.dumps([r["status"], r["answer"]], sort_keys=True) for r in rs}) > 1
    ]
    missing = set(kinds) - set(by_key)
    unexpected = set(by_key) - set(kinds)
    found.target = [
        Check("requests", len(requests), True),
        Check("distinct Idempotency-Keys", len(by_key), True),
        Check("keys seen more than once", len(seen_twice), True, "retries after kills: expected"),
        Check("keys seen more than once, answers differ", len(differing), not differing),
        Check("expected keys never seen", len(missing), not missing, f"of {len(kinds)} = runs x 3 HTTP steps"),
        Check("unexpected keys", len(unexpected), not unexpected),
        Check("answers not delivered (client gone)", sum(not r["delivered"] for r in requests), True),
    ]
    by_kind = Counter(kinds[key] for key in seen_twice if key in kinds)
    found.notes.append(
        f"keys seen more than once by activity kind: local {by_kind['local']}, regular {by_kind['regular']}; "
        "of those, steps reporting attempt 1 (run again from scratch by a new workflow task, not retried): "
        f"{_repeats_with_first_attempt(results, plans, finished, seen_twice)}"
    )

    # coverage: what each kill hit, and the timeline
    kill_events = [e for e in events if e.kill is not None]
    moments = list(events)
    if starts := [s.at for s in started if s.at is not None]:
        moments.append(Event(min(starts), f"first run started; {len(started)} starts spread over {START_SPREAD_S:g} s"))
        moments.append(Event(max(starts), "last run started"))
    if done := [f.at for f in finished if f.at is not None]:
        moments.append(Event(max(done), "last run finished"))
    hit_http = hit_delay = 0
    for event in sorted(moments, key=lambda e: e.at):
        text = f"{event.at - t0:7.1f}  {event.text}"
        if event.kill is not None:
            calls = Counter(
                kinds.get(str(r["key"]), "?") for r in requests if r["arrived_at"] <= event.at < r["answered_at"]
            )
            delays = _runs_in_delay(results, event.at)
            repeats = _repeats_after(by_key, event, kill_events)
            hit_http += sum(calls.values()) > 0
            hit_delay += delays > 0
            text += (
                f"\n           hit: {sum(calls.values())} HTTP calls at the target ({calls['local']} local,"
                f" {calls['regular']} regular), {delays} runs in a delay;"
                f" keys repeated after it: {repeats}"
            )
        found.timeline.append(text)
    found.coverage = [
        Check("kills with an HTTP call in flight", hit_http, hit_http >= 1, f"of {len(kill_events)}"),
        Check("kills with a run in a delay", hit_delay, hit_delay >= 1, f"of {len(kill_events)}"),
    ]
    return found


def _runs_in_delay(results: list[RunResult], at: float) -> int:
    """From the steps' workflow times. (Not usable for local activities: workflow time stands still while
    a workflow task runs them.)"""
    count = 0
    for result in results:
        for step in result.steps:
            begun, ended = _stamp(step.started_at), _stamp(step.finished_at)
            if step.type == "delay" and begun is not None and ended is not None and begun <= at < ended:
                count += 1
    return count


def _repeats_after(by_key: dict[str, list[dict[str, Any]]], kill: Event, kills: list[Event]) -> str:
    """Keys whose first request came before this kill and a repeat after it (and before the next kill)."""
    later = [e.at for e in kills if e.at > kill.at]
    until = min(later) if later else float("inf")
    hits: Counter[str] = Counter()
    for key, requests in by_key.items():
        arrivals = sorted(r["arrived_at"] for r in requests)
        if len(arrivals) > 1 and arrivals[0] <= kill.at and any(kill.at < a < until for a in arrivals[1:]):
            hits[key.rsplit(":", 1)[-1]] += 1
    return ", ".join(f"{step} {n}" for step, n in sorted(hits.items())) or "none"


def _repeats_with_first_attempt(
    results: list[RunResult], plans: list[PlannedRun], finished: list[Finished], seen_twice: set[str]
) -> int:
    """Repeated keys whose step still reports attempt 1: re-run from scratch rather than retried."""
    count = 0
    for plan, outcome in zip(plans, finished, strict=True):
        for step in outcome.result.steps if outcome.result else []:
            count += f"{plan.params.run_id}:{step.step_id}" in seen_twice and step.attempts == 1
    return count


# ---------------------------------------------------------------- report and main


def report(found: Findings, args: argparse.Namespace, wall_s: float) -> None:
    command = " ".join([".venv/bin/python -m bench.chaos", *map(shlex.quote, sys.argv[1:])])
    print()
    print(
        f"Levqor chaos check: {args.runs} runs of log -> POST -> delay -> GET slow -> delay -> quick GET or POST -> log, "
        f"seed {args.seed}; {wall_s:.0f} s in all"
    )
    versions = f"Python {platform.python_version()}, temporalio {temporalio.__version__}"
    print(f"machine: nproc={os.cpu_count()}, {versions}")
    print(f"command: {command}")
    print()
    print("  timeline (s after the first start)")
    for line in found.timeline:
        print(f"  {line}")
    print()
    for title, checks in (
        ("runs", found.runs),
        ("workflow level", found.workflow),
        ("target level", found.target),
        ("coverage", found.coverage),
    ):
        print(f"  {title}")
        for check in checks:
            mark = "" if check.holds else "FAIL "
            print(f"    {check.label:44}{check.value:>6}   {mark}{check.note}")
    for note in found.notes:
        print(f"  note: {note}")
    print()
    if found.failed:
        print(f"  INVARIANTS FAILED: {', '.join(c.label for c in found.failed)}")
    else:
        print("  every invariant holds")
    print()


async def chaos(args: argparse.Namespace) -> bool:
    began = time.monotonic()
    with running_cluster(args) as cluster:
        _log_to(cluster.tmp / "chaos.log")
        client = await connect(cluster.address, NAMESPACE)
        cluster.start_worker()
        await wait_for_pollers(client)
        rng = random.Random(args.seed)
        plans = [plan_run(n, cluster.target_url, rng) for n in range(args.runs)]

        t0 = time.time()
        events: list[Event] = []
        starting = asyncio.create_task(start_all(client, plans, t0))
        await inflict(cluster, t0, events)
        started = await starting
        bound = max(10.0, args.deadline - (time.monotonic() - began) - VERIFY_RESERVE_S)
        finished = await asyncio.gather(
            *(await_run(s.handle, bound) if s.handle else _never_started() for s in started)
        )
        executions = await list_executions(client, len(plans), 15)
        history = await count_history_events(client, [plan.workflow_id for plan in plans])
        if (code := cluster.worker_died_by_itself()) is not None:
            events.append(Event(time.time(), f"worker {cluster.workers_started} had exited by itself (code {code})"))
        found = analyse(started, list(finished), executions, history, read_record(cluster.record), events, t0)
        report(found, args, time.monotonic() - began)
        ok = not found.failed
        if not ok:
            print("  last lines of the current worker's log:")
            print(cluster.log_tail(f"worker{cluster.workers_started}"))
        if args.keep:
            print(f"kept: {cluster.tmp} (target.jsonl, temporal.log, worker*.log, chaos.log)")
        return ok


def _log_to(path: Path) -> None:
    """The SDK's and its Rust core's warnings (the client retrying while the server is down) go to a file."""
    logging.basicConfig(filename=path, level=logging.WARNING)
    core = LoggingConfig(filter="WARN", forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")))
    Runtime.set_default(Runtime(telemetry=TelemetryConfig(logging=core)), error_if_already_set=False)


async def _never_started() -> Finished:
    return Finished()


async def chaos_until_stopped(args: argparse.Namespace) -> bool:
    """The check, cancelled by SIGINT, SIGTERM or the deadline; cancelling unwinds into the cleanup."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    async with asyncio.timeout(args.deadline):
        return await chaos(args)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.chaos",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--runs", type=int, default=50, help="runs to start")
    parser.add_argument("--seed", type=int, default=8, help="seed of the runs' delays, target sleeps and ids")
    parser.add_argument("--deadline", type=float, default=230.0, help="seconds the whole check may take")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder with the logs and the record")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    try:
        ok = asyncio.run(chaos_until_stopped(args))
    except asyncio.CancelledError:
        sys.exit("chaos check interrupted; everything it started is stopped")
    except TimeoutError:
        sys.exit(f"chaos check took longer than --deadline {args.deadline:g} s; everything it started is stopped")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
