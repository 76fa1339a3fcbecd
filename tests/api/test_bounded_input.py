"""Untrusted input stays bounded at the API: request bodies, definitions and input schemas."""

import time
from collections.abc import Iterator

from fastapi.testclient import TestClient

from core.settings import Settings
from tests.api.tenancy import new_tenant, new_workflow

LOG = {"id": "hello", "type": "log", "message": "hi"}


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    yield b'{"name": "big", "steps": [], "pad": "'
    for _ in range(total // size):
        yield b"a" * size
    yield b'"}'


def test_a_declared_body_over_the_cap_is_refused_before_authentication(api: TestClient, settings: Settings) -> None:
    body = b"x" * (settings.api_max_body_bytes + 1)

    answer = api.post("/api/workflows", content=body, headers={"Content-Type": "application/json"})

    assert answer.status_code == 413
    assert answer.json()["code"] == "payload_too_large" and answer.json()["field"] == "body"


def test_a_chunked_body_over_the_cap_is_refused_before_authentication(api: TestClient, settings: Settings) -> None:
    answer = api.post(
        "/api/workflows/validate",
        content=_chunks(settings.api_max_body_bytes + 1),
        headers={"Content-Type": "application/json"},
    )

    assert answer.status_code == 413
    assert answer.json()["code"] == "payload_too_large"


def test_a_chunked_body_under_the_cap_reaches_its_route(api: TestClient) -> None:
    tenant = new_tenant(api)

    def body() -> Iterator[bytes]:
        yield b'{"name": "chunked", '
        yield b'"steps": [{"id": "hello", "type": "log", "message": "hi"}]}'

    created = api.post("/api/workflows", content=body(), headers={**tenant.admin, "Content-Type": "application/json"})
    unauthenticated = api.post("/api/workflows", content=iter([b"{}"]), headers={"Content-Type": "application/json"})

    assert created.status_code == 201, created.text
    assert unauthenticated.status_code == 401


def test_thousands_of_steps_are_refused_by_count_without_parsing_them(api: TestClient) -> None:
    tenant = new_tenant(api)
    steps = [{"id": f"s{i}", "type": "log", "message": "m"} for i in range(4000)]

    started = time.monotonic()
    answer = api.post("/api/workflows/validate", json={"name": "many", "steps": steps}, headers=tenant.member)
    stored = api.post("/api/workflows", json={"name": "many", "steps": steps}, headers=tenant.member)

    assert time.monotonic() - started < 10  # a safety timeout: it took 9 s per call before
    assert answer.status_code == 200
    assert [(e["code"], e["path"]) for e in answer.json()["errors"]] == [("too_many_steps", "$.steps")]
    assert (stored.status_code, stored.json()["field"]) == (422, "$.steps")


def test_a_valid_workflow_is_unaffected_by_the_caps(api: TestClient) -> None:
    tenant = new_tenant(api)

    workflow_id = new_workflow(api, tenant, LOG)

    assert api.get(f"/api/workflows/{workflow_id}", headers=tenant.member).status_code == 200
