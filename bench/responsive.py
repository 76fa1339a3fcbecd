"""How quickly the API answers about and to runs that are inside a slow or failing HTTP step: GET
/api/runs/{id}, an approval whose gate is followed by such a step, and a cancel; and GET of a closed run.

    .venv/bin/python -m bench.responsive [--runs 8] [--seconds 20] [--api-root DIR]

The stack is bench.throughput's (a dev server, the API with its embedded worker, each a process of ours) plus
tests.fakes.target in its own process as the slow (5 s) and failing (500) target. Four kinds of run keep
arriving: a gate then a slow GET, a gate then a failing GET (retried every second), and both GETs without a
gate, whose first attempt is the local one. Each gate is approved as soon as it waits, and every run is
cancelled once it has been inside its step for a while; in between, sequential GETs read random runs that are
inside their step. Figures are latencies seen by the client, in ms.
"""

import argparse
import asyncio
import os
import random
import shlex
import statistics
import sys
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.throughput import FOUNDER_TOKEN, _spawn, free_port, percentile, running_stack, stop, wait_for_port

TARGET_P99_MS = 100.0
CLIENT_TIMEOUT_S = 10.0
SLOW_S = 5
GATE = {"id": "gate", "type": "approval", "class": "B", "message": "Go on?"}
RETRY_EVERY_SECOND = {"max_attempts": 10, "initial_interval_s": 1, "backoff": 1, "max_interval_s": 1}


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def steps(target: str, kind: str) -> list[dict]:
    slow = {"id": "call", "type": "http_request", "url": f"{target}/slow?seconds={SLOW_S}", "timeout_s": 10}
    failing = {
        "id": "call",
        "type": "http_request",
        "url": f"{target}/status/500",
        "timeout_s": 5,
        "retry": RETRY_EVERY_SECOND,
    }
    call = slow if kind.startswith("slow") else failing
    return [GATE, call] if kind.endswith("after gate") else [{"id": "hello", "type": "log", "message": "hi"}, call]


KINDS = ("slow after gate", "failing after gate", "slow", "failing")


@dataclass
class Latencies:
    by_name: dict[str, list[float]] = field(default_factory=dict)

    async def timed(self, name: str, call: Awaitable[httpx.Response], *expect: int) -> httpx.Response:
        began = time.perf_counter()
        try:
            response = await call
        finally:  # a call that times out counts, at the client's timeout
            self.by_name.setdefault(name, []).append((time.perf_counter() - began) * 1000)
        if response.status_code not in expect:
            raise RuntimeError(f"{name} answered {response.status_code}: {response.text[:300]}")
        return response


@dataclass
class Bench:
    http: httpx.AsyncClient
    admin: dict[str, str]
    workflows: dict[str, str]
    seen: Latencies = field(default_factory=Latencies)
    inside: dict[str, float] = field(default_factory=dict)  # run id -> when it was seen inside its step
    closed: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    timeouts: list[str] = field(default_factory=list)
    load_before: str = field(default_factory=lambda: load())

    async def get(self, run_id: str, name: str) -> dict:
        return (await self.seen.timed(name, self.http.get(f"/api/runs/{run_id}", headers=self.admin), 200)).json()

    async def one_run(self, kind: str, hold_s: float) -> None:
        """Starts a run of `kind`, approves its gate when it waits, lets it sit in its step, cancels it. A call
        that times out is noted (and counted at the client's timeout) and the run goes on to its cancel."""
        started = await self.http.post(f"/api/workflows/{self.workflows[kind]}/runs", json={}, headers=self.admin)
        run_id = started.json()["run_id"]
        self.kinds[run_id] = kind
        try:
            if kind.endswith("after gate"):
                while (await self.get(run_id, "GET while waiting at a gate (not a target)"))["waiting"] is None:
                    await asyncio.sleep(0.05)
                decide = self.http.post(
                    f"/api/runs/{run_id}/approvals/gate", json={"decision": "approve"}, headers=self.admin
                )
                await self.seen.timed(f"approve a gate before a {kind.split()[0]} HTTP step", decide, 200)
            self.inside[run_id] = time.perf_counter()
            await asyncio.sleep(hold_s)
        except httpx.TimeoutException:
            self.timeouts.append(f"{kind} run {run_id} before its cancel")
        finally:
            self.inside.pop(run_id, None)
        try:
            cancel = self.http.post(f"/api/runs/{run_id}/cancel", headers=self.admin)
            # 409: the run ended first (a step that gave up): still an answer, and timed.
            await self.seen.timed("cancel a run inside an HTTP step", cancel, 202, 409)
        except httpx.TimeoutException:
            self.timeouts.append(f"cancel of {kind} run {run_id}")
        self.closed.append(run_id)

    async def reader(self, until: float) -> None:
        """Sequential GETs of random runs that are inside their HTTP step."""
        while time.perf_counter() < until:
            if self.inside:
                run_id = random.choice(list(self.inside))
                try:
                    await self.get(run_id, "GET /api/runs/{id} inside an HTTP step")
                except httpx.TimeoutException:
                    self.timeouts.append(f"GET of {self.kinds[run_id]} run {run_id}")
            await asyncio.sleep(0.02)


async def arrivals(bench: Bench, args: argparse.Namespace) -> None:
    """`args.runs` runs of each kind, starting at random times over the first half of the window, each held
    inside its step for 2-4 s (inside the slow step's 5 s), all at most `args.runs * 4` at once."""
    half = args.seconds / 2

    async def later(kind: str) -> None:
        await asyncio.sleep(random.uniform(0, half))
        await bench.one_run(kind, random.uniform(2, 4))

    await asyncio.gather(*(later(kind) for kind in KINDS for _ in range(args.runs)))


async def warm_up(http: httpx.AsyncClient, admin: dict[str, str], target: str) -> None:
    """A few quick runs read until they close, so imports, connections and caches are warm before measuring."""
    steps = [
        {"id": "hello", "type": "log", "message": "hi"},
        {"id": "call", "type": "http_request", "url": target + "/json"},
    ]
    workflow_id = (await http.post("/api/workflows", json={"name": "warm", "steps": steps}, headers=admin)).json()["id"]
    for _ in range(5):
        run_id = (await http.post(f"/api/workflows/{workflow_id}/runs", json={}, headers=admin)).json()["run_id"]
        while True:
            read = await http.get(f"/api/runs/{run_id}", headers=admin)
            if read.status_code != 200:
                raise RuntimeError(f"GET /api/runs/{run_id} answered {read.status_code}: {read.text[:300]}")
            if read.json()["closed_at"] is not None:
                break
            await asyncio.sleep(0.05)


async def measure(args: argparse.Namespace) -> tuple["Bench", str]:
    with running_stack(args) as stack:
        port = free_port()
        target = _spawn(
            [sys.executable, "-m", "tests.fakes.target", str(port)],
            stack.tmp / "slow-target.log",
            cwd=Path(__file__).resolve().parent.parent,
        )
        try:
            wait_for_port(port, target, "the slow/failing target")
            async with httpx.AsyncClient(base_url=stack.api_url, timeout=CLIENT_TIMEOUT_S) as http:
                founder = {"Authorization": f"Bearer {FOUNDER_TOKEN}"}
                tenant = await http.post(
                    "/api/tenants", json={"name": "responsive", "plan": "enterprise"}, headers=founder
                )
                admin = {"Authorization": f"Bearer {tenant.json()['api_key']['key']}"}
                workflows = {}
                for kind in KINDS:
                    body = {"name": kind, "steps": steps(f"http://127.0.0.1:{port}", kind)}
                    workflows[kind] = (await http.post("/api/workflows", json=body, headers=admin)).json()["id"]
                bench = Bench(http, admin, workflows)
                await warm_up(http, admin, f"http://127.0.0.1:{port}")
                until = time.perf_counter() + args.seconds
                await asyncio.gather(arrivals(bench, args), bench.reader(until))
                await asyncio.sleep(1)  # the cancellations land
                for run_id in bench.closed:
                    await bench.get(run_id, "GET /api/runs/{id} of a closed (cancelled) run")
        finally:
            stop(target)
        return bench, stack.database_url.split(":", 1)[0]


TARGETED = (
    "GET /api/runs/{id} inside an HTTP step",
    "approve a gate before a slow HTTP step",
    "approve a gate before a failing HTTP step",
    "cancel a run inside an HTTP step",
    "GET /api/runs/{id} of a closed (cancelled) run",
)


def report(bench: Bench, args: argparse.Namespace, database: str) -> None:
    seen = bench.seen
    command = " ".join([".venv/bin/python -m bench.responsive", *map(shlex.quote, sys.argv[1:])])
    print()
    print(f"Levqor responsiveness: {args.runs} runs of each of {len(KINDS)} kinds over {args.seconds:g} s")
    print(f"command: {command}  (app db {database}; targets: slow {SLOW_S} s, failing 500 retried every 1 s)")
    print(f"machine: nproc={os.cpu_count()}, load average (1, 5, 15 min) before: {bench.load_before}, after: {load()}")
    print()
    print(f"  {'':52}{'n':>5}{'p50':>10}{'p99':>10}{'max':>10}   target p99 <= {TARGET_P99_MS:g} ms")
    for name, values in sorted(seen.by_name.items(), key=lambda item: item[0] not in TARGETED):
        p99 = percentile(values, 0.99)
        verdict = ("met" if p99 <= TARGET_P99_MS else "MISSED") if name in TARGETED else "(not a target)"
        print(
            f"  {name:52}{len(values):5d}{statistics.median(values):7.1f} ms{p99:7.1f} ms"
            f"{max(values):7.1f} ms   {verdict}"
        )
    if bench.timeouts:
        print(
            f"  GETs that timed out after {CLIENT_TIMEOUT_S:g} s (counted above at that): {', '.join(bench.timeouts)}"
        )
    print()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.responsive", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=8, help="runs of each kind")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long runs keep arriving and GETs read")
    parser.add_argument("--seed", type=int, default=11, help="random seed of the arrival times and GET order")
    parser.add_argument("--api-root", metavar="DIR", help="run the API from this copy of the code (A/B)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder with the logs")
    args = parser.parse_args()
    # What bench.throughput's running_stack reads, at its defaults.
    args.api_env, args.bytecode_cache, args.no_embedded_worker, args.workers = [], False, False, 0
    return args


def main() -> None:
    args = parse_args()
    random.seed(args.seed)
    try:
        bench, database = asyncio.run(asyncio.wait_for(measure(args), args.seconds + 150))
    except TimeoutError:
        sys.exit("bench.responsive took too long; everything it started is stopped")
    report(bench, args, database)


if __name__ == "__main__":
    main()
