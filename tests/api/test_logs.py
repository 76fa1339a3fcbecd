"""Log lines are JSON with the request's bound context, and never carry a secret or a full e-mail address."""

import io
import json
import logging
import secrets
from pathlib import Path

import structlog
from fastapi.testclient import TestClient

from api.main import create_app
from core.logs import configure_logging
from core.settings import Settings
from tests.api.tenancy import new_tenant, new_workflow
from tests.api.waiting import finished, poll_run
from tests.fakes.target import TargetServer


def capture_json_logs() -> io.StringIO:
    configure_logging("json", "INFO")
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    return stream


def test_log_lines_are_json_with_request_and_tenant_and_no_secret(api: TestClient, settings: Settings) -> None:
    tenant = new_tenant(api)
    key = tenant.member["Authorization"].removeprefix("Bearer ")
    stream = capture_json_logs()
    try:
        api.post(
            "/api/guardian/telemetry/ingest",
            headers={**tenant.member, "X-Request-ID": "req-logs-1"},
            json={"source": "web", "events": [{"kind": "event", "message": "hello"}]},
        )
        with structlog.contextvars.bound_contextvars(run_id="run-42", step_id="notify"):
            structlog.get_logger().info(
                "sending mail",
                to="bob.smith@example.com",
                password="hunter2",
                headers={"Authorization": f"Bearer {key}"},
                note=f"key {key}",
            )
        logging.getLogger("temporalio.activity").warning(
            "stdlib line for alice@example.com", extra={"api_key": "sk_live_abcdefghijklmnop", "attempt": 2}
        )
    finally:
        configure_logging(settings.log_format, settings.log_level)

    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    ingested = next(line for line in lines if line["event"] == "telemetry ingested")
    assert (ingested["request_id"], ingested["tenant_id"], ingested["level"]) == ("req-logs-1", tenant.id, "info")
    mail = next(line for line in lines if line["event"] == "sending mail")
    assert (mail["run_id"], mail["step_id"], mail["to"], mail["password"]) == (
        "run-42",
        "notify",
        "b***@example.com",
        "***",
    )
    assert mail["headers"] == {"Authorization": "***"} and mail["note"] == "key ***"
    stdlib = next(line for line in lines if line["event"].startswith("stdlib line"))
    assert (stdlib["event"], stdlib["api_key"], stdlib["attempt"]) == ("stdlib line for a***@example.com", "***", 2)
    for secret in (key, "hunter2", "bob.smith@", "alice@", "sk_live_abcdefghijklmnop"):
        assert secret not in text


def test_a_hook_token_in_a_failing_path_reaches_no_log_line_and_no_metric_label(
    api: TestClient, settings: Settings, tmp_path: Path
) -> None:
    # The same app with its database unreachable: every hook delivery fails in the database error handler.
    log_file = tmp_path / "api.log"
    broken = settings.model_copy(
        update={
            "database_url": "postgresql+psycopg://levqor@127.0.0.1:9/unreachable?connect_timeout=2",
            "api_embedded_worker": False,
            "log_format": "json",
            "log_file": str(log_file),
        }
    )
    token = "whk_" + secrets.token_urlsafe(32)
    stream = capture_json_logs()
    try:
        with TestClient(create_app(broken)) as broken_api:
            failed = broken_api.post(f"/api/hooks/{token}", json={"x": 1})
            scraped = broken_api.get("/metrics").text
            odd_method = broken_api.request("PROPFIND", "/api/system/pulse")
            after = broken_api.get("/metrics").text
    finally:
        configure_logging(settings.log_format, settings.log_level)

    assert (failed.status_code, failed.json()["code"]) == (503, "database_unavailable")
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    logged = next(line for line in lines if line["event"] == "database call failed")
    assert logged["route"] == "/api/hooks/{token}"
    for text in (log_file.read_text(), stream.getvalue(), scraped):
        assert token not in text and token[4:] not in text
    assert 'method="POST",route="/api/hooks/{token}",status="503"' in scraped
    assert odd_method.status_code == 405
    assert 'method="OTHER",route="/api/system/pulse",status="405"' in after and "PROPFIND" not in after


def test_a_secret_in_a_steps_url_reaches_no_log_line(
    api: TestClient, settings: Settings, target_server: TargetServer
) -> None:
    tenant = new_tenant(api)
    secret = "crm-key-" + secrets.token_hex(12)
    assert api.put("/api/secrets/CRM_KEY", json={"value": secret}, headers=tenant.admin).status_code == 200
    step = {
        "id": "call",
        "type": "http_request",
        "method": "GET",
        "url": f"{target_server.url}/echo?key={{{{ secrets.CRM_KEY }}}}",
    }
    workflow_id = new_workflow(api, tenant, step)
    stream = capture_json_logs()
    try:
        run = api.post(f"/api/workflows/{workflow_id}/runs", json={}, headers=tenant.member).json()
        outcome = poll_run(api, run["run_id"], tenant.member, finished)
    finally:
        configure_logging(settings.log_format, settings.log_level)

    assert outcome["status"] == "completed", outcome
    assert any(call.query.get("key") == secret for call in target_server.calls_to("/echo"))
    assert secret not in stream.getvalue()
