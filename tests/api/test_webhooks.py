"""Inbound webhooks: a secret URL starts runs with the body as input; signatures, size, JSON, input schema and
delivery ids are checked before anything starts; hooks are managed per workflow and walled off per tenant."""

import hashlib
import hmac
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select
from starlette.requests import Request

from api.deps import CappedBody
from api.main import create_app
from core.errors import ApiError
from core.settings import Settings
from schemas.tables import WebhookTrigger
from tests.api.tenancy import ApiTenant, new_tenant, new_workflow
from tests.api.waiting import finished, poll_run
from tests.fakes.target import TargetServer

NOTE = {"id": "note", "type": "log", "message": "order {{ input.order_id }}"}
DONE = {"id": "done", "type": "log", "message": "done"}
MAX_WEBHOOK_BODY_BYTES = Settings.model_fields["webhook_max_body_bytes"].default  # the suite's settings keep it
TOO_BIG = b'{"pad": "' + b"x" * MAX_WEBHOOK_BODY_BYTES + b'"}'


def push(target_url: str, tag: str) -> dict:
    return {
        "id": "push",
        "type": "http_request",
        "method": "POST",
        "url": f"{target_url}/echo?t={tag}",
        "json": {"order": "{{ input.order_id }}"},
    }


def new_hook(api: TestClient, tenant: ApiTenant, workflow_id: str, **config: object) -> dict:
    answer = api.put(f"/api/workflows/{workflow_id}/webhook", json=config, headers=tenant.admin)
    assert answer.status_code == 201, answer.text
    return answer.json()


def sign(secret: str, body: bytes, at: float | None = None, delivery_id: str | None = None) -> dict[str, str]:
    """The headers of a delivery signed at `at` (now by default), as a sender following the README signs it."""
    timestamp = str(int(time.time() if at is None else at))
    content = f"{timestamp}.{delivery_id}." if delivery_id is not None else f"{timestamp}."
    mac = hmac.new(secret.encode(), content.encode() + body, hashlib.sha256).hexdigest()
    return {"X-Levqor-Timestamp": timestamp, "X-Levqor-Signature": f"sha256={mac}"}


def listed_runs(api: TestClient, tenant: ApiTenant, workflow_id: str, at_least: int = 1) -> set[str]:
    deadline = time.monotonic() + 10
    while True:  # visibility is eventually consistent
        page = api.get(f"/api/runs?workflow_id={workflow_id}", headers=tenant.member).json()
        runs = {r["run_id"] for r in page["runs"]}
        if len(runs) >= at_least or time.monotonic() > deadline:
            return runs
        time.sleep(0.05)


def test_a_delivery_starts_a_run_with_the_body_as_input(api: TestClient, target_server: TargetServer) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, NOTE, push(target_server.url, "hook-happy"))
    hook = new_hook(api, tenant, workflow_id)

    answer = api.post(hook["url"], json={"order_id": "A-17"})

    assert answer.status_code == 202, answer.text
    run = poll_run(api, answer.json()["run_id"], tenant.member, finished)
    assert run["status"] == "completed" and run["trigger"] == "webhook"
    assert run["steps"][0]["result"] == {"message": "order A-17"}
    sent = [c for c in target_server.calls_to("/echo") if c.query.get("t") == "hook-happy"]
    assert [c.json for c in sent] == [{"order": "A-17"}]


def test_a_hook_that_waits_answers_with_the_finished_run(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, NOTE, DONE)
    hook = new_hook(api, tenant, workflow_id, wait_for_result=True, wait_timeout_s=10)

    answer = api.post(hook["url"], json={"order_id": "B-2"})

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "completed" and answer.json()["run_id"]
    steps = [(s["step_id"], s["status"]) for s in answer.json()["steps"]]
    assert steps == [("note", "succeeded"), ("done", "succeeded")]
    assert answer.json()["steps"][0]["result"] == {"message": "order B-2"}


def test_a_hook_that_waits_answers_with_a_failed_run_and_its_error(
    api: TestClient, target_server: TargetServer
) -> None:
    tenant = new_tenant(api)
    broken = {"id": "push", "type": "http_request", "url": target_server.url + "/status/404"}
    workflow_id = new_workflow(api, tenant, broken, DONE)
    hook = new_hook(api, tenant, workflow_id, wait_for_result=True, wait_timeout_s=10)

    answer = api.post(hook["url"], json={})

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "failed" and answer.json()["error"]["type"]
    assert [(s["step_id"], s["status"]) for s in answer.json()["steps"]] == [("push", "failed")]


def test_a_hook_that_waits_answers_202_when_the_run_outlasts_the_timeout(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, {"id": "wait", "type": "delay", "seconds": 3600}, DONE)
    hook = new_hook(api, tenant, workflow_id, wait_for_result=True, wait_timeout_s=0.3)

    answer = api.post(hook["url"], json={})

    assert answer.status_code == 202 and set(answer.json()) == {"run_id"}
    assert api.post(f"/api/runs/{answer.json()['run_id']}/cancel", headers=tenant.member).status_code == 202


def test_an_unknown_rotated_or_deleted_token_is_not_found(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, DONE)
    first = new_hook(api, tenant, workflow_id)
    delivered = api.post(first["url"], json={})  # the process now remembers the hook behind this token
    rotated = api.put(f"/api/workflows/{workflow_id}/webhook", json={}, headers=tenant.admin)

    unknown = api.post("/api/hooks/whk_made-up", json={})
    retired = api.post(first["url"], json={})
    current = api.post(rotated.json()["url"], json={})
    deleted = api.delete(f"/api/workflows/{workflow_id}/webhook", headers=tenant.admin)
    after_delete = api.post(rotated.json()["url"], json={})

    assert rotated.status_code == 200 and rotated.json()["token"] != first["token"]
    assert unknown.status_code == 404 and unknown.json()["code"] == "hook_not_found"
    assert retired.json() == unknown.json() == after_delete.json() and retired.status_code == 404
    assert delivered.status_code == current.status_code == 202 and deleted.status_code == 204
    gone = api.get(f"/api/workflows/{workflow_id}/webhook", headers=tenant.member)
    assert gone.status_code == 404 and gone.json()["code"] == "webhook_not_found"


def test_a_signed_hook_refuses_missing_and_bad_signatures_and_starts_nothing(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, NOTE)
    hook = new_hook(api, tenant, workflow_id, signed=True)
    body = b'{"order_id": "S-1"}'
    secret = hook["signing_secret"]

    body_only = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()  # the old scheme

    missing = api.post(hook["url"], content=body, headers={"X-Levqor-Timestamp": str(int(time.time()))})
    wrong_key = api.post(hook["url"], content=body, headers=sign("guess", body))
    other_body = api.post(hook["url"], content=body, headers=sign(secret, b"{}"))
    malformed = api.post(hook["url"], content=body, headers={**sign(secret, body), "X-Levqor-Signature": "sha256=zz"})
    unstamped = api.post(hook["url"], content=body, headers={"X-Levqor-Signature": body_only})
    bad_stamp = api.post(hook["url"], content=body, headers={**sign(secret, body), "X-Levqor-Timestamp": "-5"})
    signed = api.post(hook["url"], content=body, headers=sign(secret, body))

    for refused in (missing, wrong_key, other_body, malformed):
        assert refused.status_code == 401 and refused.json()["code"] == "bad_signature"
        assert refused.json()["field"] == "x-levqor-signature"
    for refused in (unstamped, bad_stamp):
        assert refused.status_code == 401 and refused.json()["code"] == "bad_signature"
        assert refused.json()["field"] == "x-levqor-timestamp"
    assert signed.status_code == 202, signed.text
    assert listed_runs(api, tenant, workflow_id) == {signed.json()["run_id"]}


def test_a_replayed_or_reframed_signed_delivery_is_refused_and_starts_nothing(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, NOTE)
    hook = new_hook(api, tenant, workflow_id, signed=True)
    secret, body = hook["signing_secret"], b'{"order_id": "R-1"}'
    tolerance = Settings.model_fields["webhook_signature_tolerance_s"].default  # the suite's settings keep it
    captured = sign(secret, body, at=time.time() - tolerance - 60, delivery_id="d-1")

    replayed = api.post(hook["url"], content=body, headers={**captured, "X-Delivery-Id": "d-1"})
    from_the_future = api.post(hook["url"], content=body, headers=sign(secret, body, at=time.time() + tolerance + 60))
    restamped = api.post(
        hook["url"],
        content=body,
        headers={**captured, "X-Delivery-Id": "d-1", "X-Levqor-Timestamp": str(int(time.time()))},
    )
    fresh = sign(secret, body, delivery_id="d-2")
    other_id = api.post(hook["url"], content=body, headers={**fresh, "X-Delivery-Id": "d-3"})
    id_dropped = api.post(hook["url"], content=body, headers=fresh)
    by_key = api.post(hook["url"], content=body, headers={**fresh, "Idempotency-Key": "d-2", "X-Delivery-Id": "x"})
    by_delivery_id = api.post(hook["url"], content=body, headers={**fresh, "X-Delivery-Id": "d-2"})
    no_id = sign(secret, body)
    unlabelled, replayed_at_once = (api.post(hook["url"], content=body, headers=no_id) for _ in range(2))

    for stale in (replayed, from_the_future):
        assert (stale.status_code, stale.json()["code"]) == (401, "stale_signature")
        assert stale.json()["field"] == "x-levqor-timestamp"
    for forged in (restamped, other_id, id_dropped):
        assert (forged.status_code, forged.json()["code"]) == (401, "bad_signature")
    assert by_key.status_code == 202 and by_delivery_id.status_code == 202, by_delivery_id.text
    assert by_key.json()["run_id"] == by_delivery_id.json()["run_id"]  # one delivery id, one run
    assert unlabelled.status_code == replayed_at_once.status_code == 202
    assert unlabelled.json()["run_id"] == replayed_at_once.json()["run_id"]  # one signature, one run
    assert listed_runs(api, tenant, workflow_id, at_least=2) == {by_key.json()["run_id"], unlabelled.json()["run_id"]}


def test_an_oversized_body_is_refused_before_a_run_starts(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, DONE)
    hook = new_hook(api, tenant, workflow_id)

    declared = api.post(hook["url"], content=TOO_BIG, headers={"Content-Type": "application/json"})
    streamed = api.post(hook["url"], content=iter([TOO_BIG[:1024], TOO_BIG[1024:]]))
    fits = api.post(hook["url"], content=b'{"pad": "' + b"x" * 1000 + b'"}')

    assert "content-length" not in {k.lower() for k in streamed.request.headers}
    for refused in (declared, streamed):
        assert refused.status_code == 413 and refused.json()["code"] == "body_too_large"
        assert refused.json()["field"] == "body"
    assert listed_runs(api, tenant, workflow_id) == {fits.json()["run_id"]}


async def test_a_streamed_body_stops_being_read_once_over_the_limit() -> None:
    pulled = 0

    async def endless_stream() -> dict:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 64 * 1024, "more_body": True}

    request = Request({"type": "http", "method": "POST", "path": "/", "headers": []}, endless_stream)

    with pytest.raises(ApiError) as refused:
        await CappedBody(request, MAX_WEBHOOK_BODY_BYTES).read()

    assert refused.value.status == 413 and pulled == MAX_WEBHOOK_BODY_BYTES // (64 * 1024) + 1


def test_a_body_that_is_not_a_json_object_or_fails_the_input_schema_starts_nothing(api: TestClient) -> None:
    tenant = new_tenant(api)
    schema = {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "number"}}}
    workflow_id = new_workflow(api, tenant, DONE, input_schema=schema)
    hook = new_hook(api, tenant, workflow_id)

    not_json = api.post(hook["url"], content=b"amount=5")
    empty = api.post(hook["url"], content=b"")
    a_list = api.post(hook["url"], json=[{"amount": 5}])
    not_a_number = api.post(hook["url"], content=b'{"amount": NaN}')
    lone_surrogate = api.post(hook["url"], content=b'{"amount": 5, "note": "\\ud800"}')
    off_schema = api.post(hook["url"], json={"amount": "lots"})
    valid = api.post(hook["url"], json={"amount": 5})

    for refused in (not_json, empty, a_list, not_a_number, lone_surrogate):
        assert refused.status_code == 422 and refused.json()["field"] == "body", refused.text
    assert not_json.json()["code"] == "invalid_json" and a_list.json()["code"] == "invalid_body"
    assert off_schema.status_code == 422 and off_schema.json()["code"] == "invalid_input"
    assert off_schema.json()["field"] == "input.amount"
    assert listed_runs(api, tenant, workflow_id) == {valid.json()["run_id"]}


def test_a_repeated_delivery_starts_one_run(api: TestClient, target_server: TargetServer) -> None:
    tenant = new_tenant(api)
    hook = new_hook(api, tenant, new_workflow(api, tenant, push(target_server.url, "hook-idem")))
    order = {"order_id": "D-1"}

    first = api.post(hook["url"], json=order, headers={"Idempotency-Key": "delivery-1"})
    again = api.post(hook["url"], json=order, headers={"Idempotency-Key": "delivery-1"})
    by_delivery_id = api.post(hook["url"], json=order, headers={"X-Delivery-Id": "delivery-2"})
    by_delivery_id_again = api.post(hook["url"], json=order, headers={"X-Delivery-Id": "delivery-2"})
    other_body = api.post(hook["url"], json={"order_id": "D-9"}, headers={"Idempotency-Key": "delivery-1"})

    assert first.status_code == again.status_code == 202
    assert first.json()["run_id"] == again.json()["run_id"] != by_delivery_id.json()["run_id"]
    assert by_delivery_id.json()["run_id"] == by_delivery_id_again.json()["run_id"]
    assert other_body.status_code == 409 and other_body.json()["code"] == "idempotency_key_reused"
    for run_id in (first.json()["run_id"], by_delivery_id.json()["run_id"]):
        poll_run(api, run_id, tenant.member, finished)
    assert len([c for c in target_server.calls_to("/echo") if c.query.get("t") == "hook-idem"]) == 2


def test_another_tenant_can_neither_see_nor_change_the_hook(api: TestClient) -> None:
    owner, stranger = new_tenant(api), new_tenant(api, name="Stranger")
    workflow_id = new_workflow(api, owner, DONE)
    hook = new_hook(api, owner, workflow_id)
    path = f"/api/workflows/{workflow_id}/webhook"

    answers = [
        api.get(path, headers=stranger.admin),
        api.put(path, json={}, headers=stranger.admin),
        api.delete(path, headers=stranger.admin),
    ]

    assert [(a.status_code, a.json()["code"]) for a in answers] == [(404, "workflow_not_found")] * 3
    assert api.post(hook["url"], json={}).status_code == 202


def test_get_shows_the_configuration_but_never_the_token_or_signing_secret(api: TestClient, engine: Engine) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, DONE)
    hook = new_hook(api, tenant, workflow_id, signed=True, wait_for_result=True, wait_timeout_s=5)

    shown = api.get(f"/api/workflows/{workflow_id}/webhook", headers=tenant.member)

    assert shown.status_code == 200
    assert set(shown.json()) == {"definition_id", "signed", "wait_for_result", "wait_timeout_s", "created_at"}
    assert shown.json()["signed"] is True and shown.json()["wait_timeout_s"] == 5
    assert hook["token"] not in shown.text and hook["signing_secret"] not in shown.text
    assert hook["url"] == f"/api/hooks/{hook['token']}"
    with Session(engine) as session:
        row = session.exec(select(WebhookTrigger).where(WebhookTrigger.definition_id == workflow_id)).one()
    assert row.token_hash == hashlib.sha256(hook["token"].encode()).hexdigest()
    assert row.signing_secret and hook["signing_secret"] not in row.signing_secret


def test_only_admins_change_hooks_and_the_configuration_is_checked(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, DONE)
    path = f"/api/workflows/{workflow_id}/webhook"

    by_member = api.put(path, json={}, headers=tenant.member)
    too_long = api.put(path, json={"wait_for_result": True, "wait_timeout_s": 31}, headers=tenant.admin)
    zero = api.put(path, json={"wait_timeout_s": 0}, headers=tenant.admin)
    unknown = api.put(path, json={"secret": "mine"}, headers=tenant.admin)
    no_workflow = api.put("/api/workflows/no-such-id/webhook", json={}, headers=tenant.admin)

    assert by_member.status_code == 403 and by_member.json()["code"] == "admin_only"
    assert [a.json()["field"] for a in (too_long, zero, unknown)] == [
        "body.wait_timeout_s",
        "body.wait_timeout_s",
        "body.secret",
    ]
    assert no_workflow.status_code == 404
    assert api.get(path, headers=tenant.admin).status_code == 404


@pytest.fixture
def keyless_api(settings: Settings) -> Iterator[TestClient]:
    """The app without a secrets key, sharing the database and Temporal; no second worker."""
    keyless = settings.model_copy(update={"levqor_secrets_key": None, "api_embedded_worker": False})
    with TestClient(create_app(keyless)) as test_client:
        yield test_client


def test_signed_hooks_need_the_secrets_key(api: TestClient, keyless_api: TestClient) -> None:
    tenant = new_tenant(api)
    signed_hook = new_hook(api, tenant, new_workflow(api, tenant, DONE), signed=True)
    workflow_id = new_workflow(api, tenant, DONE)
    path = f"/api/workflows/{workflow_id}/webhook"

    refused = keyless_api.put(path, json={"signed": True}, headers=tenant.admin)
    delivery = keyless_api.post(signed_hook["url"], content=b"{}", headers=sign("unknown", b"{}"))

    assert refused.status_code == 503 and refused.json()["code"] == "secrets_not_configured"
    assert delivery.status_code == 503 and delivery.json()["code"] == "secrets_not_configured"
    assert api.get(path, headers=tenant.admin).status_code == 404
