"""Runs through the API: start, idempotency, progress, listing, cancel, approvals and tenant walls."""

import time

from fastapi.testclient import TestClient

from tests.api.tenancy import ApiTenant, new_tenant, new_workflow
from tests.api.waiting import finished, poll_run, waiting
from tests.conftest import founder_headers
from tests.fakes.target import TargetServer

GATE_B = {"id": "gate", "type": "approval", "class": "B", "message": "Refund {{ input.amount }}?"}
GATE_C = {**GATE_B, "class": "C"}
DONE = {"id": "done", "type": "log", "message": "done"}


def start(
    api: TestClient,
    tenant: ApiTenant,
    workflow_id: str,
    body: dict | None = None,
    headers: dict[str, str] | None = None,
) -> str:
    answer = api.post(
        f"/api/workflows/{workflow_id}/runs", json=body or {"input": {}}, headers={**tenant.member, **(headers or {})}
    )
    assert answer.status_code == 202, answer.text
    return answer.json()["run_id"]


def test_a_started_run_completes_and_shows_each_step(api: TestClient, target_server: TargetServer) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(
        api, tenant, {"id": "fetch", "type": "http_request", "url": target_server.url + "/json"}, DONE
    )

    run_id = start(api, tenant, workflow_id)

    run = poll_run(api, run_id, tenant.member, finished)
    assert run["status"] == "completed"
    assert [(s["step_id"], s["status"], s["attempts"]) for s in run["steps"]] == [
        ("fetch", "succeeded", 1),
        ("done", "succeeded", 1),
    ]
    assert run["steps"][0]["result"]["status"] == 200


def test_the_same_idempotency_key_never_starts_a_second_run(api: TestClient, target_server: TargetServer) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(
        api,
        tenant,
        {"id": "call", "type": "http_request", "method": "POST", "url": target_server.url + "/echo?idem=api-1"},
    )

    first = start(api, tenant, workflow_id, headers={"Idempotency-Key": "order-77"})
    poll_run(api, first, tenant.member, finished)
    second = start(api, tenant, workflow_id, headers={"Idempotency-Key": "order-77"})
    third = start(api, tenant, workflow_id, headers={"Idempotency-Key": "order-78"})

    assert first == second != third
    poll_run(api, third, tenant.member, finished)
    assert len([c for c in target_server.calls_to("/echo") if c.query.get("idem") == "api-1"]) == 2


def test_reusing_an_idempotency_key_with_another_input_conflicts(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, DONE)
    start(api, tenant, workflow_id, {"input": {"order": 1}}, headers={"Idempotency-Key": "order-1"})

    reused = api.post(
        f"/api/workflows/{workflow_id}/runs",
        json={"input": {"order": 2}},
        headers={**tenant.member, "Idempotency-Key": "order-1"},
    )

    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"


def test_input_is_checked_against_the_input_schema(api: TestClient) -> None:
    tenant = new_tenant(api)
    schema = {"type": "object", "required": ["amount"], "properties": {"amount": {"type": "number"}}}
    workflow_id = new_workflow(api, tenant, DONE, input_schema=schema)

    answer = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {"amount": "lots"}}, headers=tenant.member)

    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_input" and answer.json()["field"] == "input.amount"
    assert api.get(f"/api/runs?workflow_id={workflow_id}", headers=tenant.member).json()["runs"] == []


def test_runs_are_listed_per_tenant_and_filtered(api: TestClient) -> None:
    tenant, other = new_tenant(api), new_tenant(api, name="Other")
    quick = new_workflow(api, tenant, DONE)
    gated = new_workflow(api, tenant, GATE_B, DONE)
    done_id, waiting_id = start(api, tenant, quick), start(api, tenant, gated)
    poll_run(api, done_id, tenant.member, finished)
    poll_run(api, waiting_id, tenant.member, waiting)

    def listed(query: str, headers: dict[str, str]) -> set[str]:
        deadline = time.monotonic() + 10
        while True:  # visibility is eventually consistent
            runs = {r["run_id"] for r in api.get(f"/api/runs?{query}", headers=headers).json()["runs"]}
            if runs or time.monotonic() > deadline:
                return runs
            time.sleep(0.1)

    assert listed(f"workflow_id={quick}", tenant.member) == {done_id}
    assert {r["trigger"] for r in api.get("/api/runs", headers=tenant.member).json()["runs"]} == {"api"}
    assert listed("status=waiting_approval", tenant.member) == {waiting_id}
    # Visibility has shown both runs to their tenant: one read shows what the other tenant sees.
    assert api.get("/api/runs", headers=other.member).json()["runs"] == []
    assert api.get("/api/runs?status=exploded", headers=tenant.member).json()["field"] == "query.status"


def test_cancel_stops_a_run(api: TestClient) -> None:
    tenant = new_tenant(api)
    run_id = start(api, tenant, new_workflow(api, tenant, {"id": "wait", "type": "delay", "seconds": 3600}, DONE))
    poll_run(api, run_id, tenant.member, lambda r: r["current_step"] == "wait")

    cancelled = api.post(f"/api/runs/{run_id}/cancel", headers=tenant.member)

    assert cancelled.status_code == 202
    assert poll_run(api, run_id, tenant.member, finished)["status"] == "cancelled"
    again = api.post(f"/api/runs/{run_id}/cancel", headers=tenant.member)
    assert again.status_code == 409 and again.json()["code"] == "run_not_running"


def test_class_b_gate_needs_a_tenant_admin(api: TestClient) -> None:
    tenant = new_tenant(api)
    run_id = start(api, tenant, new_workflow(api, tenant, GATE_B, DONE), {"input": {"amount": 30}})
    poll_run(api, run_id, tenant.member, waiting)

    pending = api.get("/api/approvals", headers=tenant.member).json()
    by_member = api.post(f"/api/runs/{run_id}/approvals/gate", json={"decision": "approve"}, headers=tenant.member)
    by_admin = api.post(
        f"/api/runs/{run_id}/approvals/gate", json={"decision": "approve", "comment": "ok"}, headers=tenant.admin
    )

    assert [(p["run_id"], p["gate"]["message"]) for p in pending] == [(run_id, "Refund 30?")]
    assert by_member.status_code == 403 and by_member.json()["code"] == "role_not_allowed"
    assert by_admin.status_code == 200
    assert poll_run(api, run_id, tenant.member, finished)["status"] == "completed"


def test_class_c_gate_needs_the_founder_and_can_be_rejected(api: TestClient) -> None:
    tenant = new_tenant(api)
    run_id = start(api, tenant, new_workflow(api, tenant, GATE_C, DONE))
    poll_run(api, run_id, tenant.member, waiting)

    by_admin = api.post(f"/api/runs/{run_id}/approvals/gate", json={"decision": "approve"}, headers=tenant.admin)
    founder_sees = api.get("/api/approvals", headers=founder_headers()).json()
    by_founder = api.post(f"/api/runs/{run_id}/approvals/gate", json={"decision": "reject"}, headers=founder_headers())

    assert by_admin.status_code == 403
    assert run_id in {p["run_id"] for p in founder_sees}
    assert by_founder.status_code == 200
    run = poll_run(api, run_id, tenant.member, finished)
    assert run["status"] == "rejected" and [s["step_id"] for s in run["steps"]] == ["gate"]


def test_deciding_a_gate_that_is_not_waiting_conflicts(api: TestClient) -> None:
    tenant = new_tenant(api)
    run_id = start(api, tenant, new_workflow(api, tenant, GATE_B, DONE))
    poll_run(api, run_id, tenant.member, waiting)

    wrong_step = api.post(f"/api/runs/{run_id}/approvals/done", json={"decision": "approve"}, headers=tenant.admin)
    bad_body = api.post(f"/api/runs/{run_id}/approvals/gate", json={"decision": "maybe"}, headers=tenant.admin)

    assert wrong_step.status_code == 409 and wrong_step.json()["code"] == "step_not_waiting"
    assert bad_body.status_code == 422 and bad_body.json()["field"] == "body.decision"
    api.post(f"/api/runs/{run_id}/cancel", headers=tenant.admin)


def test_another_tenant_gets_404_for_runs_and_gates(api: TestClient) -> None:
    owner, stranger = new_tenant(api), new_tenant(api, name="Stranger")
    run_id = start(api, owner, new_workflow(api, owner, GATE_B, DONE))
    poll_run(api, run_id, owner.member, waiting)

    answers = [
        api.get(f"/api/runs/{run_id}", headers=stranger.admin),
        api.post(f"/api/runs/{run_id}/cancel", headers=stranger.admin),
        api.post(f"/api/runs/{run_id}/approvals/gate", json={"decision": "approve"}, headers=stranger.admin),
        api.get("/api/runs/not-a-uuid", headers=stranger.admin),
    ]

    assert [a.status_code for a in answers] == [404, 404, 404, 404]
    assert {a.json()["code"] for a in answers} == {"run_not_found"}
    assert api.get("/api/approvals", headers=stranger.admin).json() == []
    assert poll_run(api, run_id, owner.member, waiting)["status"] == "waiting_approval"
    api.post(f"/api/runs/{run_id}/cancel", headers=owner.admin)


def test_system_pulse_and_heartbeat(api: TestClient) -> None:
    pulse = api.get("/api/system/pulse")
    heartbeat = api.get("/api/system/heartbeat")

    assert pulse.json() == {"alive": True}
    body = heartbeat.json()
    assert body["status"] == "ok" and body["db_ok"] and body["temporal_ok"]
    assert body["uptime_seconds"] >= 0 and body["version"]


def test_unknown_routes_and_methods_answer_json(api: TestClient) -> None:
    missing = api.get("/api/nothing-here")
    wrong_method = api.delete("/api/system/pulse")

    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"


def test_oversized_input_and_foreign_page_tokens_are_clear_errors(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, DONE)

    too_big = api.post(
        f"/api/workflows/{workflow_id}/runs", json={"input": {"blob": "x" * 300_000}}, headers=tenant.member
    )
    not_hex = api.get("/api/runs?page_token=zz-top", headers=tenant.member)
    foreign = api.get("/api/runs?page_token=deadbeef", headers=tenant.member)

    assert too_big.status_code == 413 and too_big.json()["field"] == "input"
    assert not_hex.status_code == 422 and not_hex.json()["code"] == "invalid_page_token"
    assert foreign.status_code == 422 and foreign.json()["field"] == "page_token"


def test_runs_are_paged_with_tokens_the_api_signs(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, DONE)
    started = {start(api, tenant, workflow_id) for _ in range(3)}
    for run_id in started:
        poll_run(api, run_id, tenant.member, finished)

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # visibility catches up with the three runs
        if len(api.get(f"/api/runs?workflow_id={workflow_id}", headers=tenant.member).json()["runs"]) == 3:
            break
        time.sleep(0.1)

    page = api.get(f"/api/runs?workflow_id={workflow_id}&limit=2", headers=tenant.member).json()
    seen = [r["run_id"] for r in page["runs"]]
    rest = api.get(
        f"/api/runs?workflow_id={workflow_id}&limit=2&page_token={page['next_page_token']}", headers=tenant.member
    ).json()
    seen += [r["run_id"] for r in rest["runs"]]
    other_query = api.get(f"/api/runs?limit=2&page_token={page['next_page_token']}", headers=tenant.member)

    assert len(seen) == 3 and set(seen) == started
    assert other_query.status_code == 422


def test_text_that_is_not_valid_unicode_is_refused(api: TestClient) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, DONE)
    json_headers = {"content-type": "application/json"}

    run = api.post(
        f"/api/workflows/{workflow_id}/runs",
        content=b'{"input": {"x": "\\ud800"}}',
        headers={**tenant.member, **json_headers},
    )
    definition = api.post(
        "/api/workflows",
        content=b'{"name": "a", "steps": [{"id": "d", "type": "log", "message": "\\ud800"}]}',
        headers={**tenant.admin, **json_headers},
    )

    assert run.status_code == 422 and run.json()["code"] == "invalid_text"
    assert definition.status_code == 422 and "invalid_text" in {e["code"] for e in definition.json()["errors"]}
