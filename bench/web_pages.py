"""How fast the run pages render with many runs in the tenant: N closed runs are put straight into the run archive
(as the RunArchiver leaves them, past the archive's cursor), a few real runs go through Temporal, and a signed-in
browser session reads the pages one request at a time.

    .venv/bin/python -m bench.web_pages [--archived 10000] [--reads 200] [--depth 20]

Printed, each against its JSON twin measured in the same run with the same caller (the founder) and page size:
- GET /app/runs (first page, 25 runs) against GET /api/runs?limit=25;
- the page `--depth` pages in, following the page tokens, against the same JSON page;
- GET /app/runs/{id} of a closed 3-step run in Temporal (header, timeline SVG, steps) against GET /api/runs/{id}.
The bar (issue 13): p95 <= 150 ms with 10,000 runs in the tenant.
"""

import argparse
import asyncio
import re
import shlex
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import insert
from sqlmodel import Session

from bench.archive import start_runs, steps
from bench.soak import add_stack_arguments, apply_dev_overrides, create_workflow, describe_setup, load_average
from bench.throughput import FOUNDER_TOKEN, _event_loop, _expect, percentile, running_stack
from core.db import create_db_engine
from schemas.tables import RunArchiveCursor, RunArchiveEntry

BAR_MS = 150.0
PAGE = 25
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NEXT = re.compile(r'href="/app/runs\?[^"]*page_token=([^"&]+)[^"]*" rel="next"')


def archive_runs(database_url: str, tenant_id: str, definition_id: str, count: int) -> None:
    """`count` closed runs of the definition in the run archive, a minute apart, and the cursor past them."""
    now = datetime.now(UTC)
    rows = [
        {
            "run_id": f"bench-{uuid.uuid4()}",
            "tenant_id": tenant_id,
            "definition_id": definition_id,
            "version": 1,
            "status": "failed" if n % 17 == 0 else "completed",
            "trigger": "schedule" if n % 5 == 0 else "api",
            "started_at": now - timedelta(minutes=n + 1, seconds=3),
            "closed_at": now - timedelta(minutes=n + 1),
            "archived_at": now,
        }
        for n in range(count)
    ]
    engine = create_db_engine(database_url)
    with Session(engine) as session:
        for start in range(0, count, 1000):
            session.execute(insert(RunArchiveEntry), rows[start : start + 1000])
        session.merge(RunArchiveCursor(id="runs", archived_through=now))
        session.commit()
    engine.dispose()


async def founder_session(http: httpx.AsyncClient) -> None:
    """Signs the client in as the founder through the token form (cookies kept by the client)."""
    form = await http.get("/auth/token")
    found = CSRF.search(form.text)
    assert found, form.text[:300]
    signed = await http.post("/auth/token", data={"token": FOUNDER_TOKEN, "csrf_token": found.group(1)})
    _expect(signed, 303)


async def timed(call: Callable[[], Awaitable[httpx.Response]], reads: int) -> list[float]:
    """Milliseconds of `reads` sequential calls, after two warm-up calls; every answer must be 200."""
    for _ in range(2):
        _expect(await call(), 200)
    took = []
    for _ in range(reads):
        began = time.perf_counter()
        answer = await call()
        took.append((time.perf_counter() - began) * 1000)
        _expect(answer, 200)
    return took


async def deep_tokens(http: httpx.AsyncClient, founder: dict[str, str], depth: int) -> tuple[str, str]:
    """The page token `depth` pages in, for the page and for the JSON API (each listing seals its own)."""
    page_token = api_token = ""
    for _ in range(depth):
        page = await http.get("/app/runs", params={"page_token": page_token} if page_token else None)
        found = NEXT.search(page.text)
        assert found, "the list ended before --depth pages"
        page_token = httpx.URL("?page_token=" + found.group(1)).params["page_token"]
        listed = await http.get(
            "/api/runs", params={"limit": PAGE, **({"page_token": api_token} if api_token else {})}, headers=founder
        )
        api_token = listed.json()["next_page_token"]
    return page_token, api_token


def row(name: str, page_ms: list[float], api_ms: list[float]) -> str:
    p50, p95 = percentile(page_ms, 0.5), percentile(page_ms, 0.95)
    verdict = "ok" if p95 <= BAR_MS else "OVER"
    return (
        f"{name:<34}{p50:>8.1f}{p95:>8.1f}   {percentile(api_ms, 0.5):>8.1f}{percentile(api_ms, 0.95):>8.1f}"
        f"   {p95 / max(percentile(api_ms, 0.95), 1e-9):>5.2f}x  {verdict}"
    )


async def bench(args: argparse.Namespace) -> None:
    dynamic_config = apply_dev_overrides(args)
    command = "python -m bench.web_pages " + shlex.join(sys.argv[1:])
    args.api_env += ["RUN_ARCHIVE_INTERVAL_S=86400"]  # the archiver's schedule stays out of the measured reads
    founder = {"Authorization": f"Bearer {FOUNDER_TOKEN}"}
    with running_stack(args) as stack:
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as http:
            headers, path = await create_workflow(http, steps(stack.target_url), args.plan)
            definition_id = path.split("/")[3]
            run_ids = await start_runs(http, headers, path, args.live, 10)
            await until_closed(http, headers, run_ids[-1])
            tenants = (await http.get("/api/tenants", headers=founder)).json()
            tenant_id = next(t["id"] for t in tenants if t["name"] == "bench")
            archive_runs(stack.database_url, tenant_id, definition_id, args.archived)
            await founder_session(http)
            page_token, api_token = await deep_tokens(http, founder, args.depth)
            run_id = run_ids[-1]
            results = [
                ("runs list, first page", await timed(lambda: http.get("/app/runs"), args.reads),
                 await timed(lambda: http.get("/api/runs", params={"limit": PAGE}, headers=founder), args.reads)),
                (f"runs list, page {args.depth + 1}", await timed(lambda: http.get("/app/runs", params={"page_token": page_token}), args.reads),
                 await timed(lambda: http.get("/api/runs", params={"limit": PAGE, "page_token": api_token}, headers=founder), args.reads)),
                ("run page (3 steps, in Temporal)", await timed(lambda: http.get(f"/app/runs/{run_id}"), args.reads),
                 await timed(lambda: http.get(f"/api/runs/{run_id}", headers=founder), args.reads)),
            ]  # fmt: skip
    lines = describe_setup(args, dynamic_config, command) + [
        f"load average: {load_average()}",
        f"runs in the tenant: {args.archived} in the run archive + {args.live} closed in Temporal; "
        f"{args.reads} sequential reads each, founder session (page) / founder token (JSON)",
        "",
        f"{'ms':<34}{'page p50':>8}{'p95':>8}   {'JSON p50':>8}{'p95':>8}   {'p95 ratio':>6}  bar {BAR_MS:.0f} ms",
        *(row(name, page_ms, api_ms) for name, page_ms, api_ms in results),
    ]
    print("\n".join(lines))


async def until_closed(http: httpx.AsyncClient, headers: dict[str, str], run_id: str) -> None:
    while (await http.get(f"/api/runs/{run_id}", headers=headers)).json().get("closed_at") is None:
        await asyncio.sleep(0.2)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.web_pages", description=__doc__)
    parser.add_argument("--archived", type=int, default=10_000, help="closed runs put into the run archive")
    parser.add_argument("--live", type=int, default=20, help="runs started through the API (Temporal)")
    parser.add_argument("--reads", type=int, default=200, help="sequential reads per measured page")
    parser.add_argument("--depth", type=int, default=20, help="pages followed for the deep-page figure")
    add_stack_arguments(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    loop = _event_loop()
    try:
        loop.run_until_complete(bench(args))
    finally:
        loop.close()


if __name__ == "__main__":
    main()
