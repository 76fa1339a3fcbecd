"""What installs and starts the platform: docker-compose.yml, the dev-server launcher, Temporal setup."""

import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from temporal.devserver import (
    SEARCH_ATTRIBUTES,
    port_is_free,
    start_dev_server,
    stop,
    temporal_binary,
    wait_until_serving,
)
from temporal.setup import ensure_search_attributes

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
APP_ENV = {"DATABASE_URL", "TEMPORAL_ADDRESS", "LEVQOR_FOUNDER_TOKEN", "LEVQOR_SECRETS_KEY"}
# What each service built from our image reads; a new one must be added here to be checked.
NEEDED_ENV = {
    "api": APP_ENV,
    "worker": APP_ENV,
    "migrate": {"DATABASE_URL"},
    "temporal-setup": {"TEMPORAL_ADDRESS"},
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def free_ports(count: int) -> list[int]:
    probes = [socket.socket() for _ in range(count)]
    for probe in probes:
        probe.bind(("127.0.0.1", 0))
    ports = [probe.getsockname()[1] for probe in probes]
    for probe in probes:
        probe.close()
    return ports


def test_compose_file_follows_the_compose_spec() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"

    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_dependency_is_a_service(compose: dict[str, Any]) -> None:
    services = compose["services"]

    dependencies = {
        (name, dependency)
        for name, service in services.items()
        for dependency in service.get("depends_on", [])
    }

    assert dependencies
    assert {(name, dep) for name, dep in dependencies if dep not in services} == set()


def test_services_built_from_our_image_get_the_environment_they_need(compose: dict[str, Any]) -> None:
    ours = {name: service for name, service in compose["services"].items() if "build" in service}

    missing = {
        name: sorted(key for key in NEEDED_ENV[name] if not service.get("environment", {}).get(key))
        for name, service in ours.items()
    }

    assert set(ours) == set(NEEDED_ENV)
    assert missing == {name: [] for name in ours}


def test_one_shot_services_gate_the_api_and_workers(compose: dict[str, Any]) -> None:
    services = compose["services"]

    conditions = {
        name: {dep: spec["condition"] for dep, spec in services[name]["depends_on"].items()}
        for name in ("api", "worker")
    }

    gate = {"migrate": "service_completed_successfully", "temporal-setup": "service_completed_successfully"}
    assert conditions == {"api": gate, "worker": gate}
    assert services["worker"]["deploy"]["replicas"] >= 2


async def test_dev_server_serves_with_search_attributes_and_stops(tmp_path: Path) -> None:
    port, ui_port = free_ports(2)
    started = time.monotonic()
    server = start_dev_server(
        tmp_path / "db" / "temporal.db", port=port, ui_port=ui_port, log_file=tmp_path / "temporal.log"
    )
    try:
        wait_until_serving(f"127.0.0.1:{port}", timeout_s=10, process=server)
        serving_after = time.monotonic() - started
        client = await Client.connect(f"127.0.0.1:{port}")
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace="default")
        )
        ui_status = await ui_answers(f"http://127.0.0.1:{ui_port}/")
    finally:
        code = stop(server)

    assert serving_after < 5
    assert SEARCH_ATTRIBUTES.keys() <= listed.custom_attributes.keys()
    assert ui_status == 200
    assert code == 0
    assert port_is_free(port)
    assert (tmp_path / "db" / "temporal.db").exists()


async def ui_answers(url: str, attempts: int = 20) -> int:
    # The UI may refuse a connection for a moment after the frontend is healthy.
    async with httpx.AsyncClient(timeout=2) as http:
        for _ in range(attempts):
            try:
                return (await http.get(url)).status_code
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    return 0


async def test_search_attribute_setup_adds_the_missing_ones_once() -> None:
    async with await WorkflowEnvironment.start_local(
        namespace="levqor-setup", dev_server_existing_path=str(temporal_binary())
    ) as env:
        first = await ensure_search_attributes(env.client, "levqor-setup")
        second = await ensure_search_attributes(env.client, "levqor-setup")
        listed = await env.client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace="levqor-setup")
        )

    assert first == sorted(SEARCH_ATTRIBUTES)
    assert second == []
    keyword = IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
    assert {name: listed.custom_attributes[name] for name in SEARCH_ATTRIBUTES} == {
        name: keyword for name in SEARCH_ATTRIBUTES
    }


def test_search_attributes_the_code_uses_are_the_ones_the_server_registers() -> None:
    from orchestrator.search_attributes import DEFINITION_ID, RUN_STATUS, TENANT_ID
    from temporal.devserver import SEARCH_ATTRIBUTES

    used = {key.name: "Keyword" for key in (TENANT_ID, DEFINITION_ID, RUN_STATUS)}

    assert used == SEARCH_ATTRIBUTES
