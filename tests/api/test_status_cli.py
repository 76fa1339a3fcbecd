"""`levqor status` against the real API served by uvicorn: a one-screen table, and its exit codes."""

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.main import create_app
from core.settings import Settings
from tests.conftest import FOUNDER_TOKEN
from tests.fakes import unused_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def served_api(settings: Settings) -> Iterator[str]:
    """The app on a real socket (its own process's worker is the session's; this one runs none)."""
    port = unused_port()
    app = create_app(settings.model_copy(update={"api_embedded_worker": False}))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def levqor(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # cwd without a .env and an environment without LEVQOR_*: only the arguments count. This checkout's CLI
    # (what the `levqor` script runs), whichever checkout the environment's script was installed from.
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(cwd), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "api.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=cwd, env=env)


def test_status_prints_the_health_table_and_exits_by_the_overall_status(served_api: str, tmp_path: Path) -> None:
    heartbeat = httpx.get(f"{served_api}/api/system/heartbeat").json()["status"]
    summary = httpx.get(f"{served_api}/api/guardian/summary", headers={"Authorization": f"Bearer {FOUNDER_TOKEN}"})
    worse = max(heartbeat, summary.json()["platform_status"] or heartbeat, key=("ok", "degraded", "down").index)

    done = levqor("status", "--url", served_api, "--token", FOUNDER_TOKEN, cwd=tmp_path)

    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"Levqor status  {served_api}  (version ")
    assert lines[2].split() == ["CHECK", "STATUS", "DETAIL"]
    rows = {line[:16].strip(): line[16:].split() for line in lines[4:] if line.strip()}
    # Overall is the worse of the heartbeat and the platform's anomalies (the shared test database holds both).
    assert rows["overall"][0] == worse
    assert done.returncode == (0 if rows["overall"][0] == "ok" else 1), done.stderr
    assert rows["database"][0] == "ok" and rows["temporal"][0] == "ok"
    assert rows["stripe"][0] in ("ok", "unknown") and rows["ai"][0] in ("ok", "unknown")
    assert {"telemetry (1h)", "anomalies", "open failures", "daily report", "tenants failed"} <= rows.keys()
    assert len(lines) <= 24  # one screen


def test_status_without_a_token_shows_the_heartbeat_and_says_why_the_rest_is_missing(
    served_api: str, tmp_path: Path
) -> None:
    done = levqor("status", "--url", served_api, cwd=tmp_path)

    assert "database" in done.stdout and "open failures" not in done.stdout
    assert "no founder token" in done.stdout


def test_status_of_an_unreachable_api_exits_2(tmp_path: Path) -> None:
    done = levqor("status", "--url", f"http://127.0.0.1:{unused_port()}", cwd=tmp_path)

    assert done.returncode == 2
    assert "cannot read" in done.stderr and done.stdout == ""


def test_status_finds_the_api_and_token_in_the_servers_own_dot_env(served_api: str, tmp_path: Path) -> None:
    port = served_api.rsplit(":", 1)[1]
    (tmp_path / ".env").write_text(f"API_HOST=0.0.0.0\nAPI_PORT={port}\nLEVQOR_FOUNDER_TOKEN={FOUNDER_TOKEN}\n")

    done = levqor("status", cwd=tmp_path)

    assert done.stdout.startswith(f"Levqor status  http://127.0.0.1:{port}  (version "), done.stderr
    assert "open failures" in done.stdout  # the founder token from .env was used
