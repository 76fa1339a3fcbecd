"""The bench's baseline: the same three steps as a hand-written Temporal workflow, written "the fast way".

`log` and `condition` run inline in the workflow, the HTTP GET is a local activity on one shared
`httpx.AsyncClient`, and the caller starts runs with `request_eager_start=True` on the client its worker
uses. Default data converter, dataclass inputs and results, default (sandboxed) workflow runner.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    import httpx

FETCH_TIMEOUT = timedelta(seconds=10)
FETCH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=5)


@dataclass
class HandwrittenInput:
    n: int
    url: str


@dataclass
class FetchReply:
    status: int
    body: Any


@dataclass
class HandwrittenResult:
    message: str
    status: int
    ok: bool


class Fetcher:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    @activity.defn(name="bench_fetch")
    async def fetch(self, url: str) -> FetchReply:
        response = await self._client.get(url)
        response.raise_for_status()
        return FetchReply(status=response.status_code, body=response.json())


@workflow.defn
class HandwrittenRun:
    @workflow.run
    async def run(self, params: HandwrittenInput) -> HandwrittenResult:
        message = f"start {params.n}"
        workflow.logger.info(message)
        reply = await workflow.execute_local_activity_method(
            Fetcher.fetch, params.url, start_to_close_timeout=FETCH_TIMEOUT, retry_policy=FETCH_RETRY
        )
        return HandwrittenResult(message=message, status=reply.status, ok=reply.status == 200)
