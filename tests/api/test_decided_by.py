"""A gate's decision records who decided, for people to read: a signed-in user's e-mail, an API key's prefix and
label, or `founder` for the founder token."""

import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from core.settings import Settings
from tests.api.tenancy import ApiTenant, new_tenant, new_workflow
from tests.api.waiting import finished, poll_run, waiting
from tests.conftest import close_open_runs_of, founder_headers
from tests.fakes.smtp import SmtpSink
from tests.web.conftest import invite_by_founder, mails_to, sign_in, unique_email


def gate(approval_class: str) -> dict:
    return {"id": "gate", "type": "approval", "class": approval_class, "message": "Ship it?"}


@pytest.fixture(scope="module")
def app(settings: Settings) -> Iterator[TestClient]:
    """The app with its embedded worker (which sends the sign-in links), allowing many links per client."""
    own = settings.model_copy(update={"task_queue": f"decided-by-{uuid.uuid4()}", "sign_in_links_per_ip": 10_000})
    with TestClient(create_app(own)) as client:
        yield client
    close_open_runs_of(own)


def waiting_run(app: TestClient, tenant: ApiTenant, approval_class: str) -> str:
    workflow_id = new_workflow(app, tenant, gate(approval_class))
    started = app.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=tenant.member)
    assert started.status_code == 202, started.text
    run_id = str(started.json()["run_id"])
    poll_run(app, run_id, tenant.member, waiting)
    return run_id


def wait_for_mails(sink: SmtpSink, email: str, count: int, timeout_s: float = 15) -> None:
    """Waits until `email` has `count` e-mails, so a sign-in that follows counts its link's e-mail right."""
    deadline = time.monotonic() + timeout_s
    while len(mails_to(sink, email)) < count:
        assert time.monotonic() < deadline, f"{email} got {len(mails_to(sink, email))} e-mails, not {count}"
        time.sleep(0.05)


def decided_by(app: TestClient, tenant: ApiTenant, run_id: str) -> str:
    run = poll_run(app, run_id, tenant.member, finished)
    return str(run["steps"][0]["result"]["decided_by"])


def test_a_signed_in_admins_decision_records_their_email(app: TestClient, smtp_sink: SmtpSink) -> None:
    tenant = new_tenant(app)
    admin = unique_email("admin")
    invite_by_founder(app, tenant.id, admin, "admin")
    run_id = waiting_run(app, tenant, "B")
    wait_for_mails(smtp_sink, admin, 2)  # the invitation, and the notice that the gate waits
    app.cookies.clear()
    csrf = sign_in(app, smtp_sink, admin)

    answer = app.post(
        f"/api/runs/{run_id}/approvals/gate", json={"decision": "approve"}, headers={"X-CSRF-Token": csrf}
    )

    app.cookies.clear()
    assert answer.status_code == 200, answer.text
    assert decided_by(app, tenant, run_id) == admin


def test_an_api_keys_decision_records_its_prefix_and_label(app: TestClient) -> None:
    tenant = new_tenant(app)
    created = app.post(
        f"/api/tenants/{tenant.id}/api-keys", json={"role": "admin", "label": "release bot"}, headers=tenant.admin
    )
    assert created.status_code == 201, created.text
    key, prefix = created.json()["key"], created.json()["prefix"]
    run_id = waiting_run(app, tenant, "B")

    answer = app.post(
        f"/api/runs/{run_id}/approvals/gate", json={"decision": "reject"}, headers={"Authorization": f"Bearer {key}"}
    )

    assert answer.status_code == 200, answer.text
    recorded = decided_by(app, tenant, run_id)
    assert recorded == f"key {prefix}… (release bot)"
    assert key not in recorded


def test_the_founder_tokens_decision_records_founder(app: TestClient) -> None:
    tenant = new_tenant(app)
    run_id = waiting_run(app, tenant, "C")

    answer = app.post(f"/api/runs/{run_id}/approvals/gate", json={"decision": "approve"}, headers=founder_headers())

    assert answer.status_code == 200, answer.text
    assert decided_by(app, tenant, run_id) == "founder"
