"""A JSON error's `message` is written in the reader's language (Accept-Language); `code` and `field` never change,
and without the header the message is the English it always was."""

from fastapi.testclient import TestClient

from core.i18n import render
from schemas.i18n import Text, tr
from tests.api.tenancy import new_tenant, new_workflow
from tests.conftest import founder_headers

JAPANESE = {"Accept-Language": "ja,en;q=0.5"}
DUPLICATE_IDS = {
    "name": "twins",
    "steps": [{"id": "same", "type": "log", "message": "a"}, {"id": "same", "type": "log", "message": "b"}],
}


def japanese(text: Text) -> str:
    rendered = render(text, "ja")
    assert rendered != text.english(), f"{text.msgid!r} is not translated into Japanese"
    return rendered


def test_an_api_error_answers_in_japanese_with_the_same_code_and_field(api: TestClient) -> None:
    tenant = new_tenant(api)

    english = api.get("/api/workflows/wf_nope", headers=tenant.member)
    answer = api.get("/api/workflows/wf_nope", headers={**tenant.member, **JAPANESE})

    assert english.status_code == answer.status_code == 404
    assert english.json() == {
        "code": "workflow_not_found",
        "message": "No workflow with this id",
        "field": "workflow_id",
    }
    assert answer.json() == {
        "code": "workflow_not_found",
        "message": japanese(tr("No workflow with this id")),
        "field": "workflow_id",
    }


def test_a_refusal_with_a_text_inside_answers_wholly_in_japanese(api: TestClient) -> None:
    tenant = new_tenant(api)

    answer = api.put("/api/secrets/API_TOKEN", json={"value": "x"}, headers={**tenant.member, **JAPANESE})

    assert answer.status_code == 403 and answer.json()["code"] == "admin_only"
    assert answer.json()["message"] == japanese(tr("Only an admin key may change %(what)s", what=tr("secrets")))
    assert japanese(tr("secrets")) in answer.json()["message"]


def test_validator_issues_answer_in_japanese_with_the_same_codes_and_paths(api: TestClient) -> None:
    tenant = new_tenant(api)
    duplicate = tr("Step id `%(id)s` is already used by %(first)s; ids must be unique.", id="same", first="$.steps[0]")

    english = api.post("/api/workflows/validate", json=DUPLICATE_IDS, headers=tenant.member).json()
    report = api.post("/api/workflows/validate", json=DUPLICATE_IDS, headers={**tenant.member, **JAPANESE}).json()
    refused = api.post("/api/workflows", json=DUPLICATE_IDS, headers={**tenant.admin, **JAPANESE})

    assert english["errors"] == [
        {
            "path": "$.steps[1].id",
            "code": "duplicate_step_id",
            "message": "Step id `same` is already used by $.steps[0]; ids must be unique.",
            "severity": "error",
        }
    ]
    assert report["errors"] == [{**english["errors"][0], "message": japanese(duplicate)}]
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_definition"
    assert refused.json()["field"] == "$.steps[1].id"
    assert refused.json()["errors"] == report["errors"]
    assert japanese(duplicate) in refused.json()["message"]


def test_a_request_validation_error_answers_in_japanese(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, {"id": "done", "type": "log", "message": "ok"})

    english = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": 5}, headers=tenant.member)
    answer = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": 5}, headers={**tenant.member, **JAPANESE})

    assert english.status_code == answer.status_code == 422
    assert english.json() == {
        "code": "invalid_request",
        "message": "body.input: Input should be a valid dictionary",
        "field": "body.input",
    }
    assert answer.json() == {
        "code": "invalid_request",
        "message": f"body.input: {japanese(tr('Input should be a valid dictionary'))}",
        "field": "body.input",
    }


def test_a_field_error_of_the_validator_reads_pydantics_words_in_japanese_too(api: TestClient) -> None:
    tenant = new_tenant(api)
    wrong_type = {"name": "typed", "steps": [{"id": "say", "type": "log", "message": 5}]}

    english = api.post("/api/workflows/validate", json=wrong_type, headers=tenant.member).json()["errors"]
    report = api.post("/api/workflows/validate", json=wrong_type, headers={**tenant.member, **JAPANESE}).json()

    assert [(e["code"], e["path"], e["message"]) for e in english] == [
        ("invalid_value", "$.steps[0].message", "`message`: Input should be a valid string.")
    ]
    problem = tr("Input should be a valid string")
    assert report["errors"][0]["message"] == japanese(tr("`%(field)s`: %(problem)s.", field="message", problem=problem))
    assert japanese(problem) in report["errors"][0]["message"]


def test_the_warnings_of_a_stored_version_answer_in_japanese(api: TestClient) -> None:
    tenant = new_tenant(api)
    untidy = {"name": " spaced ", "steps": [{"id": "say", "type": "log", "message": "hi"}]}

    created = api.post("/api/workflows", json=untidy, headers={**tenant.admin, **JAPANESE})
    updated = api.put(f"/api/workflows/{created.json()['id']}", json=untidy, headers=tenant.admin)

    assert created.status_code == 201 and updated.status_code == 200
    spaces = tr("The name starts or ends with spaces; they are kept as typed.")
    assert created.json()["warnings"] == [{"path": "$.name", "code": "untidy_name", "message": japanese(spaces)}]
    assert updated.json()["warnings"] == [{"path": "$.name", "code": "untidy_name", "message": spaces.english()}]


def test_a_state_inside_a_refusal_is_named_in_the_readers_language(api: TestClient) -> None:
    tenant = new_tenant(api)
    suspended = api.post(f"/api/tenants/{tenant.id}/suspend", json={"reason": "test"}, headers=founder_headers())
    assert suspended.status_code == 200, suspended.text

    english = api.get("/api/workflows", headers=tenant.member)
    answer = api.get("/api/workflows", headers={**tenant.member, **JAPANESE})

    assert english.status_code == answer.status_code == 403
    assert english.json()["message"] == "This key's tenant is suspended"
    assert answer.json()["code"] == "tenant_suspended" and answer.json()["current_state"] == "suspended"
    assert answer.json()["message"] == japanese(tr("This key's tenant is %(state)s", state=tr("suspended")))
    assert japanese(tr("suspended")) in answer.json()["message"]
