"""Listing the gates that wait (GET /api/approvals, the approval pages, the founder's queue): a run whose worker is
gone cannot answer its query; it is left out, costs one listing the full bound and later ones only the short one,
and is listed again once a worker answers for it."""

import time
import uuid

from sqlalchemy import Engine
from temporalio.client import Client, WorkflowExecutionStatus

from core.settings import Settings
from domain.approvals import GATE_QUERY_TIMEOUT, waiting_runs
from orchestrator.worker import build_worker
from tests.conftest import close_open_runs, until
from tests.orchestrator.runs import make_run, start, until_progress

GATE = {"id": "gate", "type": "approval", "class": "C", "message": "Ship it?"}


async def timed_listing(client: Client, tenant_id: str) -> tuple[set[str], float]:
    started = time.monotonic()
    listed = {progress.run_id for progress in await waiting_runs(client, tenant_id)}
    return listed, time.monotonic() - started


async def test_a_run_whose_worker_is_gone_is_left_out_waited_for_once_and_listed_again_when_it_answers(
    client: Client, settings: Settings, engine: Engine, worker_queue: str
) -> None:
    tenant_id = f"tenant-{uuid.uuid4().hex[:8]}"
    gone_queue = f"gone-{uuid.uuid4()}"
    answering = make_run(GATE, tenant_id=tenant_id)
    stranded = make_run(GATE, tenant_id=tenant_id)
    await until_progress(await start(client, worker_queue, answering), lambda p: p.waiting is not None)
    async with build_worker(client, settings, engine, task_queue=gone_queue):
        await until_progress(stranded_run := await start(client, gone_queue, stranded), lambda p: p.waiting is not None)

    first, first_s = await timed_listing(client, tenant_id)
    second, second_s = await timed_listing(client, tenant_id)
    third, third_s = await timed_listing(client, tenant_id)

    assert first == second == third == {answering.run_id}
    assert first_s >= GATE_QUERY_TIMEOUT.total_seconds() * 0.9  # it was given the full bound once
    assert max(second_s, third_s) < GATE_QUERY_TIMEOUT.total_seconds() / 2  # and not again
    async with build_worker(client, settings, engine, task_queue=gone_queue):
        back = await until(lambda: timed_listing(client, tenant_id), lambda found: stranded.run_id in found[0])
        assert back[0] == {answering.run_id, stranded.run_id}
        await close_open_runs(client, gone_queue)  # as the tests' workers do when they stop
    assert (await stranded_run.describe()).status == WorkflowExecutionStatus.TERMINATED
