"""/openapi.json and /docs as a reader uses them: bearer auth where the API asks for it, the error envelope
on every operation, handler names as operation ids, docstring summaries and one described tag each."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from schemas.api import ErrorBody

ERROR_REF = "#/components/schemas/ErrorBody"
PUBLIC = {
    "receive_hook",
    "receive_stripe_event",
    "get_price_list",
    "list_regions",
    "pulse",
    "heartbeat",
    "get_legal_documents",
    "list_versions",
    "record_cookie_choice",  # a visitor's cookie choice: CSRF-checked like the pages, no token
    "create_signup",  # a new team signs itself up: rate-limited, no token
    "open_contact",  # the support desk's public contact form: rate-limited, a honeypot, no token
    "rate_ticket",  # a ticket's score: a customer's token or session, or the e-mail link's token in the body
    "receive_reply_email",  # a founder's reply by e-mail: the inbound-mail provider's shared secret in a header
}


@pytest.fixture(scope="module")
def schema(api: TestClient) -> dict[str, Any]:
    response = api.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def by_id(schema: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {operation["operationId"]: (method, path, operation) for method, path, operation in operations(schema)}


def test_the_schema_declares_bearer_authentication(schema: dict[str, Any]) -> None:
    assert schema["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The founder token or a tenant API key",
    }


def test_authenticated_operations_list_the_bearer_requirement_and_public_ones_do_not(schema: dict[str, Any]) -> None:
    ops = by_id(schema)

    for operation_id in ("start_run", "list_runs", "decide_step", "list_tenants", "publish_version"):
        assert ops[operation_id][2]["security"] == [{"HTTPBearer": []}], operation_id
    assert {op_id for op_id, (_, _, operation) in ops.items() if "security" not in operation} == PUBLIC
    assert "/metrics" not in schema["paths"]


def test_every_operation_that_lists_the_bearer_requirement_answers_401_without_a_token(
    api: TestClient, schema: dict[str, Any]
) -> None:
    for method, path, operation in operations(schema):
        if "security" not in operation:
            continue
        response = api.request(method, re.sub(r"\{[^}]+\}", "x", path))

        assert response.status_code == 401, (method, path, response.text)
        assert ErrorBody.model_validate(response.json()).code == "unauthenticated"


def test_every_error_response_is_the_envelope(schema: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert schema["components"]["schemas"]["ErrorBody"]["required"] == ["code", "message"]
    for method, path, operation in operations(schema):
        errors = {status: answer for status, answer in operation["responses"].items() if status[0] in "45"}
        if "security" in operation:
            assert {"401", "403"} <= set(errors), (method, path)
        if operation.get("parameters") or "requestBody" in operation:
            assert "422" in errors, (method, path)
        if "{" in path:
            assert "404" in errors, (method, path)
        for status, answer in errors.items():
            body = answer["content"]["application/json"]["schema"]
            assert body == {"$ref": ERROR_REF}, (method, path, status)


def test_admission_and_size_limits_are_documented_where_they_answer(schema: dict[str, Any]) -> None:
    ops = by_id(schema)

    assert {"413", "429"} <= set(ops["start_run"][2]["responses"])
    assert {"401", "413", "429"} <= set(ops["receive_hook"][2]["responses"])
    assert "400" in ops["receive_stripe_event"][2]["responses"]
    assert "401" not in ops["get_price_list"][2]["responses"]


def test_operation_ids_are_the_unique_handler_names(schema: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(schema)]
    ops = by_id(schema)

    assert len(ids) == len(set(ids))
    assert ops["start_run"][:2] == ("post", "/api/workflows/{workflow_id}/runs")
    assert ops["list_runs"][:2] == ("get", "/api/runs")
    assert ops["decide_step"][:2] == ("post", "/api/runs/{run_id}/approvals/{step_id}")


def test_summaries_are_the_first_sentence_of_the_handlers_docstring(schema: dict[str, Any]) -> None:
    ops = by_id(schema)

    for operation_id, (_, _, operation) in ops.items():
        assert operation["summary"] != operation_id.replace("_", " ").title(), f"{operation_id}: no docstring"
    start_run = ops["start_run"][2]
    assert start_run["summary"] == (
        "Start a run of the latest version; the same `Idempotency-Key` never starts a second run"
    )
    assert start_run["description"].endswith("monthly limits are used up or the cost throttle holds.")
    assert "description" not in ops["list_runs"][2]  # a one-sentence docstring is all summary


def test_every_operation_is_grouped_under_one_described_tag(schema: dict[str, Any]) -> None:
    described = {tag["name"] for tag in schema["tags"] if tag.get("description")}

    for method, path, operation in operations(schema):
        tags = operation["tags"]
        assert len(tags) == 1 and tags[0] in described, (method, path, tags)


def test_the_docs_page_loads_with_the_schema(api: TestClient) -> None:
    response = api.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in response.text and '"persistAuthorization": true' in response.text
