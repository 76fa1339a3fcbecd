"""The definition language as JSON Schema: any caller reads it, and it is the validator's own models."""

from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from language.field_errors import STEP_MODELS
from tests.api.tenancy import new_tenant
from tests.conftest import founder_headers


def test_schema_names_every_step_type_with_its_aliased_fields(api: TestClient) -> None:
    tenant = new_tenant(api)

    answer = api.get("/api/workflows/schema", headers=tenant.member)

    assert answer.status_code == 200
    body = answer.json()
    assert sorted(body["steps"]) == sorted(STEP_MODELS) and len(body["steps"]) == 8
    assert {"json", "url", "method"} <= set(body["steps"]["http_request"]["properties"])
    assert {"then", "else"} <= set(body["steps"]["condition"]["required"])
    assert "class" in body["steps"]["approval"]["properties"]
    assert body["end"] == "end" and body["step_id_pattern"].startswith("^[a-z]")
    assert body["definition"]["required"] == ["name", "steps"]


def test_schema_accepts_what_the_validator_accepts_and_refuses_a_missing_field(api: TestClient) -> None:
    schemas = api.get("/api/workflows/schema", headers=founder_headers()).json()
    step = {"id": "fetch", "type": "http_request", "url": "https://example.com", "json": {"a": 1}}

    http = Draft202012Validator(schemas["steps"]["http_request"])
    definition = Draft202012Validator(schemas["definition"])

    assert http.is_valid(step)
    assert not http.is_valid({"id": "fetch", "type": "http_request"})
    assert definition.is_valid({"name": "flow", "steps": [step]})
    assert not definition.is_valid({"name": "flow", "steps": [{"id": "x", "type": "teleport"}]})


def test_schema_needs_a_caller(api: TestClient) -> None:
    answer = api.get("/api/workflows/schema")

    assert answer.status_code == 401
    assert answer.json()["code"] == "unauthenticated"
