"""Untrusted input stays bounded at the API: request bodies, definitions and input schemas."""

import time
from collections.abc import Iterator

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from core.settings import Settings
from schemas.tables import WorkflowVersionRow
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


CATASTROPHIC = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^(a+)+$"}}}


def test_a_catastrophic_pattern_answers_at_once_on_a_long_input(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, LOG, input_schema=CATASTROPHIC)
    url = f"/api/workflows/{workflow_id}/runs"

    started = time.monotonic()
    short = api.post(url, json={"input": {"code": "a" * 40 + "!"}}, headers=tenant.member)
    long = api.post(url, json={"input": {"code": "a" * 200_000 + "!"}}, headers=tenant.member)
    matching = api.post(url, json={"input": {"code": "a" * 200_000}}, headers=tenant.member)

    assert time.monotonic() - started < 10  # a safety timeout: Python's re takes hours on the short one
    assert (short.status_code, short.json()["code"], short.json()["field"]) == (422, "invalid_input", "input.code")
    assert (long.status_code, long.json()["code"]) == (422, "invalid_input")
    assert matching.status_code == 202, matching.text


def test_a_pattern_without_a_linear_time_match_is_refused_when_saved(api: TestClient) -> None:
    tenant = new_tenant(api)
    schema = {"type": "object", "patternProperties": {"^(?!x)": {"type": "string"}}}

    answer = api.post(
        "/api/workflows", json={"name": "f", "steps": [LOG], "input_schema": schema}, headers=tenant.admin
    )

    assert answer.status_code == 422
    assert [(e["code"], e["path"]) for e in answer.json()["errors"]] == [
        ("unsupported_pattern", "$.input_schema.patternProperties['^(?!x)']")
    ]


def test_an_unresolvable_or_remote_ref_is_refused_when_saved(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, LOG)
    missing = {"type": "object", "properties": {"order": {"$ref": "#/$defs/order"}}}
    remote = {"$ref": "http://127.0.0.1:9/schema.json"}

    created = api.post(
        "/api/workflows", json={"name": "f", "steps": [LOG], "input_schema": missing}, headers=tenant.admin
    )
    updated = api.put(
        f"/api/workflows/{workflow_id}",
        json={"name": "f", "steps": [LOG], "input_schema": remote},
        headers=tenant.admin,
    )

    assert (created.status_code, created.json()["field"]) == (422, "$.input_schema.properties.order['$ref']")
    assert created.json()["errors"][0]["code"] == "unresolvable_ref"
    assert (updated.status_code, updated.json()["field"]) == (422, "$.input_schema['$ref']")
    assert api.get(f"/api/workflows/{workflow_id}", headers=tenant.member).json()["version"] == 1


def test_a_start_answers_422_not_500_when_a_stored_schema_cannot_check_input(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, LOG, input_schema={"type": "object"})
    with Session(engine) as session:  # as a version stored before schemas were checked at save would be
        version = session.exec(select(WorkflowVersionRow).where(WorkflowVersionRow.definition_id == workflow_id)).one()
        version.body = {**version.body, "input_schema": {"properties": {"order": {"$ref": "#/$defs/order"}}}}
        session.add(version)
        session.commit()

    answer = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {"order": 1}}, headers=tenant.member)

    assert (answer.status_code, answer.json()["code"], answer.json()["field"]) == (
        422,
        "invalid_input_schema",
        "input_schema",
    )
