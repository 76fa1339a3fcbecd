"""Polling the API until a run reaches a state (sync tests have no event loop to await on)."""

import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient


def poll_run(
    api: TestClient,
    run_id: str,
    headers: dict[str, str],
    check: Callable[[dict[str, Any]], bool],
    timeout_s: float = 15,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        body = api.get(f"/api/runs/{run_id}", headers=headers).json()
        if check(body):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} never reached the state; last: {body}")
        time.sleep(0.05)


def finished(body: dict[str, Any]) -> bool:
    return body.get("closed_at") is not None


def waiting(body: dict[str, Any]) -> bool:
    return body.get("waiting") is not None
