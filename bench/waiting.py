"""Runs waiting at approval gates: N runs (gate -> log) started through the public API wait for a decision;
the RSS of API, worker(s) and dev server while they wait; every gate approved through the API, each
approval's latency measured; then every run must complete.

    .venv/bin/python -m bench.waiting [--runs 10000] [--start-concurrency 50] [--approval-concurrency 10]

Targets (issue 11): with 10,000 runs waiting, API + worker + dev server <= 500 MB RSS together, approvals
answered p99 <= 100 ms while they wait, and all complete after approval. The stack is bench.throughput's
`running_stack`; RSS is sampled every `--sample-s` in every phase (a process's RSS is the sum of VmRSS over
it and its descendants). The stack options and the experiment overrides (--dev-config, --dev-env) are
bench.soak's.
"""

import argparse
import asyncio
import contextlib
import shlex
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from temporalio.client import Client

from bench.soak import RssMeter, add_stack_arguments, apply_dev_overrides, create_workflow, describe_setup, load_average
from bench.throughput import _event_loop, _expect, percentile, running_stack
from starters.runs import run_workflow_id

TARGETS = {"rss_mb": 500.0, "approval_p99_ms": 100.0}
WAITING = "WorkflowType = 'UserWorkflowRun' AND RunStatus = 'waiting_approval' AND ExecutionStatus = 'Running'"
CLOSED = "WorkflowType = 'UserWorkflowRun' AND ExecutionStatus != 'Running'"
POLL_S = 2.0
SETTLE_S = 10.0


def gated_definition(timeout_s: float) -> dict[str, Any]:
    return {
        "name": "bench-waiting",
        "steps": [
            {
                "id": "gate",
                "type": "approval",
                "class": "B",
                "message": "approve run {{ input.n }}",
                "timeout_s": timeout_s,
            },
            {"id": "done", "type": "log", "message": "approved {{ input.n }}"},
        ],
    }


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    peak: dict[str, float] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)


class Sampler:
    """RSS every `period_s` in the background, the peak of each process kept per phase."""

    def __init__(self, meter: RssMeter, period_s: float) -> None:
        self.meter, self.period_s = meter, period_s
        self.phases: list[Phase] = []

    def enter(self, name: str) -> Phase:
        self.sample()
        self.phases.append(Phase(name))
        self.sample()
        return self.phases[-1]

    def sample(self) -> None:
        if not self.phases:
            return
        phase = self.phases[-1]
        phase.last = self.meter.sample()
        for role, value in phase.last.items():
            phase.peak[role] = max(phase.peak.get(role, 0.0), value)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.period_s)
            self.sample()


async def bounded(count: int, concurrency: int, one: Callable[[int], Awaitable[float]]) -> list[float]:
    """`one(n)` for n in range(count), at most `concurrency` at a time; their results (latencies), in order."""
    results = [0.0] * count
    next_n = 0

    async def lane() -> None:
        nonlocal next_n
        while next_n < count:
            n, next_n = next_n, next_n + 1
            results[n] = await one(n)

    await asyncio.gather(*(lane() for _ in range(min(concurrency, count))))
    return results


async def until_count(temporal: Client, query: str, wanted: int, timeout_s: float, what: str) -> float:
    began = time.perf_counter()
    while (found := (await temporal.count_workflows(query)).count) < wanted:
        if time.perf_counter() - began > timeout_s:
            raise TimeoutError(f"{found} of {wanted} runs {what} after {timeout_s:g} s")
        await asyncio.sleep(POLL_S)
    return time.perf_counter() - began


async def waiting(args: argparse.Namespace) -> None:
    dynamic_config = apply_dev_overrides(args)
    command = " ".join([".venv/bin/python -m bench.waiting", *map(shlex.quote, sys.argv[1:])])
    with running_stack(args) as stack:
        sampler = Sampler(RssMeter(stack.pids), args.sample_s)
        temporal = await Client.connect(stack.temporal_address)
        limits = httpx.Limits(max_connections=max(args.start_concurrency, args.approval_concurrency))
        async with httpx.AsyncClient(base_url=stack.api_url, limits=limits, timeout=120) as http:
            tenant, path = await create_workflow(http, gated_definition(args.gate_timeout_s), args.plan)
            sampling = asyncio.create_task(sampler.run())
            try:
                figures = await phases(args, http, temporal, tenant, path, sampler)
            finally:
                sampling.cancel()
        report(args, sampler, figures, describe_setup(args, dynamic_config, command))
        if args.keep:
            print(f"kept: {stack.tmp}")


async def phases(
    args: argparse.Namespace,
    http: httpx.AsyncClient,
    temporal: Client,
    tenant: dict[str, str],
    path: str,
    sampler: Sampler,
) -> dict[str, Any]:
    run_ids: list[str] = [""] * args.runs
    sampler.sample()
    idle = sampler.enter("idle stack")
    await asyncio.sleep(SETTLE_S)
    idle.seconds = SETTLE_S

    async def start(n: int) -> float:
        began = time.perf_counter()
        response = await http.post(path, json={"input": {"n": n}}, headers=tenant)
        _expect(response, 202)
        run_ids[n] = response.json()["run_id"]
        return (time.perf_counter() - began) * 1000

    phase = sampler.enter("starting")
    began = time.perf_counter()
    start_ms = await bounded(args.runs, args.start_concurrency, start)
    phase.seconds = time.perf_counter() - began
    await until_count(temporal, WAITING, args.runs, args.timeout_s, "waiting")
    phase.seconds = time.perf_counter() - began

    phase = sampler.enter(f"{args.runs} waiting")
    await asyncio.sleep(args.wait_s)
    phase.seconds = args.wait_s
    load_waiting = load_average()

    async def approve(n: int) -> float:
        began = time.perf_counter()
        response = await http.post(
            f"/api/runs/{run_ids[n]}/approvals/gate", json={"decision": "approve"}, headers=tenant
        )
        _expect(response, 200)
        return (time.perf_counter() - began) * 1000

    phase = sampler.enter("approving")
    began = time.perf_counter()
    # The first `--one-at-a-time` approvals alone, as a person approving one would: their latency is the
    # target's; the rest at `--approval-concurrency`, to get through them all.
    alone = min(args.one_at_a_time, args.runs)
    alone_ms = await bounded(alone, 1, approve)
    approve_ms = alone_ms + await bounded(args.runs - alone, args.approval_concurrency, lambda n: approve(alone + n))
    phase.seconds = time.perf_counter() - began
    load_approving = load_average()

    phase = sampler.enter("completing")
    began = time.perf_counter()
    await until_count(temporal, CLOSED, args.runs, args.timeout_s, "closed")
    phase.seconds = time.perf_counter() - began
    wrong = await check_every_run(temporal, run_ids, args.start_concurrency)
    return {
        "start_ms": start_ms,
        "approve_ms": approve_ms,
        "alone_ms": alone_ms,
        "wrong": wrong,
        "load_waiting": load_waiting,
        "load_approving": load_approving,
    }


async def check_every_run(temporal: Client, run_ids: list[str], concurrency: int) -> list[str]:
    """The runs whose result is not `completed` with the gate approved and the log step succeeded."""
    wrong: list[str] = []

    async def check(n: int) -> float:
        workflow_id = run_workflow_id(run_ids[n])
        with contextlib.suppress(Exception):
            result = await temporal.get_workflow_handle(workflow_id).result()
            steps = {step["step_id"]: step["status"] for step in result["steps"]}
            if (result["status"], steps.get("gate"), steps.get("done")) == ("completed", "approved", "succeeded"):
                return 0.0
        wrong.append(workflow_id)
        return 0.0

    await bounded(len(run_ids), concurrency, check)
    return wrong


def report(args: argparse.Namespace, sampler: Sampler, figures: dict[str, Any], setup: list[str]) -> None:
    roles = [*sampler.meter.pids, "total"]
    start_ms, approve_ms, alone_ms, wrong = (figures[k] for k in ("start_ms", "approve_ms", "alone_ms", "wrong"))
    print()
    print(f"Levqor waiting: {args.runs} runs (approval gate -> log) waiting, then approved through the API")
    print(*setup, sep="\n")
    print(
        f"load average: while {args.runs} wait {figures['load_waiting']}; after approving {figures['load_approving']}"
    )
    print()
    print("  RSS per phase: peak (and at the phase's end), MB")
    print(f"  {'phase':18}{'seconds':>8}" + "".join(f"{r[:16]:>20}" for r in roles))
    for phase in sampler.phases:
        cells = "".join(f"{phase.peak.get(r, 0):11.0f} ({phase.last.get(r, 0):4.0f})   " for r in roles)
        print(f"  {phase.name:18}{phase.seconds:8.0f}{cells}")
    print()
    print(
        f"  starts: {args.runs} at {args.start_concurrency} at once, {rate(args.runs, sampler.phases[1])}, "
        f"p50 {percentile(start_ms, 0.5):.0f} ms, p99 {percentile(start_ms, 0.99):.0f} ms"
    )
    print(
        f"  approvals, all {args.runs} (the first {len(alone_ms)} one at a time, then {args.approval_concurrency} at "
        f"once): {rate(args.runs, sampler.phases[3])}, p50 {percentile(approve_ms, 0.5):.1f} ms, "
        f"p99 {percentile(approve_ms, 0.99):.1f} ms, max {max(approve_ms):.1f} ms"
    )
    if alone_ms:
        print(
            f"  approvals one at a time ({len(alone_ms)}, while the others wait): p50 "
            f"{percentile(alone_ms, 0.5):.1f} ms, p99 {percentile(alone_ms, 0.99):.1f} ms, max {max(alone_ms):.1f} ms"
        )
    print(
        f"  completed as expected: {args.runs - len(wrong)} of {args.runs}"
        + (f" (wrong: {wrong[:5]})" if wrong else "")
    )
    waiting_peak = sampler.phases[2].peak["total"]
    overall_peak = max(phase.peak["total"] for phase in sampler.phases)
    p99 = percentile(figures["alone_ms"] or approve_ms, 0.99)
    print()
    print("  targets")
    checks = [
        (
            f"RSS with {args.runs} waiting <= {TARGETS['rss_mb']:.0f} MB",
            f"{waiting_peak:.0f} MB",
            waiting_peak <= TARGETS["rss_mb"],
        ),
        (
            f"RSS at any phase <= {TARGETS['rss_mb']:.0f} MB",
            f"{overall_peak:.0f} MB",
            overall_peak <= TARGETS["rss_mb"],
        ),
        (
            f"approval p99 <= {TARGETS['approval_p99_ms']:.0f} ms (one at a time)",
            f"{p99:.1f} ms",
            p99 <= TARGETS["approval_p99_ms"],
        ),
        ("every run completed after approval", f"{args.runs - len(wrong)}/{args.runs}", not wrong),
    ]
    for label, value, met in checks:
        print(f"    {label:48}{value:>12}   {'met' if met else 'MISSED'}")
    print("  peak RSS over the bench: " + ", ".join(f"{r} {v:.0f} MB" for r, v in sampler.meter.peak.items()))


def rate(runs: int, phase: Phase) -> str:
    return f"{runs / phase.seconds:.1f}/s over {phase.seconds:.0f} s" if phase.seconds else "-"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.waiting", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10_000, help="runs to start and leave waiting")
    parser.add_argument("--start-concurrency", type=int, default=50, help="starts in flight at once")
    parser.add_argument("--approval-concurrency", type=int, default=10, help="approvals in flight at once")
    parser.add_argument("--one-at-a-time", type=int, default=500, help="approvals first made one at a time")
    parser.add_argument("--wait-s", type=float, default=30.0, help="seconds to sample RSS while all wait")
    parser.add_argument("--gate-timeout-s", type=float, default=24 * 3600.0, help="the gate's timeout_s")
    parser.add_argument("--sample-s", type=float, default=2.0, help="seconds between RSS samples")
    parser.add_argument("--timeout-s", type=float, default=1800.0, help="seconds to wait for all waiting/closed")
    add_stack_arguments(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    with asyncio.Runner(loop_factory=_event_loop) as runner:
        try:
            runner.run(waiting(args))
        except (asyncio.CancelledError, KeyboardInterrupt):
            sys.exit("bench interrupted; everything it started is stopped")


if __name__ == "__main__":
    main()
