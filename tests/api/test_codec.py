"""The tenant payload codec: user runs are ciphertext in Temporal, readable through the founder's codec server."""

import base64
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

from core.payload_codec import ENCODING, TENANT_METADATA
from core.settings import Settings
from tests.api.tenancy import new_tenant, new_workflow
from tests.api.waiting import finished, poll_run
from tests.conftest import founder_headers

PERSONAL = "grace.hopper@navy.example"


def codec_body(*payloads: Payload) -> dict[str, Any]:
    return {
        "payloads": [
            {
                "metadata": {key: base64.b64encode(value).decode() for key, value in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
            for p in payloads
        ]
    }


async def started_input(settings: Settings, workflow_id: str) -> Payload:
    """The run's input as Temporal stores it, read without the codec."""
    raw = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    history = await raw.get_workflow_handle(workflow_id).fetch_history()
    [payload] = history.events[0].workflow_execution_started_event_attributes.input.payloads
    return payload


async def test_a_runs_input_is_ciphertext_in_temporal_and_the_founder_decodes_it(
    api: TestClient, settings: Settings, engine: Engine
) -> None:
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, {"id": "echo", "type": "log", "message": "{{ input.email }}"})
    run = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {"email": PERSONAL}}, headers=tenant.member)
    finished_run = poll_run(api, run.json()["run_id"], tenant.member, finished)

    stored = await started_input(settings, f"run-{run.json()['run_id']}")
    decoded = api.post("/api/codec/decode", json=codec_body(stored), headers=founder_headers())

    assert finished_run["status"] == "completed"
    assert stored.metadata["encoding"] == ENCODING and stored.metadata[TENANT_METADATA] == tenant.id.encode()
    assert PERSONAL.encode() not in stored.SerializeToString()
    assert decoded.status_code == 200, decoded.text
    [plain] = decoded.json()["payloads"]
    assert base64.b64decode(plain["metadata"]["encoding"]) == b"json/plain"
    assert PERSONAL in base64.b64decode(plain["data"]).decode()


def test_the_codec_server_is_the_founders_alone(api: TestClient) -> None:
    tenant = new_tenant(api)
    body = codec_body(Payload(metadata={"encoding": b"json/plain"}, data=b'"hello"'))

    anonymous = api.post("/api/codec/decode", json=body)
    as_tenant = api.post("/api/codec/decode", json=body, headers=tenant.admin)
    encoded_as_tenant = api.post("/api/codec/encode", json=body, headers=tenant.admin)

    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"
    assert as_tenant.status_code == 404 and as_tenant.json()["code"] == "not_found"
    assert encoded_as_tenant.status_code == 404


def test_plain_payloads_pass_through_and_bad_ones_are_refused(api: TestClient) -> None:
    plain = codec_body(Payload(metadata={"encoding": b"json/plain"}, data=b'"platform"'))

    decoded = api.post("/api/codec/decode", json=plain, headers=founder_headers())
    encoded = api.post("/api/codec/encode", json=plain, headers=founder_headers())
    not_base64 = api.post("/api/codec/decode", json={"payloads": [{"data": "%%%"}]}, headers=founder_headers())
    forged = codec_body(Payload(metadata={"encoding": ENCODING, TENANT_METADATA: b"x" * 300}, data=b"\0" * 40))
    undecodable = api.post("/api/codec/decode", json=forged, headers=founder_headers())

    assert decoded.json() == plain and encoded.json() == plain
    assert not_base64.status_code == 422 and not_base64.json()["field"] == "payloads"
    assert undecodable.status_code == 200 and undecodable.json() == forged


def test_the_temporal_ui_origin_may_call_the_codec_server(api: TestClient, settings: Settings) -> None:
    origin = settings.codec_cors_origins[0]

    preflight = api.options("/api/codec/decode", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    stranger = api.options("/api/codec/decode", headers={"Origin": "https://evil.example"})

    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    assert "access-control-allow-origin" not in stranger.headers
