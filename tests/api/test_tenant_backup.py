"""A tenant's own backup through the API: export, restore into a new tenant, the same runs, and every refusal
(tampered, unknown version, not empty, invalid definition, oversized, other tenants, members) changing nothing."""

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.security import derived_key, sign_json
from core.settings import Settings
from domain.tenant_backup import KEY_PURPOSE
from tests.api.tenancy import ApiTenant, new_tenant, new_workflow
from tests.api.waiting import finished, poll_run
from tests.conftest import founder_headers
from tests.fakes.target import TargetServer

SECRET_VALUE = "s3cret-value-never-exported"
GREET = {"id": "greet", "type": "log", "message": "hello {{ input.name }}"}
DOUBLE = {"id": "double", "type": "transform", "set": {"n": "input.n * 2"}}
CHECK = {"id": "check", "type": "condition", "expression": "vars.n > 10", "then": "big", "else": "small"}
BIG = {"id": "big", "type": "log", "message": "big {{ vars.n }}", "next": "end"}
SMALL = {"id": "small", "type": "log", "message": "small {{ vars.n }}"}
INPUT = {"name": "Ada", "n": 7}


def backup(api: TestClient, tenant: ApiTenant) -> dict[str, Any]:
    answer = api.post(f"/api/tenants/{tenant.id}/backup", headers=tenant.admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


def restore(api: TestClient, tenant: ApiTenant, document: dict[str, Any]) -> Any:
    return api.post(f"/api/tenants/{tenant.id}/backup/restore", json=document, headers=tenant.admin)


def resigned(settings: Settings, document: dict[str, Any]) -> dict[str, Any]:
    """The document signed again by this platform's key: what a backup made elsewhere but valid here looks like."""
    assert settings.levqor_secrets_key is not None
    key = derived_key(settings.levqor_secrets_key.get_secret_value(), KEY_PURPOSE)
    body = {name: value for name, value in document.items() if name != "signature"}
    return {**body, "signature": {"algorithm": "HMAC-SHA256", "value": sign_json(body, key)}}


def configuration(api: TestClient, tenant: ApiTenant) -> dict[str, Any]:
    """What a restore may change, as the tenant reads it."""
    return {
        "workflows": api.get("/api/workflows", headers=tenant.admin).json(),
        "schedules": api.get("/api/schedules", headers=tenant.admin).json(),
        "secrets": api.get("/api/secrets", headers=tenant.admin).json(),
    }


def run_steps(api: TestClient, tenant: ApiTenant, workflow_id: str) -> list[tuple[str, str, Any]]:
    started = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": INPUT}, headers=tenant.member)
    assert started.status_code == 202, started.text
    run = poll_run(api, started.json()["run_id"], tenant.member, finished)
    assert run["status"] == "completed", run
    return [(s["step_id"], s["status"], _comparable(s["result"])) for s in run["steps"]]


def _comparable(result: Any) -> Any:
    """An HTTP step's status and body; its headers (a date) differ from call to call."""
    return (
        {"status": result["status"], "body": result["body"]}
        if isinstance(result, dict) and "body" in result
        else result
    )


def wait_listed(api: TestClient, tenant: ApiTenant, count: int) -> list[dict[str, Any]]:
    """Visibility lists a new schedule a moment after it was created."""
    deadline = time.monotonic() + 10
    while len(listed := api.get("/api/schedules", headers=tenant.admin).json()) < count:
        assert time.monotonic() < deadline, listed
        time.sleep(0.05)
    return listed


@pytest.fixture(scope="module")
def source(api: TestClient, target_server: TargetServer) -> tuple[ApiTenant, dict[str, str]]:
    """A tenant with two definitions (one in two versions), two schedules, two hooks and a secret."""
    tenant = new_tenant(api, name="Source")
    fetch = {"id": "fetch", "type": "http_request", "url": target_server.url + "/json"}
    flow = new_workflow(api, tenant, GREET, DOUBLE)
    second = api.put(
        f"/api/workflows/{flow}",
        json={"name": "flow", "steps": [GREET, DOUBLE, CHECK, BIG, SMALL]},
        headers=tenant.admin,
    )
    assert second.status_code == 200, second.text
    fetcher = new_workflow(api, tenant, fetch, GREET)
    schedules = [
        api.post(
            f"/api/workflows/{flow}/schedules",
            json={
                "cron": "0 9 * * 1-5",
                "timezone": "Europe/Berlin",
                "input": INPUT,
                "paused": True,
                "note": "holiday",
            },
            headers=tenant.member,
        ),
        api.post(f"/api/workflows/{fetcher}/schedules", json={"interval_s": 3600}, headers=tenant.member),
    ]
    hooks = [
        api.put(f"/api/workflows/{flow}/webhook", json={"signed": True, "wait_for_result": True}, headers=tenant.admin),
        api.put(f"/api/workflows/{fetcher}/webhook", json={}, headers=tenant.admin),
    ]
    secret = api.put("/api/secrets/API_TOKEN", json={"value": SECRET_VALUE}, headers=tenant.admin)
    assert [a.status_code for a in (*schedules, *hooks, secret)] == [201, 201, 201, 201, 200]
    wait_listed(api, tenant, 2)
    return tenant, {"flow": flow, "fetcher": fetcher, "hook": hooks[0].json()["token"]}


def test_a_restored_tenant_has_every_version_and_runs_them_alike(
    api: TestClient, source: tuple[ApiTenant, dict[str, str]]
) -> None:
    tenant, ids = source
    document = backup(api, tenant)
    target = new_tenant(api, name="Copy")

    answer = restore(api, target, document)

    assert answer.status_code == 201, answer.text
    restored = answer.json()
    assert restored["created"] == {"definitions": 2, "versions": 3, "schedules": 2, "webhooks": 2}
    new_ids = {d["source_id"]: d["id"] for d in restored["definitions"]}
    assert set(new_ids) == {ids["flow"], ids["fetcher"]} and not set(new_ids.values()) & set(new_ids)
    for old, new in new_ids.items():
        for version in (1, 2) if old == ids["flow"] else (1,):
            before = api.get(f"/api/workflows/{old}", params={"version": version}, headers=tenant.admin).json()
            after = api.get(f"/api/workflows/{new}", params={"version": version}, headers=target.admin).json()
            assert (after["version"], after["definition"]) == (version, before["definition"])
        assert run_steps(api, target, new) == run_steps(api, tenant, old)


def test_schedules_and_hooks_point_at_the_restored_definitions_and_secrets_are_to_be_set(
    api: TestClient, source: tuple[ApiTenant, dict[str, str]]
) -> None:
    tenant, ids = source
    target = new_tenant(api, name="Copy")

    restored = restore(api, target, backup(api, tenant)).json()

    new_ids = {d["source_id"]: d["id"] for d in restored["definitions"]}
    schedules = {s["workflow_id"]: s for s in wait_listed(api, target, 2)}
    assert set(schedules) == {new_ids[ids["flow"]], new_ids[ids["fetcher"]]}
    weekdays = schedules[new_ids[ids["flow"]]]
    assert (weekdays["cron"], weekdays["timezone"], weekdays["paused"], weekdays["note"]) == (
        "0 9 * * 1-5",
        "Europe/Berlin",
        True,
        "holiday",
    )
    assert (weekdays["input"], weekdays["version"]) == (INPUT, 2)
    assert schedules[new_ids[ids["fetcher"]]]["interval_s"] == 3600
    hooks = {h["source_workflow_id"]: h for h in restored["webhooks"]}
    assert {h["definition_id"] for h in hooks.values()} == {new_ids[ids["flow"]], new_ids[ids["fetcher"]]}
    signed = hooks[ids["flow"]]
    assert signed["signed"] and signed["wait_for_result"] and signed["signing_secret"].startswith("whsec_")
    assert signed["token"] != ids["hook"]
    plain = api.post(hooks[ids["fetcher"]]["url"], json=INPUT)
    assert plain.status_code == 202, plain.text
    assert restored["secrets_to_set"] == ["API_TOKEN"]
    assert api.get("/api/secrets", headers=target.admin).json() == []
    assert {(k["role"], k["label"]) for k in restored["api_keys_not_restored"]} == {
        ("admin", "first key"),
        ("member", None),
    }
    assert restored["users_not_restored"] == []


def test_a_backup_carries_no_credential(api: TestClient, source: tuple[ApiTenant, dict[str, str]]) -> None:
    tenant, ids = source

    document = backup(api, tenant)

    text = str(document)
    assert SECRET_VALUE not in text and ids["hook"] not in text
    assert tenant.admin["Authorization"].removeprefix("Bearer ") not in text
    assert "key_hash" not in text and "signing_secret" not in text and "token" not in text
    assert (document["format"], document["format_version"]) == ("levqor.tenant-backup", 1)
    assert document["source_tenant"]["id"] == tenant.id and document["secrets"] == [{"name": "API_TOKEN"}]
    assert [len(d["versions"]) for d in document["definitions"]] == [2, 1]
    assert document["identities"]["users"] == []
    assert {k["prefix"][:4] for k in document["identities"]["api_keys"]} == {"lvq_"}


def test_a_tampered_or_unknown_document_is_refused_and_creates_nothing(
    api: TestClient, source: tuple[ApiTenant, dict[str, str]]
) -> None:
    tenant, _ = source
    document = backup(api, tenant)
    target = new_tenant(api, name="Copy")
    tampered = {**document, "source_tenant": {**document["source_tenant"], "plan": "free"}}
    steps = document["definitions"][0]["versions"][0]["definition"]["steps"]
    rewritten = [{**steps[0], "message": "changed"}, *steps[1:]]
    changed_step = {
        **document,
        "definitions": [
            {
                **document["definitions"][0],
                "versions": [
                    {
                        **document["definitions"][0]["versions"][0],
                        "definition": {**document["definitions"][0]["versions"][0]["definition"], "steps": rewritten},
                    },
                    *document["definitions"][0]["versions"][1:],
                ],
            },
            *document["definitions"][1:],
        ],
    }

    answers = {
        "tampered": restore(api, target, tampered),
        "changed_step": restore(api, target, changed_step),
        "unsigned": restore(api, target, {k: v for k, v in document.items() if k != "signature"}),
        "future": restore(api, target, {**document, "format_version": 2}),
        "not_a_backup": restore(api, target, {"hello": "world"}),
    }

    codes = {name: (a.status_code, a.json()["code"], a.json()["field"]) for name, a in answers.items()}
    assert codes == {
        "tampered": (422, "backup_signature_invalid", "body.signature"),
        "changed_step": (422, "backup_signature_invalid", "body.signature"),
        "unsigned": (422, "backup_signature_invalid", "body.signature"),
        "future": (422, "backup_version_unsupported", "body.format_version"),
        "not_a_backup": (422, "backup_format_unknown", "body.format"),
    }
    assert configuration(api, target) == {"workflows": [], "schedules": [], "secrets": []}


def test_a_tenant_that_is_not_empty_is_refused_and_left_as_it_was(
    api: TestClient, source: tuple[ApiTenant, dict[str, str]]
) -> None:
    tenant, _ = source
    document = backup(api, tenant)
    with_workflow, with_secret = new_tenant(api, name="Busy"), new_tenant(api, name="Keeps secrets")
    new_workflow(api, with_workflow, GREET)
    api.put("/api/secrets/OTHER", json={"value": "x"}, headers=with_secret.admin)
    before = {t.id: configuration(api, t) for t in (with_workflow, with_secret)}

    answers = [restore(api, t, document) for t in (with_workflow, with_secret)]

    assert [(a.status_code, a.json()["code"]) for a in answers] == [(409, "tenant_not_empty")] * 2
    assert [a.json()["found"]["definitions"] for a in answers] == [1, 0]
    assert [a.json()["found"]["secrets"] for a in answers] == [0, 1]
    assert {t.id: configuration(api, t) for t in (with_workflow, with_secret)} == before


def test_another_tenant_gets_404_and_a_member_403(api: TestClient, source: tuple[ApiTenant, dict[str, str]]) -> None:
    tenant, _ = source
    document = backup(api, tenant)
    other = new_tenant(api, name="Other")

    answers = {
        "other_backup": api.post(f"/api/tenants/{tenant.id}/backup", headers=other.admin),
        "other_restore": api.post(f"/api/tenants/{tenant.id}/backup/restore", json=document, headers=other.admin),
        "member_backup": api.post(f"/api/tenants/{tenant.id}/backup", headers=tenant.member),
        "member_restore": api.post(f"/api/tenants/{other.id}/backup/restore", json=document, headers=other.member),
        "founder_backup": api.post(f"/api/tenants/{tenant.id}/backup", headers=founder_headers()),
        "founder_restore": api.post(
            f"/api/tenants/{other.id}/backup/restore", json=document, headers=founder_headers()
        ),
    }

    codes = {name: (a.status_code, a.json().get("code")) for name, a in answers.items()}
    assert codes == {
        "other_backup": (404, "tenant_not_found"),
        "other_restore": (404, "tenant_not_found"),
        "member_backup": (403, "admin_only"),
        "member_restore": (403, "admin_only"),
        "founder_backup": (200, None),
        "founder_restore": (201, None),
    }


def test_a_definition_the_target_plan_refuses_is_the_validators_error_and_nothing_is_created(
    api: TestClient, target_server: TargetServer
) -> None:
    enterprise = new_tenant(api, plan="enterprise", name="Writes freely")
    new_workflow(api, enterprise, GREET)
    new_workflow(
        api, enterprise, {"id": "push", "type": "http_request", "method": "POST", "url": target_server.url + "/echo"}
    )
    free = new_tenant(api, plan="free", name="Free")

    answer = restore(api, free, backup(api, enterprise))

    body = answer.json()
    assert (answer.status_code, body["code"]) == (422, "invalid_definition"), body
    assert body["field"].startswith("body.definitions[1].versions[0].definition")
    assert body["errors"] and body["valid"] is False
    assert configuration(api, free) == {"workflows": [], "schedules": [], "secrets": []}


def test_a_schedule_temporal_refuses_undoes_the_whole_restore(
    api: TestClient, settings: Settings, source: tuple[ApiTenant, dict[str, str]]
) -> None:
    tenant, _ = source
    document = backup(api, tenant)
    late = document["schedules"][-1] | {"cron": "99 * * * *", "interval_s": None}
    forged = resigned(settings, {**document, "schedules": [*document["schedules"][:-1], late]})
    target = new_tenant(api, name="Copy")

    answer = restore(api, target, forged)

    last = len(document["schedules"]) - 1
    assert (answer.status_code, answer.json()["code"]) == (422, "invalid_schedule"), answer.text
    assert answer.json()["field"] == f"body.schedules[{last}].cron"
    time.sleep(1)  # visibility would list a schedule the undo failed to delete by now
    assert configuration(api, target) == {"workflows": [], "schedules": [], "secrets": []}


def test_an_oversized_or_overfull_document_is_refused_cleanly(
    api: TestClient, settings: Settings, source: tuple[ApiTenant, dict[str, str]]
) -> None:
    tenant, _ = source
    document = backup(api, tenant)
    target = new_tenant(api, name="Copy")
    padded = {**document, "padding": "x" * settings.api_max_body_bytes}
    version = document["definitions"][1]["versions"][0]
    versions = [{**version, "version": number} for number in range(1, 1001)]
    many = [{**document["definitions"][1], "id": f"d{i}", "versions": versions} for i in range(6)]
    overfull = resigned(settings, {**document, "definitions": many, "schedules": [], "webhooks": []})

    answers = [restore(api, target, padded), restore(api, target, overfull)]

    assert [(a.status_code, a.json()["code"]) for a in answers] == [
        (413, "payload_too_large"),
        (422, "too_many_versions"),
    ]
    assert configuration(api, target) == {"workflows": [], "schedules": [], "secrets": []}


def reserialised(value: Any) -> Any:
    """What another JSON tool may make of a document: keys in another order, 10.0 written as 10."""
    if isinstance(value, dict):
        return {key: reserialised(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reserialised(item) for item in value]
    return int(value) if isinstance(value, float) and value.is_integer() else value


def test_a_document_rewritten_by_another_json_tool_still_restores(
    api: TestClient, source: tuple[ApiTenant, dict[str, str]]
) -> None:
    tenant, _ = source
    document = backup(api, tenant)
    assert document["webhooks"][0]["wait_timeout_s"] == 10.0
    target = new_tenant(api, name="Copy")

    answer = restore(api, target, reserialised(document))

    assert answer.status_code == 201, answer.text


def test_a_tenant_too_large_to_restore_gets_no_backup(api: TestClient) -> None:
    tenant = new_tenant(api, name="Huge")
    steps = [{"id": f"s{i}", "type": "log", "message": "x" * 3900} for i in range(60)]  # about 240 KiB a version
    workflow_id = new_workflow(api, tenant, *steps)
    for _ in range(17):  # 18 versions: more than API_MAX_BODY_BYTES (4 MiB) as one document
        stored = api.put(f"/api/workflows/{workflow_id}", json={"name": "flow", "steps": steps}, headers=tenant.admin)
        assert stored.status_code == 200, stored.text

    answer = api.post(f"/api/tenants/{tenant.id}/backup", headers=tenant.admin)

    assert (answer.status_code, answer.json()["code"]) == (409, "backup_too_large")
    assert answer.json()["limit"] == 4 * 1024 * 1024 and answer.json()["size"] > answer.json()["limit"] - 1024
