"""The Temporal side of the run archive: closed runs as visibility lists them, each with its record encoded
for the archive (starters/archived_runs.py)."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus
from temporalio.exceptions import TemporalError
from temporalio.service import RPCError

from core.payload_codec import TenantKeyDestroyed
from orchestrator.search_attributes import DEFINITION_ID, RUN_STATUS, TENANT_ID
from orchestrator.user_run import UserWorkflowRun
from schemas.run_archive import ClosedRun
from schemas.runs import RUN_WORKFLOW_PREFIX, RunProgress
from starters.archived_runs import encode_record
from starters.runs import TRIGGER_MEMO, closed_record, effective_status

PAGE_SIZE = 200
# Records fetched at once per page: each is one history read of the run's close event.
CONCURRENT_READS = 16
# A run that closed without leaving a record (terminated, or closed before runs left one) is asked once.
QUERY_TIMEOUT = timedelta(seconds=5)


def closed_between(after: datetime, through: datetime) -> str:
    """The visibility query of user runs that closed in (after, through]."""
    return (
        "WorkflowType = 'UserWorkflowRun' AND ExecutionStatus != 'Running' "
        f"AND CloseTime > '{visibility_instant(after)}' AND CloseTime <= '{visibility_instant(through)}'"
    )


class TemporalClosedRuns:
    """Closed user runs read from Temporal for the archiver, which is an activity and does not talk to
    Temporal itself."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def count_closed(self, after: datetime, through: datetime) -> int:
        return (await self._client.count_workflows(closed_between(after, through))).count

    async def closed_runs(self, after: datetime, through: datetime) -> AsyncIterator[list[ClosedRun]]:
        """The runs that closed in (after, through], a page at a time, each with its record. A purged tenant's
        runs are left out: its key is destroyed, so nothing of them can be read or sealed again."""
        gate = asyncio.Semaphore(CONCURRENT_READS)
        page: list[WorkflowExecution] = []
        async for execution in self._client.list_workflows(closed_between(after, through), page_size=PAGE_SIZE):
            page.append(execution)
            if len(page) == PAGE_SIZE:
                yield await self._page(page, gate)
                page = []
        if page:
            yield await self._page(page, gate)

    async def _page(self, page: list[WorkflowExecution], gate: asyncio.Semaphore) -> list[ClosedRun]:
        closed = await asyncio.gather(*(self._closed(execution, gate) for execution in page))
        return [run for run in closed if run is not None]

    async def _closed(self, execution: WorkflowExecution, gate: asyncio.Semaphore) -> ClosedRun | None:
        async with gate:
            record = await self._record(execution)
            try:
                trigger = (await execution.memo()).get(TRIGGER_MEMO, "api")
                encoded = await encode_record(self._client, record) if record else None
            except TenantKeyDestroyed:
                return None
        attributes = execution.typed_search_attributes
        reported = record.status if record else attributes.get(RUN_STATUS) or "running"
        return ClosedRun(
            run_id=execution.id.removeprefix(RUN_WORKFLOW_PREFIX),
            tenant_id=attributes.get(TENANT_ID) or "",
            definition_id=attributes.get(DEFINITION_ID) or "",
            version=record.version if record else 0,
            status=effective_status(reported, execution.status),
            trigger=trigger,
            started_at=execution.start_time,
            closed_at=execution.close_time or execution.start_time,
            record=encoded.record if encoded else None,
            results=encoded.results if encoded else None,
        )

    async def _record(self, execution: WorkflowExecution) -> RunProgress | None:
        handle = self._client.get_workflow_handle(execution.id, run_id=execution.run_id)
        try:
            record = await closed_record(handle, execution)
            if record is None and execution.status != WorkflowExecutionStatus.CANCELED:
                record = await handle.query(UserWorkflowRun.progress, rpc_timeout=QUERY_TIMEOUT)
        except (RPCError, TemporalError, ValueError):
            return None  # deleted since it was listed, no worker to answer, or its tenant's key destroyed
        return record


def visibility_instant(moment: datetime) -> str:
    """An instant as a visibility query compares it (UTC, to the microsecond)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
