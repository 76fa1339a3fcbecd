"""The property-based API fuzz: schemathesis generates requests from /openapi.json for every operation and sends
them to the running app (real Temporal, real database) with the founder token, a tenant admin key and a member key.
No answer is a 5xx, and every 4xx is the error envelope `{code, message, field}`.

Each operation gets `EXAMPLES` requests per credential, derandomized so a run is reproducible: valid and invalid
requests against the ids of a fresh tenant's own resources, and valid requests with made-up ids. The fuzz runs its
own app on its own task queue inside a loopback-only network fence, because generated definitions run: an HTTP
step to a generated host is refused before any lookup, and nothing it started outlives the fuzz's worker."""

import errno
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any

import httpx2
import pytest
import pytest_asyncio
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.core.result import Ok
from temporalio.client import Client

from api.main import create_app
from core.settings import Settings
from schemas.legal import LegalDocumentCreate
from starters.platform_schedules import ensure_platform_schedules
from tests.api.tenancy import ApiTenant, new_tenant, new_workflow
from tests.conftest import close_open_runs, founder_headers

EXAMPLES = 8  # per operation and credential; the whole fuzz takes about a minute
GATE = {"id": "gate", "type": "approval", "class": "B", "message": "Go?"}
DONE = {"id": "done", "type": "log", "message": "done"}
SECRET = "FUZZ_TOKEN"
# A valid body of these changes what every tenant and test sees, for good (legal versions are immutable), so they
# get invalid bodies only.
INVALID_ONLY: dict[str, type[BaseModel]] = {"publish_version": LegalDocumentCreate}
# These act on the caller's own tenant for good (delete it, change its state), so each gets a tenant of its own.
OWN_TENANT = {"delete_account", "change_tenant"}
# Deletions go last, so the operations before them find the hook, schedule and secret they delete; before them the
# hook's replacement, which retires the token `receive_hook` is fuzzed with.
LAST_METHODS = {"DELETE"}
LATE = {"put_webhook"}


@dataclass
class Owned:
    """A fresh tenant's resources: the ids a fuzzed request's path parameters take for a valid target."""

    tenant: ApiTenant
    ids: dict[str, str]


def is_loopback(host: str | bytes | None) -> bool:
    name = host.decode() if isinstance(host, bytes) else host
    if name is None or name == "localhost":
        return True
    try:
        return ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@contextmanager
def loopback_only() -> Iterator[None]:
    """Within the block no socket of this process resolves a name or connects anywhere but loopback."""
    real_getaddrinfo, real_connect, real_connect_ex = (
        socket.getaddrinfo,
        socket.socket.connect,
        socket.socket.connect_ex,
    )

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, f"the fuzz reaches loopback only, not {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def refused(sock: socket.socket, address: Any) -> bool:
        return sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0])

    def connect(sock: socket.socket, address: Any) -> None:
        if refused(sock, address):
            raise OSError(errno.ENETUNREACH, f"the fuzz reaches loopback only, not {address!r}")
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        return errno.ENETUNREACH if refused(sock, address) else real_connect_ex(sock, address)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        yield


@pytest_asyncio.fixture(scope="module")
async def fuzz_api(settings: Settings, client: Client) -> AsyncIterator[TestClient]:
    """The app with its embedded worker on a task queue of its own: what the fuzz starts stays there when it ends.
    Its start-up points the platform schedules at that queue; they are pointed back afterwards. Without an OpenAI key:
    the AI routes answer their fallbacks at once (the fuzz is about the envelope; the AI's own answers, retries and
    timeouts are tests/api/test_ai_*.py's), where the fake's echo answers cost seconds of retries per request."""
    own = settings.model_copy(update={"task_queue": f"fuzz-{uuid.uuid4()}", "openai_api_key": None})
    with loopback_only(), TestClient(create_app(own)) as api:
        yield api
    await ensure_platform_schedules(client, settings)
    await close_open_runs(client, own.task_queue)


@pytest.fixture(scope="module")
def operations(fuzz_api: TestClient) -> list[APIOperation]:
    schema = schemathesis.openapi.from_dict(fuzz_api.get("/openapi.json").json())
    found = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()  # the document itself is valid OpenAPI
        found.append(result.ok())
    return sorted(found, key=rank)


def rank(operation: APIOperation) -> int:
    if operation.method.upper() in LAST_METHODS:
        return 2
    return 1 if operation.definition.raw["operationId"] in LATE else 0


def owned_resources(api: TestClient) -> Owned:
    """A fresh tenant with a workflow, a run waiting at its gate, a schedule, a hook, a secret and an export."""
    tenant = new_tenant(api)
    workflow_id = new_workflow(api, tenant, GATE, DONE)
    run = api.post(f"/api/workflows/{workflow_id}/runs", json={"input": {}}, headers=tenant.member)
    schedule = api.post(f"/api/workflows/{workflow_id}/schedules", json={"interval_s": 3600}, headers=tenant.member)
    hook = api.put(f"/api/workflows/{workflow_id}/webhook", json={}, headers=tenant.admin)
    secret = api.put(f"/api/secrets/{SECRET}", json={"value": "s3cret"}, headers=tenant.admin)
    export = api.post("/api/me/export-data", headers=tenant.admin)
    answers = (run, schedule, hook, secret, export)
    assert [answer.status_code for answer in answers] == [202, 201, 201, 200, 202], [a.text for a in answers]
    ids = {
        "tenant_id": tenant.id,
        "workflow_id": workflow_id,
        "run_id": run.json()["run_id"],
        "step_id": GATE["id"],
        "schedule_id": schedule.json()["id"],
        "token": hook.json()["token"],
        "name": SECRET,
        "request_id": export.json()["request_id"],
    }
    return Owned(tenant, ids)


def cases(operation: APIOperation, ids: dict[str, str]) -> st.SearchStrategy[Case]:
    """Valid and invalid requests against the tenant's own ids; valid ones with made-up ids too."""
    names = {parameter.name for parameter in operation.path_parameters}
    own = {name: value for name, value in ids.items() if name in names}
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=own),
        operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=own),
    ]
    if names:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE))
    return st.one_of(strategies)


def send(api: TestClient, case: Case, credential: dict[str, str]) -> httpx2.Response:
    request = case.as_transport_kwargs(base_url=str(api.base_url))
    headers = {name: value for name, value in request["headers"].items() if name.lower() != "authorization"}
    body = {"json": request["json"]} if "json" in request else {"content": request.get("data")}
    return api.request(
        request["method"], request["url"], params=request["params"], headers=headers | credential, **body
    )


def check_answer(case: Case, response: httpx2.Response) -> None:
    reproduce = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    assert response.status_code < 500, reproduce
    if response.status_code >= 400:
        assert response.headers.get("content-type", "").startswith("application/json"), reproduce
        body = response.json()
        assert isinstance(body, dict) and {"code", "message", "field"} <= set(body), reproduce
        assert isinstance(body["code"], str) and isinstance(body["message"], str), reproduce
        assert body["field"] is None or isinstance(body["field"], str), reproduce


def fuzz(api: TestClient, operation: APIOperation, owned: Owned, credential: dict[str, str]) -> None:
    operation_id = operation.definition.raw["operationId"]
    valid_body = INVALID_ONLY.get(operation_id)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases(operation, owned.ids))
    def requests(case: Case) -> None:
        if valid_body is not None and is_valid(valid_body, case.body):
            reject()
        check_answer(case, send(api, case, credential))

    requests()


def is_valid(model: type[BaseModel], body: object) -> bool:
    try:
        model.model_validate(body)
    except ValidationError:
        return False
    return True


CREDENTIALS: dict[str, Callable[[ApiTenant], dict[str, str]]] = {
    "founder": lambda _tenant: founder_headers(),
    "admin": lambda tenant: tenant.admin,
    "member": lambda tenant: tenant.member,
}


@pytest.mark.parametrize("credential", list(CREDENTIALS))
def test_no_request_answers_a_server_error_and_every_client_error_is_the_envelope(
    fuzz_api: TestClient, operations: list[APIOperation], credential: str, subtests: pytest.Subtests
) -> None:
    shared = owned_resources(fuzz_api)

    for operation in operations:
        operation_id = operation.definition.raw["operationId"]
        owned = owned_resources(fuzz_api) if operation_id in OWN_TENANT else shared
        with subtests.test(msg=operation_id):
            fuzz(fuzz_api, operation, owned, CREDENTIALS[credential](owned.tenant))


def test_the_fence_refuses_names_and_addresses_but_loopback_before_any_traffic() -> None:
    with loopback_only(), socket.socket() as sock:
        with pytest.raises(socket.gaierror):
            socket.getaddrinfo("example.com", 80)
        with pytest.raises(OSError):
            sock.connect(("192.0.2.1", 80))  # TEST-NET-1: never routed
        assert socket.getaddrinfo("127.0.0.1", 80)


# What the fuzz found, as plain requests.


def test_a_nul_character_in_an_id_answers_the_envelope_not_a_server_error(api: TestClient) -> None:
    tenant = new_tenant(api)

    in_query = api.get("/api/usage", params={"tenant_id": "\x00x"}, headers=founder_headers())
    in_path = api.get("/api/tenants/%00x", headers=tenant.admin)

    assert (in_query.status_code, in_query.json()["code"]) == (422, "invalid_value")  # PostgreSQL refuses NUL
    assert (in_path.status_code, in_path.json()["code"]) == (422, "invalid_value")


def test_a_body_that_is_not_utf8_is_invalid_json_like_any_malformed_body(api: TestClient) -> None:
    tenant = new_tenant(api)
    headers = {**tenant.admin, "Content-Type": "application/json"}

    not_utf8 = api.put(f"/api/secrets/{SECRET}", content=b'{"value": "\xff"}', headers=headers)
    malformed = api.put(f"/api/secrets/{SECRET}", content=b'{"value": ', headers=headers)

    assert (not_utf8.status_code, not_utf8.json()["code"], not_utf8.json()["field"]) == (422, "invalid_json", "body")
    assert (malformed.status_code, malformed.json()["code"]) == (422, "invalid_json")


def test_an_unknown_id_in_a_query_or_body_answers_a_documented_404(api: TestClient) -> None:
    made_up = str(uuid.uuid4())
    documented = api.get("/openapi.json").json()["paths"]

    answers = {
        ("get", "/api/usage"): api.get("/api/usage", params={"tenant_id": made_up}, headers=founder_headers()),
        ("post", "/api/compliance/reports/run"): api.post(
            "/api/compliance/reports/run", json={"tenant_id": made_up}, headers=founder_headers()
        ),
        ("get", "/api/guardian/daily-report"): api.get(
            "/api/guardian/daily-report", params={"day": "1999-01-01"}, headers=founder_headers()
        ),
    }

    for (method, path), answer in answers.items():
        assert answer.status_code == 404, (path, answer.text)
        assert "404" in documented[path][method]["responses"], path


def test_a_tenant_id_that_cannot_be_one_is_refused_before_the_cost_check_or_audit_starts(api: TestClient) -> None:
    cost = api.post("/api/admin/cost/check", json={"tenant_ids": ["a\x00b"]}, headers=founder_headers())
    audit = api.post("/api/compliance/reports/run", json={"tenant_id": "a\x00b"}, headers=founder_headers())

    assert (cost.status_code, cost.json()["field"]) == (422, "body.tenant_ids[0]")  # was 503 after 5 failed samples
    assert (audit.status_code, audit.json()["field"]) == (422, "body.tenant_id")
