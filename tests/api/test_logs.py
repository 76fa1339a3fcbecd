"""Log lines are JSON with the request's bound context, and never carry a secret or a full e-mail address."""

import io
import json
import logging

import structlog
from fastapi.testclient import TestClient

from core.logs import configure_logging
from core.settings import Settings
from tests.api.tenancy import new_tenant


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
