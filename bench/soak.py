"""Memory under steady load: the bench.throughput run (log -> HTTP GET -> condition) started through the
public API at a steady rate; the RSS of the dev server, the API and any worker processes sampled every few
seconds; after the warm-up, each must stay within +10 % of what it was when the warm-up ended.

    .venv/bin/python -m bench.soak [--rate 15] [--minutes 30] [--warmup-minutes 3] [--sample-s 5]

The stack is bench.throughput's (`running_stack`): a headless dev server on a temp SQLite file, the HTTP
target, the API with its embedded worker, `--workers N` worker processes. A process's RSS is the sum of
VmRSS over it and its descendants. `--dev-config KEY=VALUE` overrides a dev-server dynamic-config value of
temporal/devserver.py (an empty VALUE drops the key) and `--dev-env KEY=VALUE` sets its environment
(e.g. GOGC; an empty VALUE drops it too), for experiments.
"""

import argparse
import asyncio
import contextlib
import os
import platform
import shlex
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import temporalio
from temporalio.client import Client

from bench.throughput import (
    FOUNDER_TOKEN,
    CpuMeter,
    _descendants,
    _event_loop,
    _expect,
    definition,
    running_stack,
)
from temporal import devserver

GROWTH_LIMIT = 0.10
MEASURED = ("temporal server", "api process")  # and every "worker process N"
START_CONCURRENCY = 50


# ---------------------------------------------------------------- RSS


def rss_mb(root: int) -> float:
    """VmRSS of `root` and all its descendants, in MB."""
    total_kb = 0
    for pid in _descendants(root):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
                    break
    return total_kb / 1024


class RssMeter:
    """RSS of the stack's measured processes: the dev server, the API and the worker processes."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = {role: pid for role, pid in pids.items() if role in MEASURED or role.startswith("worker")}
        self.peak: dict[str, float] = {}

    def sample(self) -> dict[str, float]:
        values = {role: rss_mb(pid) for role, pid in self.pids.items()}
        values["total"] = sum(values.values())
        for role, value in values.items():
            self.peak[role] = max(self.peak.get(role, 0.0), value)
        return values


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---------------------------------------------------------------- the stack, with experiment overrides


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of bench.throughput's `running_stack`, plus the dev-server experiment overrides."""

    # A list of its own for each option: argparse appends to its default in place.
    def pairs() -> dict[str, Any]:
        return {"action": "append", "default": [], "metavar": "KEY=VALUE"}

    parser.add_argument("--api-env", help="environment for the API and worker processes, repeatable", **pairs())
    parser.add_argument("--dev-config", help="dev-server dynamic config (empty VALUE drops it), repeatable", **pairs())
    parser.add_argument("--dev-env", help="dev-server environment (empty VALUE drops it), repeatable", **pairs())
    parser.add_argument("--workers", type=int, default=0, help="worker processes besides the API's own")
    parser.add_argument("--no-embedded-worker", action="store_true", help="no worker in the API; needs --workers")
    parser.add_argument("--plan", default="enterprise", help="the bench tenant's plan")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder with the logs")
    parser.set_defaults(bytecode_cache=False, api_root=None)


def apply_dev_overrides(args: argparse.Namespace) -> dict[str, str]:
    """Applies --dev-config to the launcher's dynamic config and --dev-env to the environment it adds (an
    empty VALUE drops a key); returns the dynamic config the dev server will get."""
    for key, _, value in (pair.partition("=") for pair in args.dev_config):
        if value:
            devserver.DYNAMIC_CONFIG[key] = value
        else:
            devserver.DYNAMIC_CONFIG.pop(key, None)
    for key, _, value in (pair.partition("=") for pair in args.dev_env):
        if value:
            devserver.DEV_SERVER_ENV[key] = value
        else:
            devserver.DEV_SERVER_ENV.pop(key, None)
    return dict(devserver.DYNAMIC_CONFIG)


async def create_workflow(http: httpx.AsyncClient, steps: dict[str, Any], plan: str) -> tuple[dict[str, str], str]:
    """A fresh tenant (its first key is an admin's) and one workflow; the key's headers and the runs path."""
    founder = {"Authorization": f"Bearer {FOUNDER_TOKEN}"}
    created = await http.post("/api/tenants", json={"name": "bench", "plan": plan}, headers=founder)
    _expect(created, 201)
    tenant = {"Authorization": f"Bearer {created.json()['api_key']['key']}"}
    workflow = await http.post("/api/workflows", json=steps, headers=tenant)
    _expect(workflow, 201)
    return tenant, f"/api/workflows/{workflow.json()['id']}/runs"


def describe_setup(args: argparse.Namespace, dynamic_config: dict[str, str], command: str) -> list[str]:
    dev_env = " ".join(f"{key}={value}" for key, value in devserver.DEV_SERVER_ENV.items()) or "-"
    return [
        f"machine: nproc={os.cpu_count()} ({platform.processor() or platform.machine()}), Python "
        f"{platform.python_version()}, temporalio {temporalio.__version__}",
        f"command: {command}",
        f"dev-server dynamic config: {' '.join(f'{k}={v}' for k, v in dynamic_config.items())}",
        f"dev-server env: {dev_env}; API env: {' '.join(args.api_env) or '-'}; worker processes: {args.workers}",
    ]


# ---------------------------------------------------------------- steady load


@dataclass
class Sample:
    elapsed_s: float
    started: int
    completed: int
    load: str
    rss: dict[str, float]
    cpu: dict[str, float]  # CPU seconds since the process started, descendants included


@dataclass
class Load:
    started: int = 0
    completed: int = 0
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # what the failures were, first line of each


async def steady_load(
    http: httpx.AsyncClient, temporal: Client, tenant: dict[str, str], path: str, rate: float, load: Load
) -> None:
    """Starts a run every 1/rate s (on schedule, not after the previous one) and awaits its result; runs until
    cancelled. A start or run that fails is counted, not raised."""
    limit = asyncio.Semaphore(START_CONCURRENCY)
    tasks: set[asyncio.Task[None]] = set()

    async def one(n: int) -> None:
        try:
            async with limit:
                response = await http.post(path, json={"input": {"n": n}}, headers=tenant)
            _expect(response, 202)
            load.started += 1
            result = await temporal.get_workflow_handle(response.json()["workflow_id"]).result()
            ok = result.get("status") == "completed" and result["steps"][1]["result"]["status"] == 200
        except Exception as err:  # a soak counts a failure and carries on
            load.errors[f"{type(err).__name__}: {str(err).splitlines()[0][:160] if str(err) else ''}"] += 1
            ok = False
        if ok:
            load.completed += 1
        else:
            load.failed += 1

    began = time.perf_counter()
    n = 0
    try:
        while True:
            task = asyncio.create_task(one(n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
            await asyncio.sleep(max(0.0, began + n / rate - time.perf_counter()))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def soak(args: argparse.Namespace) -> None:
    dynamic_config = apply_dev_overrides(args)
    command = " ".join([".venv/bin/python -m bench.soak", *map(shlex.quote, sys.argv[1:])])
    with running_stack(args) as stack:
        meter = RssMeter(stack.pids)
        cpu = CpuMeter(meter.pids, split_threads=())
        temporal = await Client.connect(stack.temporal_address)
        limits = httpx.Limits(max_connections=START_CONCURRENCY, keepalive_expiry=2.0)
        async with httpx.AsyncClient(base_url=stack.api_url, limits=limits, timeout=60) as http:
            tenant, path = await create_workflow(http, definition(stack.target_url), args.plan)
            load = Load()
            samples = [Sample(0.0, 0, 0, load_average(), meter.sample(), cpu.sample().roles)]
            began = time.perf_counter()
            driver = asyncio.create_task(steady_load(http, temporal, tenant, path, args.rate, load))
            try:
                while (elapsed := time.perf_counter() - began) < args.minutes * 60:
                    await asyncio.sleep(args.sample_s)
                    if driver.done():
                        driver.result()
                    elapsed = time.perf_counter() - began
                    rss, seconds = meter.sample(), cpu.sample().roles
                    samples.append(Sample(elapsed, load.started, load.completed, load_average(), rss, seconds))
            finally:
                driver.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await driver
        report(samples, load, meter, args, describe_setup(args, dynamic_config, command))
        if args.keep:
            print(f"kept: {stack.tmp}")


def report(samples: list[Sample], load: Load, meter: RssMeter, args: argparse.Namespace, setup: list[str]) -> None:
    roles = [*meter.pids, "total"]
    warm = next((s for s in samples if s.elapsed_s >= args.warmup_minutes * 60), samples[-1])
    after = [s for s in samples if s.elapsed_s >= warm.elapsed_s]
    last = samples[-1]
    print()
    print(
        f"Levqor soak: {args.rate:g} runs/s (log -> HTTP GET -> condition) through the API for {args.minutes:g} min, "
        f"warm-up {args.warmup_minutes:g} min"
    )
    print(*setup, sep="\n")
    print()
    print(f"  {'min':>6}{'started':>9}{'done':>8}  " + "".join(f"{r[:14]:>16}" for r in roles) + "   load avg")
    every = max(1, round(args.print_every_s / args.sample_s))
    for i, s in enumerate(samples):
        if i % every == 0 or s is last or s is warm:
            cells = "".join(f"{s.rss[r]:13.0f} MB" for r in roles)
            mark = " <- warm-up ends" if s is warm else ""
            print(f"  {s.elapsed_s / 60:6.1f}{s.started:9}{s.completed:8}  {cells}   {s.load}{mark}")
    runs_after = max(1, last.completed - warm.completed)
    print()
    print(f"  runs: {load.started} started, {load.completed} completed, {load.failed} failed or unfinished")
    for error, count in load.errors.most_common(5):
        print(f"    {count} x {error}")
    print(f"  after warm-up ({runs_after} runs): growth to the end, peak, KB per run")
    met_all = True
    for role in roles:
        base = warm.rss[role]
        peak = max(s.rss[role] for s in after)
        growth = last.rss[role] - base
        met = peak <= base * (1 + GROWTH_LIMIT)
        met_all &= met or role == "total"
        print(
            f"    {role:22}{base:7.0f} -> {last.rss[role]:4.0f} MB ({growth / base:+6.1%}), peak {peak:4.0f} MB "
            f"({peak / base - 1:+6.1%}), {growth * 1024 / runs_after:+6.1f} KB/run"
            + ("" if role == "total" else f"   {'met' if met else 'MISSED'}")
        )
    wall = last.elapsed_s - warm.elapsed_s
    if wall > 0:
        print(
            "  CPU after warm-up: "
            + ", ".join(
                f"{role} {(last.cpu[role] - warm.cpu[role]) / wall:.2f} cores "
                f"({(last.cpu[role] - warm.cpu[role]) * 1000 / runs_after:.1f} ms/run)"
                for role in meter.pids
            )
        )
    print()
    print(f"  target: each process's RSS within +{GROWTH_LIMIT:.0%} after warm-up: {'met' if met_all else 'MISSED'}")
    print("  peak RSS: " + ", ".join(f"{role} {value:.0f} MB" for role, value in meter.peak.items()))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=15.0, help="runs started per second")
    parser.add_argument("--minutes", type=float, default=30.0, help="minutes of steady load")
    parser.add_argument("--warmup-minutes", type=float, default=3.0, help="minutes before RSS is held to +10 %%")
    parser.add_argument("--sample-s", type=float, default=5.0, help="seconds between RSS samples")
    parser.add_argument("--print-every-s", type=float, default=60.0, help="seconds between printed rows")
    add_stack_arguments(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    with asyncio.Runner(loop_factory=_event_loop) as runner:
        try:
            runner.run(soak(args))
        except (asyncio.CancelledError, KeyboardInterrupt):
            sys.exit("soak interrupted; everything it started is stopped")


if __name__ == "__main__":
    main()
