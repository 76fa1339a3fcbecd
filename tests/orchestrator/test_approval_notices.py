"""A gate that starts waiting e-mails its approvers (class B the tenant's admins, class C the founders) a link to
the run's page, and no approver's address enters the run's history."""

import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from google.protobuf.message import Message
from sqlalchemy import Engine
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

from api.main import create_app
from core.settings import Settings
from starters.connection import tenant_codec
from tests.api.tenancy import ApiTenant, new_tenant, new_workflow
from tests.api.waiting import poll_run, waiting
from tests.conftest import close_open_runs_of, founder_headers
from tests.fakes.smtp import SmtpSink

BASE_URL = "https://levqor.example"
FOUNDER_EMAIL = "notices-founder@levqor.test"
SUBJECT = "Approval needed"


def gate(approval_class: str) -> dict:
    return {"id": "gate", "type": "approval", "class": approval_class, "message": "Refund {{ input.amount }} EUR?"}


@pytest.fixture(scope="module")
def notices_settings(settings: Settings) -> Settings:
    update = {"task_queue": f"notices-{uuid.uuid4()}", "web_base_url": BASE_URL, "founder_email": FOUNDER_EMAIL}
    return settings.model_copy(update=update)


@pytest.fixture(scope="module")
def app(notices_settings: Settings) -> Iterator[TestClient]:
    """The app with its embedded worker, which sends the notices with this module's base URL and founder."""
    with TestClient(create_app(notices_settings)) as client:
        yield client
    close_open_runs_of(notices_settings)


def email(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}@example.com"


def invite(app: TestClient, tenant: ApiTenant, address: str, role: str) -> str:
    invited = app.post(
        f"/api/tenants/{tenant.id}/users", json={"email": address, "role": role}, headers=founder_headers()
    )
    assert invited.status_code == 201, invited.text
    return str(invited.json()["id"])


def start_gate(app: TestClient, tenant: ApiTenant, approval_class: str) -> str:
    workflow_id = new_workflow(app, tenant, gate(approval_class), {"id": "done", "type": "log", "message": "ok"})
    started = app.post(f"/api/workflows/{workflow_id}/runs", json={"input": {"amount": 42}}, headers=tenant.member)
    assert started.status_code == 202, started.text
    run_id = str(started.json()["run_id"])
    poll_run(app, run_id, tenant.member, waiting)
    return run_id


def notices(sink: SmtpSink, run_id: str) -> list[tuple[list[str], EmailMessage]]:
    return [
        (mail.rcpt_tos, mail.message)
        for mail in list(sink.messages)
        if str(mail.message["Subject"]).startswith(SUBJECT) and run_id in mail.message.get_content()
    ]


def wait_for_notice(sink: SmtpSink, run_id: str, timeout_s: float = 15) -> tuple[list[str], EmailMessage]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = notices(sink, run_id)
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no approval notice for run {run_id} within {timeout_s} s")


def payloads(message: Message) -> Iterator[Payload]:
    """Every payload anywhere in a history's protobuf messages."""
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE:
            continue
        if isinstance(value, Message):
            items = [value]
        else:  # a repeated field, or a map (whose values may be messages)
            items = list(value.values()) if hasattr(value, "values") else list(value)
        for item in items:
            if isinstance(item, Message):
                yield from payloads(item)


async def history_text(client: Client, engine: Engine, settings: Settings, run_id: str) -> str:
    """The run's history as stored, and every payload in it decoded with the tenant's key."""
    history = await client.get_workflow_handle(f"run-{run_id}").fetch_history()
    codec = tenant_codec(engine, settings.levqor_secrets_key)
    assert codec is not None
    found = [payload for event in history.events for payload in payloads(event)]
    plain = await codec.decode(found)
    return history.to_json() + "\n".join(p.data.decode(errors="replace") for p in plain)


async def test_a_class_b_gate_emails_the_tenants_current_admins_a_link_to_the_run(
    app: TestClient, smtp_sink: SmtpSink, client: Client, engine: Engine, notices_settings: Settings
) -> None:
    tenant = new_tenant(app)
    admin, other_admin, member, removed = email("admin"), email("admin2"), email("member"), email("removed")
    invite(app, tenant, admin, "admin")
    invite(app, tenant, other_admin, "admin")
    invite(app, tenant, member, "member")
    removed_id = invite(app, tenant, removed, "admin")
    assert app.delete(f"/api/tenants/{tenant.id}/users/{removed_id}", headers=founder_headers()).status_code == 200

    run_id = start_gate(app, tenant, "B")

    recipients, message = wait_for_notice(smtp_sink, run_id)
    body = message.get_content()
    assert sorted(recipients) == sorted([admin, other_admin])
    assert f"{BASE_URL}/app/runs/{run_id}" in body
    assert "Refund 42 EUR?" in body and "flow" in str(message["Subject"])
    assert all(member not in to for to, _ in notices(smtp_sink, run_id))
    text = await history_text(client, engine, notices_settings, run_id)
    assert "Refund 42 EUR?" in text  # the history was decoded: the gate's message is in it
    assert admin not in text and other_admin not in text


async def test_a_class_c_gate_emails_the_founders_and_no_tenant_user(
    app: TestClient, smtp_sink: SmtpSink, client: Client, engine: Engine, notices_settings: Settings
) -> None:
    tenant = new_tenant(app)
    admin = email("admin")
    invite(app, tenant, admin, "admin")

    run_id = start_gate(app, tenant, "C")

    recipients, message = wait_for_notice(smtp_sink, run_id)
    assert FOUNDER_EMAIL in recipients
    assert admin not in recipients
    assert f"{BASE_URL}/app/runs/{run_id}" in message.get_content()
    assert FOUNDER_EMAIL not in await history_text(client, engine, notices_settings, run_id)


def test_the_link_asks_for_sign_in_and_decides_nothing(app: TestClient, smtp_sink: SmtpSink) -> None:
    tenant = new_tenant(app)
    invite(app, tenant, email("admin"), "admin")
    run_id = start_gate(app, tenant, "B")
    wait_for_notice(smtp_sink, run_id)
    app.cookies.clear()

    opened = app.get(f"/app/runs/{run_id}", follow_redirects=False)

    assert opened.status_code == 303 and opened.headers["location"].startswith("/sign-in")
    assert poll_run(app, run_id, tenant.member, waiting)["status"] == "waiting_approval"
