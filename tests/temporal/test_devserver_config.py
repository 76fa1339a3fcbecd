"""The dev-server launcher's memory bounds: passed on the command line, and the server serves with them."""

import socket
import uuid
from pathlib import Path

from temporalio.client import Client, WorkflowExecutionStatus

from temporal.devserver import DEV_SERVER_ENV, DYNAMIC_CONFIG, start_dev_server, stop, wait_until_serving

# Mutable states the history service may keep in memory: its own default is 256,000 (all of them, in effect).
MOST_CACHED_WORKFLOWS = 10_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launched_with(pid: int) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of a running process, from /proc."""
    args = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    pairs = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    return args, dict(pair.partition("=")[::2] for pair in pairs if pair)


def test_the_history_cache_and_the_go_heap_are_bounded() -> None:
    assert 0 < int(DYNAMIC_CONFIG["history.hostLevelCacheMaxSize"]) <= MOST_CACHED_WORKFLOWS
    assert 0 < int(DEV_SERVER_ENV["GOGC"]) < 100  # the Go default


async def test_dev_server_starts_and_serves_with_its_memory_bounds(tmp_path: Path) -> None:
    port = free_port()
    server = start_dev_server(tmp_path / "temporal.db", port=port, ui_port=None, log_file=tmp_path / "temporal.log")
    try:
        wait_until_serving(f"127.0.0.1:{port}", timeout_s=10, process=server)
        args, env = launched_with(server.pid)  # once it serves: right after the fork, it is still ours
        client = await Client.connect(f"127.0.0.1:{port}")
        handle = await client.start_workflow("Nobody", id=f"bounds-{uuid.uuid4()}", task_queue="nobody")
        description = await handle.describe()
        await handle.terminate()
    finally:
        code = stop(server)

    passed = {args[i + 1] for i, arg in enumerate(args) if arg == "--dynamic-config-value"}
    assert {f"{key}={value}" for key, value in DYNAMIC_CONFIG.items()} <= passed
    assert DEV_SERVER_ENV.items() <= env.items()
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert code == 0
