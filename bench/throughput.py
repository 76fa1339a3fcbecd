"""Throughput of the 3-step run (log -> HTTP GET -> condition) through both public entry points — `POST
/api/workflows/{id}/runs` awaited to completion, and an inbound webhook that waits for the result — against the
same steps hand-written on Temporal "the fast way" (bench/handwritten.py), on one fresh dev server.

    .venv/bin/python -m bench.throughput [--runs 200] [--reps 3] [--idle-runs 30] [--py-spy PATH]

Everything runs on 127.0.0.1 and is torn down at the end: a headless Temporal dev server on a temp SQLite
file, an HTTP target in its own process (a raw asyncio protocol, so it costs little CPU), and the API as a
separate uvicorn process with its embedded worker (eager start). The bench process starts runs (httpx for
the API, the Temporal client for the baseline, whose worker lives here), awaits every run with
`handle.result()`, and samples the CPU time of each process from /proc. The hand-written worker gets as many
workflow-task slots as the platform's (MAX_WORKFLOW_TASK_CONCURRENCY), so both sides can start every run eagerly. Figures are medians over `--reps`
alternating repetitions, each side warmed up first.
"""

import argparse
import asyncio
import contextlib
import ctypes
import logging
import math
import os
import platform
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol, cast

import httpx
import temporalio
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from bench.handwritten import Fetcher, HandwrittenInput, HandwrittenRun
from core.db import migrate
from core.settings import Settings
from schemas.runs import RUN_WORKFLOW_PREFIX
from temporal.devserver import start_dev_server, stop, wait_until_serving

FOUNDER_TOKEN = "bench-founder-token-0123456789abcdef"
PLATFORM_QUEUE = "bench-platform"
HANDWRITTEN_QUEUE = "bench-handwritten"
# How many attempts the platform's HTTP step took: more than 1 means its local first attempt did not answer
# within the budget (orchestrator/user_run.py LOCAL_HTTP_BUDGET) and a regular activity finished the call.
FETCH_ATTEMPTS: list[Counter[int]] = []
TARGETS = {"ratio": 0.9, "idle_gap_ms": 5.0, "cpu_ms_per_run": 8.0}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PR_SET_PDEATHSIG = 1
SETTLE_S = 0.5
CONNECTIONS_PER_CLIENT = 10
CEILING_TIMEOUT = timedelta(seconds=30)
TARGET_BODY = b'{"value": 42, "items": [1, 2, 3]}'
TARGET_REPLY = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(TARGET_BODY)
) + TARGET_BODY


def definition(target_url: str) -> dict[str, Any]:
    return {
        "name": "bench",
        "steps": [
            {"id": "hello", "type": "log", "message": "start {{ input.n }}"},
            {"id": "fetch", "type": "http_request", "url": target_url, "timeout_s": 5},
            {
                "id": "check",
                "type": "condition",
                "expression": "steps.fetch.status == 200",
                "then": "end",
                "else": "end",
            },
        ],
    }


# ---------------------------------------------------------------- the HTTP target (its own process)


class _TargetProtocol(asyncio.Protocol):
    """Answers every HTTP/1.1 request on a kept-alive connection with the same small JSON body."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # a stream server's transports are Transports
        self._buffer = b""

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (end := self._buffer.find(b"\r\n\r\n")) >= 0:
            head = self._buffer[:end].lower()
            marker = head.find(b"content-length:")
            length = int(head[marker + 15 :].split(b"\r\n", 1)[0]) if marker >= 0 else 0
            if len(self._buffer) < end + 4 + length:
                return
            self._buffer = self._buffer[end + 4 + length :]
            self._transport.write(TARGET_REPLY)


async def serve_target(port: int) -> None:
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopped.set)
    server = await loop.create_server(_TargetProtocol, "127.0.0.1", port, backlog=2048)
    async with server:
        await stopped.wait()


# ---------------------------------------------------------------- processes and CPU accounting


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stat_fields(path: str) -> list[str]:
    text = Path(path).read_text()
    return text[text.rfind(")") + 2 :].split()


def _cpu_of(path: str) -> float:
    """utime + stime in seconds, from a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat file."""
    fields = _stat_fields(path)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                children[int(_stat_fields(f"/proc/{entry.name}/stat")[1])].append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _machine_busy() -> float:
    """CPU seconds spent busy by the whole machine since boot (every process, ours or not)."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLOCK_TICKS


@dataclass
class CpuSample:
    at: float
    machine: float
    roles: dict[str, float]  # role -> CPU seconds, descendants included
    threads: dict[str, float]  # "<role>: event-loop thread" / "<role>: other threads" -> CPU seconds


class CpuMeter:
    """Samples the CPU seconds of the processes we started (and of this one) around a measured window."""

    def __init__(self, pids: dict[str, int], split_threads: tuple[str, ...]) -> None:
        self._pids, self._split = pids, split_threads

    def sample(self) -> CpuSample:
        roles: dict[str, float] = {}
        threads: dict[str, float] = {}
        for role, pid in self._pids.items():
            total = 0.0
            # The bench process is the parent of the others: count only itself.
            for member in [pid] if pid == os.getpid() else _descendants(pid):
                with contextlib.suppress(OSError):
                    total += _cpu_of(f"/proc/{member}/stat")
            roles[role] = total
            if role in self._split:
                with contextlib.suppress(OSError):
                    main = _cpu_of(f"/proc/{pid}/task/{pid}/stat")
                    threads[f"{role}: event-loop thread"] = main
                    threads[f"{role}: other threads"] = _cpu_of(f"/proc/{pid}/stat") - main
        return CpuSample(time.perf_counter(), _machine_busy(), roles, threads)


@dataclass
class CpuUse:
    """CPU seconds per role accumulated over measured windows; `cores` divides by their wall time."""

    wall: float = 0.0
    runs: int = 0
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, before: CpuSample, after: CpuSample, runs: int) -> None:
        self.wall += after.at - before.at
        self.runs += runs
        for role in before.roles:
            self.seconds[role] += after.roles[role] - before.roles[role]
        for name in before.threads:
            self.seconds[name] += after.threads.get(name, 0.0) - before.threads[name]
        self.seconds["machine busy (all processes)"] += after.machine - before.machine

    def cores(self, name: str) -> float | None:
        return self.seconds[name] / self.wall if self.wall and name in self.seconds else None

    def ms_per_run(self, name: str) -> float | None:
        return self.seconds[name] * 1000 / self.runs if self.runs and name in self.seconds else None


# ---------------------------------------------------------------- the stack under test


@dataclass
class Stack:
    tmp: Path
    temporal_address: str
    api_url: str
    target_url: str
    database_url: str
    pids: dict[str, int]
    api_log: Path


def _spawn(
    args: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    # preexec_fn is safe here: processes are spawned before this process starts any thread (the Temporal
    # client's come later), and it makes a killed bench take its API and target with it.
    with log.open("ab") as out:
        return subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            preexec_fn=_die_with_parent,
        )


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} is not listening on {port} after {timeout_s} s")
        time.sleep(0.05)


def _wait_for_api(url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited with code {process.returncode}:\n{_tail(log)}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/api/system/pulse", timeout=2).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the API is not serving after {timeout_s} s:\n{_tail(log)}")
        time.sleep(0.1)


def _tail(log: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    return ""


@contextlib.contextmanager
def running_stack(args: argparse.Namespace) -> Iterator[Stack]:
    """Dev server, HTTP target and API, each a process of ours; all stopped on the way out, even on error."""
    with contextlib.ExitStack() as cleanup:
        tmp = Path(tempfile.mkdtemp(prefix="levqor-bench-"))
        if not args.keep:
            cleanup.callback(shutil.rmtree, tmp, ignore_errors=True)
        temporal_port, target_port, api_port = free_port(), free_port(), free_port()

        temporal = start_dev_server(
            tmp / "temporal.db", port=temporal_port, ui_port=None, log_file=tmp / "temporal.log"
        )
        cleanup.callback(stop, temporal)
        address = f"127.0.0.1:{temporal_port}"
        wait_until_serving(address, 30, temporal)

        target = _spawn(
            [sys.executable, "-m", "bench.throughput", "--serve-target", str(target_port)],
            tmp / "target.log",
            cwd=Path(__file__).resolve().parent.parent,
        )
        cleanup.callback(stop, target)
        wait_for_port(target_port, target, "the HTTP target")

        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'levqor.db'}"
        migrate(database_url)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": address,
            "TEMPORAL_NAMESPACE": "default",
            "TASK_QUEUE": PLATFORM_QUEUE,
            "LEVQOR_FOUNDER_TOKEN": FOUNDER_TOKEN,
            "LEVQOR_HTTP_ALLOW_PRIVATE": "true",
            "API_HOST": "127.0.0.1",
            "API_PORT": str(api_port),
            "API_EMBEDDED_WORKER": "false" if args.no_embedded_worker else "true",
            **dict(pair.partition("=")[::2] for pair in args.api_env),
        }
        if args.bytecode_cache:
            env |= {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(tmp / "pycache")}
            sys.dont_write_bytecode, sys.pycache_prefix = False, str(tmp / "pycache")
        if args.api_root:  # a scratch copy of the code, for experiments: it shadows the editable install
            env["PYTHONPATH"] = str(Path(args.api_root).resolve())
        api_log = tmp / "api.log"
        # cwd is the temp folder, so no `.env` of the checkout leaks into the API's settings.
        api = _spawn([sys.executable, "-m", "api"], api_log, env=env, cwd=tmp)
        cleanup.callback(stop, api)
        api_url = f"http://127.0.0.1:{api_port}"
        _wait_for_api(api_url, api, api_log)
        pids = {"temporal server": temporal.pid, "api process": api.pid}
        for number in range(1, args.workers + 1):  # the compose layout: worker processes on the same queue
            worker = _spawn(
                [sys.executable, "-m", "orchestrator.worker"], tmp / f"worker{number}.log", env=env, cwd=tmp
            )
            cleanup.callback(stop, worker)
            pids[f"worker process {number}"] = worker.pid
        pids |= {"bench process": os.getpid(), "http target": target.pid}

        yield Stack(tmp, address, api_url, f"http://127.0.0.1:{target_port}/json", database_url, pids, api_log)


# ---------------------------------------------------------------- measuring


@dataclass
class Burst:
    wall_s: float
    start_ms: list[float]
    workflow_ids: list[str]
    eager: int | None = None  # runs the client saw start eagerly, when it can tell

    @property
    def runs_per_s(self) -> float:
        return len(self.start_ms) / self.wall_s


class Started(Protocol):
    """A started run: a workflow handle, or a webhook's answer that already holds the result."""

    @property
    def id(self) -> str: ...

    async def result(self) -> Any: ...


@dataclass
class Answered:
    """A webhook delivery answered with its run's result: nothing left to wait for."""

    id: str
    value: Any

    async def result(self) -> Any:
        return self.value


StartRun = Callable[[int], Awaitable[Started]]
CheckResult = Callable[[Any], bool]


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


async def burst(start: StartRun, check: CheckResult, runs: int, timeout_s: float) -> Burst:
    """`runs` starts at once; wall time from the first start to the last completion."""

    async def one(n: int) -> tuple[float, float, Started]:
        began = time.perf_counter()
        handle = await start(n)
        started = time.perf_counter()
        result = await handle.result()
        if not check(result):
            raise RuntimeError(f"run {handle.id} ended wrongly: {result!r}")
        return started - began, time.perf_counter(), handle

    first = time.perf_counter()
    async with asyncio.timeout(timeout_s):
        outcomes = await asyncio.gather(*(one(n) for n in range(runs)))
    wall = max(done for _, done, _ in outcomes) - first
    eager = [getattr(handle, "__temporal_eagerly_started", None) for _, _, handle in outcomes]
    return Burst(
        wall,
        [latency * 1000 for latency, _, _ in outcomes],
        [handle.id for _, _, handle in outcomes],
        None if None in eager else sum(bool(flag) for flag in eager),
    )


async def idle_runs(start: StartRun, check: CheckResult, runs: int, timeout_s: float) -> list[float]:
    """End-to-end latency (start call -> completed) of `runs` sequential runs on an otherwise idle stack."""
    latencies = []
    async with asyncio.timeout(timeout_s):
        for _ in range(runs):
            began = time.perf_counter()
            handle = await start(0)  # run 0 each time: the platform side then reuses one kept-alive connection
            if not check(await handle.result()):
                raise RuntimeError(f"run {handle.id} did not complete as expected")
            latencies.append((time.perf_counter() - began) * 1000)
    return latencies


async def eager_accepted(client: Client, workflow_ids: list[str]) -> int:
    """How many of these runs the server says it started eagerly (from their first history event)."""
    accepted = 0
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        accepted += history.events[0].workflow_execution_started_event_attributes.eager_execution_accepted
    return accepted


@dataclass
class Side:
    name: str
    start: StartRun
    check: CheckResult
    before_burst: Callable[[], Awaitable[None]]
    bursts: list[Burst] = field(default_factory=list)
    idle_p50s: list[float] = field(default_factory=list)
    cpu: CpuUse = field(default_factory=CpuUse)

    def median(self, value: Callable[[Burst], float]) -> float:
        return statistics.median(value(b) for b in self.bursts)


async def measure(side: Side, meter: CpuMeter, args: argparse.Namespace) -> None:
    await side.before_burst()
    await asyncio.sleep(SETTLE_S)
    before = meter.sample()
    result = await burst(side.start, side.check, args.runs, args.phase_timeout)
    after = meter.sample()
    side.cpu.add(before, after, args.runs)
    side.bursts.append(result)
    await asyncio.sleep(SETTLE_S)
    side.idle_p50s.append(
        statistics.median(await idle_runs(side.start, side.check, args.idle_runs, args.phase_timeout))
    )


async def warm_up(side: Side, args: argparse.Namespace) -> None:
    await idle_runs(side.start, side.check, args.warmup, args.phase_timeout)
    await side.before_burst()
    await burst(side.start, side.check, args.runs, args.phase_timeout)


# ---------------------------------------------------------------- the sides


async def platform_sides(
    stack: Stack, https: list[httpx.AsyncClient], temporal: Client, runs: int, plan: str
) -> tuple[Side, Side]:
    """The platform through its two public entry points, on one tenant and one workflow: `POST .../runs`
    (then awaiting the run in Temporal) and the workflow's webhook with `wait_for_result`."""
    http = https[0]
    founder = {"Authorization": f"Bearer {FOUNDER_TOKEN}"}
    created = await http.post("/api/tenants", json={"name": "bench", "plan": plan}, headers=founder)
    _expect(created, 201)
    tenant = {"Authorization": f"Bearer {created.json()['api_key']['key']}"}
    workflow = await http.post("/api/workflows", json=definition(stack.target_url), headers=tenant)
    _expect(workflow, 201)
    workflow_id = workflow.json()["id"]
    runs_path = f"/api/workflows/{workflow_id}/runs"
    hook = await http.put(
        f"/api/workflows/{workflow_id}/webhook", json={"wait_for_result": True, "wait_timeout_s": 30}, headers=tenant
    )
    _expect(hook, 201)
    hook_path = f"/api/hooks/{hook.json()['token']}"

    async def start(n: int) -> Started:
        response = await https[n % len(https)].post(runs_path, json={"input": {"n": n}}, headers=tenant)
        _expect(response, 202)
        return temporal.get_workflow_handle(response.json()["workflow_id"])

    async def deliver(n: int) -> Started:
        response = await https[n % len(https)].post(hook_path, json={"n": n})
        _expect(response, 200)  # 202 would mean the run did not finish within the hook's wait
        answer = response.json()
        return Answered(f"{RUN_WORKFLOW_PREFIX}{answer['run_id']}", answer)

    async def open_connections() -> None:
        # Keep-alive connections for every concurrent start, so the burst measures the API, not TCP set-up.
        await asyncio.gather(*(https[n % len(https)].get("/api/system/pulse") for n in range(runs)))

    attempts: Counter[int] = Counter()  # the HTTP step's attempts, over both entry points

    def check(result: Any) -> bool:
        attempts[result["steps"][1]["attempts"]] += 1
        return result.get("status") == "completed" and result["steps"][1]["result"]["status"] == 200

    FETCH_ATTEMPTS.append(attempts)
    return (
        Side("platform (API)", start, check, open_connections),
        Side("platform (webhook)", deliver, check, open_connections),
    )


def handwritten_side(temporal: Client, target_url: str) -> Side:
    async def start(n: int) -> Started:
        return await temporal.start_workflow(
            HandwrittenRun.run,
            HandwrittenInput(n=n, url=target_url),
            id=f"hand-{uuid.uuid4()}",
            task_queue=HANDWRITTEN_QUEUE,
            request_eager_start=True,
        )

    async def nothing() -> None:
        return None

    return Side("hand-written Temporal", start, lambda result: result.ok, nothing)


def _expect(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:500]}"
        )


# ---------------------------------------------------------------- py-spy on the API (optional)


async def profile_api(py_spy: str, api_pid: int, side: Side, args: argparse.Namespace, out: Path) -> str:
    """Two extra platform bursts (not in the table) with py-spy sampling the API; a summary of where it spends."""
    raw = out / "api.pyspy.txt"
    # --gil: only samples of the thread holding the GIL, i.e. what the API's Python is busy with.
    spy = await asyncio.create_subprocess_exec(
        py_spy,
        "record",
        "--pid",
        str(api_pid),
        "--rate",
        "250",
        "--format",
        "raw",
        "--gil",
        "--nonblocking",
        "--output",
        str(raw),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        await asyncio.sleep(1.0)
        began = time.perf_counter()
        for _ in range(2):
            await side.before_burst()
            await burst(side.start, side.check, args.runs, args.phase_timeout)
        seconds = time.perf_counter() - began
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        _, errors = await asyncio.wait_for(spy.communicate(), 30)
    if not raw.exists():
        return f"py-spy wrote nothing: {errors.decode(errors='replace')[-500:]}"
    return summarize_profile(raw.read_text(), 250, seconds)


PROFILE_BUCKETS = {
    "workflow sandbox, all": ("workflow_sandbox/",),
    "  of which re-importing the workflow module": ("Importer._import (",),
    "workflow code + SDK activations (sandbox included)": ("temporalio/worker/_workflow",),
    "local activity (HTTP step) incl. httpx": ("temporalio/worker/_activity",),
    "HTTP serving: uvicorn protocol + Starlette/FastAPI": ("uvicorn/protocols", "starlette/", "fastapi/"),
    "  FastAPI dependency solving": ("solve_dependencies (",),
    "  threadpool hops (sync deps, run_in_threadpool)": ("anyio/to_thread", "concurrent/futures/thread"),
    "  SQLAlchemy / SQLModel / sqlite (auth + definition)": ("sqlalchemy/", "sqlmodel/", "sqlite3/"),
    "  Temporal client start_workflow + converter": ("temporalio/client/", "temporalio/converter/"),
    "pydantic": ("pydantic/", "pydantic_core"),
    "logging / structlog": ("logging/__init__", "structlog/"),
}


def summarize_profile(raw: str, rate: int, seconds: float) -> str:
    """Inclusive share per bucket and the top self-time functions, over every sampled thread."""
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        for bucket, needles in PROFILE_BUCKETS.items():
            if any(needle in stack for needle in needles):
                inclusive[bucket] += count
        leaf = frames[-1]
        name, _, where = leaf.partition(" (")
        leaves[f"{name} ({where.rsplit(':', 1)[0].split('site-packages/')[-1]})"] += count
    if not total:
        return "py-spy sampled nothing"
    cores = total / rate / seconds
    lines = [
        f"  {total} samples at {rate} Hz over {seconds:.1f} s = {cores:.2f} cores of GIL-holding Python in the API",
        "  inclusive share of samples:",
    ]
    lines += [f"    {inclusive[bucket] / total:6.1%}  {bucket}" for bucket in PROFILE_BUCKETS]
    lines.append("  top self-time functions:")
    lines += [f"    {share / total:6.1%}  {leaf}" for leaf, share in leaves.most_common(15)]
    return "\n".join(lines)


async def server_ceiling(temporal: Client, meter: CpuMeter, runs: int) -> tuple[float, CpuUse]:
    """Bare StartWorkflowExecution calls per second the dev server takes, `runs` at once, with no worker
    on their queue and no eager start: the most any side could start, before running anything."""
    before = meter.sample()
    await asyncio.gather(
        *(
            temporal.start_workflow(
                "BenchNobody",
                id=f"ceiling-{uuid.uuid4()}",
                task_queue="bench-nobody",
                execution_timeout=CEILING_TIMEOUT,
            )
            for _ in range(runs)
        )
    )
    after = meter.sample()
    use = CpuUse()
    use.add(before, after, runs)
    return runs / use.wall, use


# ---------------------------------------------------------------- report


def report(
    sides: list[Side],
    args: argparse.Namespace,
    stack: Stack,
    profile: str | None,
    eager_platform: str,
    ceiling: tuple[float, CpuUse],
    loads: list[str],
) -> None:
    *platforms, handwritten = sides
    hand_rate, hand_idle = handwritten.median(lambda b: b.runs_per_s), statistics.median(handwritten.idle_p50s)
    command = " ".join([".venv/bin/python -m bench.throughput", *map(shlex.quote, sys.argv[1:])])
    print()
    print(
        f"Levqor throughput: {args.runs} concurrent runs (log -> HTTP GET -> condition), median of "
        f"{args.reps} alternating reps; idle: {args.idle_runs} sequential runs"
    )
    print(
        f"machine: nproc={os.cpu_count()} ({platform.processor() or platform.machine()}), Python "
        f"{platform.python_version()}, temporalio {temporalio.__version__}, app db "
        f"{stack.database_url.split(':', 1)[0]}"
    )
    print(f"command: {command}")
    print(f"load average (1, 5, 15 min) before each rep: {'; '.join(loads)}")
    print()
    print(f"  {'':28}{'runs/s':>9}{'start p50':>12}{'start p99':>12}{'idle run p50':>15}")
    for side in sides:
        print(
            f"  {side.name:28}{side.median(lambda b: b.runs_per_s):9.1f}"
            f"{side.median(lambda b: percentile(b.start_ms, 0.5)):9.1f} ms"
            f"{side.median(lambda b: percentile(b.start_ms, 0.99)):9.1f} ms"
            f"{statistics.median(side.idle_p50s):12.1f} ms"
        )
    for side in platforms:
        print(f"  {side.name + ' / hand-written':40}{side.median(lambda b: b.runs_per_s) / hand_rate:9.2f}")
    print("    (a webhook's start is its whole answer: the run is finished when the delivery returns)")
    for side in sides:
        per_rep = ", ".join(f"{b.runs_per_s:.1f}" for b in side.bursts)
        idles = ", ".join(f"{value:.1f}" for value in side.idle_p50s)
        print(f"    {side.name}: runs/s per rep [{per_rep}]; idle p50 per rep [{idles}] ms")
    hand_eager = [b.eager for b in handwritten.bursts]
    print(
        f"    eager start (the rest went through the task queue): platform (API) {eager_platform}; "
        f"hand-written {hand_eager} of {args.runs} per burst"
    )
    for attempts in FETCH_ATTEMPTS:
        more = sum(count for number, count in attempts.items() if number > 1)
        print(
            f"    platform HTTP steps that needed more than their local first attempt: {more} of "
            f"{sum(attempts.values())} (warm-up, bursts and idle runs)"
        )
    ours = ["api process", *(name for name in stack.pids if name.startswith("worker process"))]
    print()
    print("  targets")
    for side in platforms:
        ratio = side.median(lambda b: b.runs_per_s) / hand_rate
        gap = statistics.median(side.idle_p50s) - hand_idle
        cpu = sum(side.cpu.ms_per_run(name) or 0.0 for name in ours)
        checks = [
            (f"{side.name} >= {TARGETS['ratio']} x hand-written", f"{ratio:.2f} x", ratio >= TARGETS["ratio"]),
            (
                f"{side.name} idle p50 <= hand-written + {TARGETS['idle_gap_ms']:.0f} ms",
                f"{gap:+.1f} ms",
                gap <= TARGETS["idle_gap_ms"],
            ),
            (
                f"{side.name} API + worker CPU <= {TARGETS['cpu_ms_per_run']:.0f} ms/run",
                f"{cpu:.1f} ms",
                cpu <= TARGETS["cpu_ms_per_run"],
            ),
        ]
        for label, value, met in checks:
            print(f"    {label:56}{value:>10}   {'met' if met else 'MISSED'}")
    print()
    print(
        f"  CPU during the {args.runs}-run bursts: cores (CPU s / wall s; this machine has "
        f"{os.cpu_count()}) and CPU ms per run"
    )
    print(f"  {'':40}" + "".join(f"{side.name.removeprefix('platform '):>16}" for side in sides))
    print(f"  {'':40}" + f"{'cores  ms/run':>16}" * len(sides))
    names = [
        *stack.pids,
        *sorted(n for n in sides[0].cpu.seconds if ":" in n),
        "machine busy (all processes)",
    ]
    for name in names:
        cells = ""
        for side in sides:
            cores, per_run = side.cpu.cores(name), side.cpu.ms_per_run(name)
            cells += f"{'-':>16}" if cores is None or per_run is None else f"{cores:10.2f}{per_run:6.1f}"
        print(f"  {name:40}{cells}")
    print(
        "    bench process = load generator (httpx starts, result() waits) and, for the hand-written side, its"
        " worker; other threads = the SDK's workflow-task threads, Temporal core (Rust) threads, threadpool"
    )
    for side in sides:
        mine = sum(side.cpu.seconds.get(name, 0.0) for name in stack.pids)
        other = side.cpu.seconds["machine busy (all processes)"] - mine
        print(
            f"    other processes on the machine (not ours) during {side.name} bursts: "
            f"{other / side.cpu.wall:.2f} cores"
        )
    rate, use = ceiling
    print(
        f"  dev-server ceiling: {rate:.0f} bare starts/s ({args.runs} StartWorkflowExecution at once, no worker, "
        f"no eager), server {use.cores('temporal server'):.2f} cores = "
        f"{use.ms_per_run('temporal server'):.1f} CPU ms per start"
    )
    if profile:
        print()
        print("  py-spy on the API process during 2 extra platform bursts (not in the table):")
        print(profile)
    print()


# ---------------------------------------------------------------- main


async def bench(args: argparse.Namespace) -> None:
    with running_stack(args) as stack:
        _log_to(stack.tmp / "bench.log")
        temporal = await Client.connect(stack.temporal_address)
        # httpcore's pool scans every connection on each change: one client with 200 requests in flight
        # spent 16 ms of bench CPU per start, clients of 10 connections ~2 ms. uvicorn drops idle connections
        # after 5 s; expiring ours sooner avoids reusing one it is closing.
        limits = httpx.Limits(max_connections=CONNECTIONS_PER_CLIENT, keepalive_expiry=2.0)
        https = [
            httpx.AsyncClient(base_url=stack.api_url, limits=limits, timeout=60)
            for _ in range(math.ceil(args.runs / CONNECTIONS_PER_CLIENT))
        ]
        fetcher_http = httpx.AsyncClient(limits=httpx.Limits(max_connections=400, max_keepalive_connections=200))
        runner = UnsandboxedWorkflowRunner() if args.unsandboxed_baseline else None
        worker_options: dict[str, Any] = {"workflow_runner": runner} if runner else {}
        if not args.sdk_default_slots:  # as many workflow-task slots as the platform's worker: both start eagerly
            worker_options["max_concurrent_workflow_tasks"] = Settings.model_fields[
                "max_workflow_task_concurrency"
            ].default
        async with contextlib.AsyncExitStack() as clients:
            for client in [*https, fetcher_http]:
                await clients.enter_async_context(client)
            await clients.enter_async_context(
                Worker(
                    temporal,
                    task_queue=HANDWRITTEN_QUEUE,
                    workflows=[HandwrittenRun],
                    activities=[Fetcher(fetcher_http).fetch],
                    **worker_options,
                )
            )
            api, webhook = await platform_sides(stack, https, temporal, args.runs, args.plan)
            sides = [api, webhook, handwritten_side(temporal, stack.target_url)]
            meter = CpuMeter(stack.pids, split_threads=("api process", "bench process"))
            loads = await run_phases(sides, meter, args)
            last = api.bursts[-1].workflow_ids
            eager = f"{await eager_accepted(temporal, last)} of {len(last)} in its last burst"
            ceiling = await server_ceiling(temporal, meter, args.runs)
            profile = None
            if args.py_spy:
                profile = await profile_api(args.py_spy, stack.pids["api process"], api, args, stack.tmp)
        report(sides, args, stack, profile, eager, ceiling, loads)
        if args.keep:
            print(f"kept: {stack.tmp} (api.log, temporal.log, bench.log)")


async def run_phases(sides: list[Side], meter: CpuMeter, args: argparse.Namespace) -> list[str]:
    """Every side warmed up, then `reps` measures each, the order rotating each rep; answers the machine's
    load average before each rep."""
    for side in sides:
        await warm_up(side, args)
    loads = []
    for rep in range(args.reps):
        loads.append(" ".join(Path("/proc/loadavg").read_text().split()[:3]))
        for side in sides[rep % len(sides) :] + sides[: rep % len(sides)]:
            await measure(side, meter, args)
    return loads


def _log_to(path: Path) -> None:
    """The hand-written log step writes INFO records to a file, as the API's does to its log; the load
    generator's own httpx request lines stay out of it."""
    logging.basicConfig(filename=path, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.throughput",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--runs", type=int, default=200, help="concurrent runs per burst")
    parser.add_argument("--reps", type=int, default=3, help="measured bursts per side (alternating)")
    parser.add_argument("--idle-runs", type=int, default=30, help="sequential runs for the idle latency")
    parser.add_argument("--warmup", type=int, default=20, help="sequential warm-up runs per side (plus a burst)")
    parser.add_argument("--phase-timeout", type=float, default=60.0, help="seconds a burst or idle phase may take")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds the whole bench may take")
    parser.add_argument("--py-spy", metavar="PATH", help="py-spy binary: profile the API in 2 extra bursts")
    parser.add_argument(
        "--api-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for the API process (experiments), repeatable",
    )
    parser.add_argument("--api-root", metavar="DIR", help="run the API from this copy of the code (experiments)")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="worker processes (orchestrator.worker) to add on the API's queue (experiment)",
    )
    parser.add_argument(
        "--no-embedded-worker",
        action="store_true",
        help="API_EMBEDDED_WORKER=false: no eager start; needs --workers (experiment)",
    )
    parser.add_argument(
        "--unsandboxed-baseline",
        action="store_true",
        help="hand-written side without the workflow sandbox (experiment)",
    )
    parser.add_argument(
        "--sdk-default-slots",
        action="store_true",
        help="hand-written worker with the SDK's default workflow-task slots (100) instead of the platform's "
        "MAX_WORKFLOW_TASK_CONCURRENCY default: fewer of its starts are eager (experiment)",
    )
    parser.add_argument(
        "--bytecode-cache",
        action="store_true",
        help="let the API and this process write .pyc files (to the temp folder) even where "
        "PYTHONDONTWRITEBYTECODE is set: the sandbox then stops compiling the workflow "
        "module from source for every run (experiment)",
    )
    parser.add_argument(
        "--plan",
        default="enterprise",
        help="the bench tenant's plan: enterprise (unlimited: runs counted in memory) or one with limits (each "
        "start reserves its run in the database)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder with the logs")
    parser.add_argument("--serve-target", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser.parse_args()


def _event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def bench_until_stopped(args: argparse.Namespace) -> None:
    """The bench, cancelled by SIGINT, SIGTERM or the overall timeout: cancelling unwinds the worker and
    the clients first (while the servers still answer), then stops every process we started."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    await asyncio.wait_for(bench(args), args.timeout)


def main() -> None:
    args = parse_args()
    with asyncio.Runner(loop_factory=_event_loop) as runner:
        if args.serve_target:
            runner.run(serve_target(args.serve_target))
            return
        try:
            runner.run(bench_until_stopped(args))
        except asyncio.CancelledError:
            sys.exit("bench interrupted; everything it started is stopped")
        except TimeoutError:
            sys.exit(f"bench took longer than --timeout {args.timeout:g} s; everything it started is stopped")


if __name__ == "__main__":
    main()
