"""A worker killed with SIGKILL mid-step: a new worker finishes the run and the retried call
carries the same Idempotency-Key."""

import asyncio
import os
import signal
import subprocess
import sys
import uuid

import pytest
from temporalio.client import Client

from core.settings import Settings
from schemas.runs import RunResult
from tests.fakes.target import TargetServer
from tests.orchestrator.runs import make_run, outcome, start


def spawn_worker(settings: Settings, queue: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TASK_QUEUE": queue,
        "DATABASE_URL": settings.database_url,
        "LEVQOR_FOUNDER_TOKEN": settings.levqor_founder_token.get_secret_value(),
        # The runs' payloads are encrypted with tenant keys that this key unwraps.
        "LEVQOR_SECRETS_KEY": settings.levqor_secrets_key.get_secret_value() if settings.levqor_secrets_key else "",
        "LEVQOR_HTTP_ALLOW_PRIVATE": "true",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, "-m", "orchestrator.worker"], env=env)


async def wait_for_calls(target_server: TargetServer, path: str, count: int, timeout_s: float = 30) -> None:
    for _ in range(int(timeout_s / 0.05)):
        if len(target_server.calls_to(path)) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} was called fewer than {count} times")


# timeout_s 20 runs the call as a local activity, 60 as a regular activity that heartbeats.
@pytest.mark.parametrize("timeout_s", [20, 60], ids=["local_activity", "regular_activity"])
async def test_run_survives_a_killed_worker_and_retries_with_the_same_key(
    client: Client, settings: Settings, target_server: TargetServer, timeout_s: int
) -> None:
    queue, name = f"crash-{uuid.uuid4()}", uuid.uuid4().hex[:8]
    path = f"/stall-once/{name}"
    run = make_run(
        {"id": "before", "type": "log", "message": "starting"},
        {
            "id": "charge",
            "type": "http_request",
            "method": "POST",
            "url": f"{target_server.url}{path}?seconds=60",
            "json": {"amount": 10},
            "timeout_s": timeout_s,
        },
        {"id": "after", "type": "log", "message": "charged {{ steps.charge.body.calls }}"},
    )
    first = spawn_worker(settings, queue)
    handle = await start(client, queue, run)
    await wait_for_calls(target_server, path, 1)

    first.send_signal(signal.SIGKILL)
    first.wait()
    second = spawn_worker(settings, queue)
    try:
        result: RunResult = await asyncio.wait_for(handle.result(), timeout=60)
    finally:
        second.terminate()
        second.wait(timeout=10)

    calls = target_server.calls_to(path)
    assert result.status == "completed"
    assert len(calls) == 2
    assert calls[0].headers["idempotency-key"] == calls[1].headers["idempotency-key"] == f"{run.run_id}:charge"
    assert outcome(result, "after").result == {"message": "charged 2"}
