"""A definition's `purpose` on the API, and the launch stage read at admission: a founder's change of the stage
governs the next marketing run within seconds, whichever way it starts."""

import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from language.purpose import CAMPAIGN_REVIEW_ID
from tests.api.tenancy import ApiTenant, new_tenant, new_workflow
from tests.api.waiting import finished, poll_run
from tests.conftest import founder_headers
from tests.fakes.smtp import SmtpSink
from tests.fakes.target import TargetServer

LOG = {"id": "hello", "type": "log", "message": "hi"}


def email(recipient: str) -> dict:
    return {"id": "announce", "type": "email", "to": [recipient], "subject": "Meet Levqor", "body": "Soon."}


def set_stage(api: TestClient, stage: str) -> None:
    changed = api.put(
        "/api/admin/toggles", json={"launch_stage": stage, "reason": "launch test"}, headers=founder_headers()
    )
    assert changed.status_code == 200, changed.text


@pytest.fixture
def tenant(api: TestClient) -> ApiTenant:
    return new_tenant(api)


@pytest.fixture
def pre_launch(api: TestClient) -> Iterator[None]:
    set_stage(api, "pre-launch")
    yield
    set_stage(api, "post-launch")


def start(api: TestClient, tenant: ApiTenant, workflow_id: str) -> str:
    started = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=tenant.member)
    assert started.status_code == 202, started.text
    return str(started.json()["run_id"])


def in_review(body: dict) -> bool:
    return body.get("waiting") is not None and body["waiting"]["step_id"] == CAMPAIGN_REVIEW_ID


def test_the_schema_offers_purpose_and_answers_show_it(api: TestClient, tenant: ApiTenant) -> None:
    schema = api.get("/api/workflows/schema", headers=tenant.member).json()
    marketing = new_workflow(api, tenant, LOG, purpose="marketing")
    operations = new_workflow(api, tenant, LOG)

    answers = [api.get(f"/api/workflows/{wf}", headers=tenant.member).json() for wf in (marketing, operations)]

    assert schema["definition"]["properties"]["purpose"]["enum"] == ["operations", "marketing"]
    assert schema["definition"]["properties"]["purpose"]["default"] == "operations"
    assert [a["purpose"] for a in answers] == ["marketing", "operations"]
    assert answers[0]["definition"]["purpose"] == "marketing"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"purpose": "sales", "steps": [LOG]}, "invalid_definition", "$.purpose"),
        ({"purpose": "marketing", "steps": [{**LOG, "id": CAMPAIGN_REVIEW_ID}]}, "invalid_definition", "$.steps[0].id"),
    ],
    ids=["unknown-purpose", "reserved-step-id"],
)
def test_a_bad_purpose_answers_422_and_stores_nothing(
    api: TestClient, tenant: ApiTenant, body: dict, code: str, field: str
) -> None:
    answer = api.post("/api/workflows", json={"name": "flow", **body}, headers=tenant.admin)

    assert answer.status_code == 422
    assert (answer.json()["code"], answer.json()["field"]) == (code, field)
    assert api.get("/api/workflows", headers=tenant.admin).json() == []


def test_changing_the_stage_governs_the_next_marketing_run_within_seconds(
    api: TestClient, tenant: ApiTenant, smtp_sink: SmtpSink
) -> None:
    recipient = f"lead-{uuid.uuid4().hex[:8]}@example.com"
    workflow_id = new_workflow(api, tenant, email(recipient), purpose="marketing")
    operations_id = new_workflow(api, tenant, email(recipient))
    set_stage(api, "pre-launch")
    try:
        changed_at = time.monotonic()
        held = poll_run(api, start(api, tenant, workflow_id), tenant.member, in_review)
        waited_for = time.monotonic() - changed_at
        operations = poll_run(api, start(api, tenant, operations_id), tenant.member, finished)
        queue = api.get("/api/approvals", headers=founder_headers()).json()
    finally:
        set_stage(api, "post-launch")
    sent = poll_run(api, start(api, tenant, workflow_id), tenant.member, finished)

    assert waited_for < 10
    assert held["status"] == "waiting_approval" and held["waiting"]["approval_class"] == "C"
    assert any(gate["run_id"] == held["run_id"] and gate["gate"]["step_id"] == CAMPAIGN_REVIEW_ID for gate in queue)
    assert [(s["step_id"], s["status"]) for s in operations["steps"]] == [("announce", "succeeded")]
    assert [(s["step_id"], s["status"]) for s in sent["steps"]] == [("announce", "succeeded")]
    assert len([m for m in smtp_sink.messages if recipient in m.rcpt_tos]) == 2
    decided = api.post(
        f"/api/runs/{held['run_id']}/approvals/{CAMPAIGN_REVIEW_ID}",
        json={"decision": "reject", "comment": "not before launch"},
        headers=founder_headers(),
    )
    assert decided.status_code == 200, decided.text
    dry = poll_run(api, held["run_id"], tenant.member, finished)
    assert dry["status"] == "completed"
    assert [s["status"] for s in dry["steps"]] == ["rejected", "dry_run"]
    assert len([m for m in smtp_sink.messages if recipient in m.rcpt_tos]) == 2


def test_a_schedules_run_reads_the_stage_when_it_fires(api: TestClient, tenant: ApiTenant, pre_launch: None) -> None:
    workflow_id = new_workflow(api, tenant, email("lead@example.com"), purpose="marketing")
    schedule = api.post(
        f"/api/workflows/{workflow_id}/schedules", json={"interval_s": 86400, "paused": True}, headers=tenant.admin
    )
    assert schedule.status_code == 201, schedule.text

    fired = api.post(f"/api/schedules/{schedule.json()['id']}/trigger", headers=tenant.admin)

    assert fired.status_code == 202, fired.text
    held = poll_run(api, fired.json()["run_id"], tenant.member, in_review)
    assert held["trigger"] == "schedule"
    api.delete(f"/api/schedules/{schedule.json()['id']}", headers=tenant.admin)


def test_a_redrive_reads_the_stage_when_it_is_admitted(
    api: TestClient, tenant: ApiTenant, target_server: TargetServer
) -> None:
    flaky = f"{target_server.url}/flaky/launch-{uuid.uuid4().hex[:8]}?fail=1"
    workflow_id = new_workflow(
        api,
        tenant,
        {"id": "fetch", "type": "http_request", "url": flaky, "retry": {"max_attempts": 1}},
        email("lead@example.com"),
        purpose="marketing",
    )
    failed = poll_run(api, start(api, tenant, workflow_id), tenant.member, finished)
    assert failed["status"] == "failed"
    set_stage(api, "pre-launch")
    try:
        retried = api.post(f"/api/runs/{failed['run_id']}/retry", headers=tenant.admin)
        assert retried.status_code == 202, retried.text
        held = poll_run(api, retried.json()["run_id"], tenant.member, in_review)
    finally:
        set_stage(api, "post-launch")

    assert held["trigger"] == "redrive"
    assert [(s["step_id"], s["status"]) for s in held["steps"]] == [
        ("fetch", "succeeded"),
        (CAMPAIGN_REVIEW_ID, "waiting"),
    ]


def test_a_webhook_delivery_passes_the_same_admission(api: TestClient, tenant: ApiTenant, pre_launch: None) -> None:
    workflow_id = new_workflow(api, tenant, email("lead@example.com"), purpose="marketing")
    hook = api.put(f"/api/workflows/{workflow_id}/webhook", json={"signed": False}, headers=tenant.admin)
    assert hook.status_code == 201, hook.text

    delivered = api.post(hook.json()["url"], json={"lead": "ann"})

    assert delivered.status_code == 202, delivered.text
    held = poll_run(api, delivered.json()["run_id"], tenant.member, in_review)
    assert held["trigger"] == "webhook"
