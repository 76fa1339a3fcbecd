import ssl
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from datetime import timedelta
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any
from urllib.parse import quote

import httpcore
import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

import activities.network
from activities.http import HttpActivities, build_http_client
from activities.network import is_forbidden_address
from schemas.runs import HttpCall, HttpReply
from tests.fakes import plugin, unused_port
from tests.fakes.target import TargetServer

# Until tests/conftest.py registers tests.fakes.plugin, the fixture is brought in here.
target_server = plugin.target_server


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with build_http_client() as client:
        yield client


def make_call(url: str, method: str = "GET", **fields: Any) -> HttpCall:
    return HttpCall(method=method, url=url, timeout_s=5, idempotency_key="run-1/fetch", **fields)


async def run_call(
    client: httpx.AsyncClient,
    call: HttpCall,
    *,
    allow_private: bool = True,
    max_response_bytes: int = 64 * 1024,
    max_redirects: int = 3,
    env: ActivityEnvironment | None = None,
) -> HttpReply:
    http = HttpActivities(client, allow_private, max_response_bytes, max_redirects)
    return await (env or ActivityEnvironment()).run(http.call, call)


async def failure_of(client: httpx.AsyncClient, call: HttpCall, **options: Any) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await run_call(client, call, **options)
    return caught.value


def on_attempt(attempt: int) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = replace(env.info, attempt=attempt)
    return env


async def test_get_returns_parsed_json_and_lower_case_headers(
    client: httpx.AsyncClient, target_server: TargetServer
) -> None:
    reply = await run_call(client, make_call(f"{target_server.url}/json"))

    assert reply.status == 200
    assert reply.body == {"value": 42, "items": [1, 2, 3]}
    assert reply.headers["content-type"] == "application/json"
    assert not reply.truncated
    assert reply.attempt == 1


async def test_post_sends_json_body_call_headers_and_idempotency_key(
    client: httpx.AsyncClient, target_server: TargetServer
) -> None:
    call = make_call(f"{target_server.url}/echo", "POST", json_body={"a": 1}, headers={"X-Tenant": "t1"})

    reply = await run_call(client, call)

    assert reply.body["method"] == "POST"
    assert reply.body["json"] == {"a": 1}
    assert reply.body["headers"]["idempotency-key"] == "run-1/fetch"
    assert reply.body["headers"]["x-tenant"] == "t1"


async def test_text_body_is_sent_as_is(client: httpx.AsyncClient, target_server: TargetServer) -> None:
    call = make_call(f"{target_server.url}/echo", "PUT", body="plain words")

    reply = await run_call(client, call)

    assert reply.body["body"] == "plain words"
    assert reply.body["json"] is None


async def test_client_error_is_not_retried_and_reports_the_attempt(
    client: httpx.AsyncClient, target_server: TargetServer
) -> None:
    err = await failure_of(client, make_call(f"{target_server.url}/status/404"), env=on_attempt(3))

    assert err.type == "HttpClientError"
    assert err.non_retryable
    assert err.details[0] == {"attempt": 3, "status": 404}


@pytest.mark.parametrize(
    ("code", "error_type"),
    [(503, "HttpServerError"), (500, "HttpServerError"), (429, "HttpRetryableClientError")],
)
async def test_server_errors_and_throttling_are_retried(
    client: httpx.AsyncClient, target_server: TargetServer, code: int, error_type: str
) -> None:
    err = await failure_of(client, make_call(f"{target_server.url}/status/{code}"), env=on_attempt(2))

    assert err.type == error_type
    assert not err.non_retryable
    assert err.details[0] == {"attempt": 2, "status": code}


async def test_flaky_target_succeeds_once_it_recovers(client: httpx.AsyncClient, target_server: TargetServer) -> None:
    call = make_call(f"{target_server.url}/flaky/http-recovers?fail=1&code=503")
    first = await failure_of(client, call)

    reply = await run_call(client, call, env=on_attempt(2))

    assert first.type == "HttpServerError"
    assert reply.body == {"ok": True, "calls": 2}
    assert reply.attempt == 2


async def test_expected_status_makes_an_error_status_a_success(
    client: httpx.AsyncClient, target_server: TargetServer
) -> None:
    reply = await run_call(client, make_call(f"{target_server.url}/status/404", expected_status=[404]))

    assert reply.status == 404
    assert reply.body == {"status": 404}


async def test_success_status_outside_expected_status_is_not_retried(
    client: httpx.AsyncClient, target_server: TargetServer
) -> None:
    err = await failure_of(client, make_call(f"{target_server.url}/json", expected_status=[201]))

    assert err.type == "HttpUnexpectedStatus"
    assert err.non_retryable


async def test_response_is_cut_at_the_size_cap(client: httpx.AsyncClient, target_server: TargetServer) -> None:
    reply = await run_call(client, make_call(f"{target_server.url}/big?bytes=300000"), max_response_bytes=1000)

    assert reply.truncated
    assert reply.body == "x" * 1000


async def test_body_is_dropped_when_the_step_does_not_save_it(
    client: httpx.AsyncClient, target_server: TargetServer
) -> None:
    reply = await run_call(client, make_call(f"{target_server.url}/json", save_response=False))

    assert reply.status == 200
    assert reply.body is None


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "[::1]", "10.0.0.1", "169.254.169.254", "192.168.1.1", "[::ffff:127.0.0.1]"],
)
async def test_private_targets_are_refused_before_connecting(
    client: httpx.AsyncClient, target_server: TargetServer, host: str
) -> None:
    target_server.reset()

    err = await failure_of(client, make_call(f"http://{host}:{target_server.port}/echo"), allow_private=False)

    assert err.type == "HttpTargetForbidden"
    assert err.non_retryable
    assert err.details[0]["attempt"] == 1
    assert target_server.calls == []


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "0.0.0.0",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",
        "64:ff9b::a9fe:a9fe",
    ],
)
def test_address_policy_refuses_non_public_addresses(address: str) -> None:
    assert is_forbidden_address(ip_address(address))


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_address_policy_allows_public_addresses(address: str) -> None:
    assert not is_forbidden_address(ip_address(address))


async def test_redirect_is_followed_to_its_target(client: httpx.AsyncClient, target_server: TargetServer) -> None:
    target_server.reset()

    reply = await run_call(client, make_call(f"{target_server.url}/redirect?to=/echo&code=302"))

    assert reply.status == 200
    assert reply.body["path"] == "/echo"
    assert reply.body["headers"]["idempotency-key"] == "run-1/fetch"
    assert [call.path for call in target_server.calls] == ["/redirect", "/echo"]


async def test_see_other_turns_a_post_into_a_get_without_body(
    client: httpx.AsyncClient, target_server: TargetServer
) -> None:
    call = make_call(f"{target_server.url}/redirect?to=/echo&code=303", "POST", json_body={"a": 1})

    reply = await run_call(client, call)

    assert reply.body["method"] == "GET"
    assert reply.body["body"] == ""
    assert "content-type" not in reply.body["headers"]


async def test_temporary_redirect_keeps_the_method_and_body(
    client: httpx.AsyncClient, target_server: TargetServer
) -> None:
    call = make_call(f"{target_server.url}/redirect?to=/echo&code=307", "POST", json_body={"a": 1})

    reply = await run_call(client, call)

    assert reply.body["method"] == "POST"
    assert reply.body["json"] == {"a": 1}


async def test_expected_redirect_is_returned_instead_of_followed(
    client: httpx.AsyncClient, target_server: TargetServer
) -> None:
    call = make_call(f"{target_server.url}/redirect?to=/echo&code=302", expected_status=[302])

    reply = await run_call(client, call)

    assert reply.status == 302
    assert reply.headers["location"] == "/echo"


async def test_redirect_into_a_private_address_is_refused(
    client: httpx.AsyncClient, target_server: TargetServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The only public-looking host available offline is the fake itself: let the policy treat 127.0.0.1 as
    # public so the first hop goes out, and keep refusing everything else.
    policy = activities.network.is_forbidden_address
    monkeypatch.setattr(
        activities.network,
        "is_forbidden_address",
        lambda address: address != IPv4Address("127.0.0.1") and policy(address),
    )
    target_server.reset()
    inner = quote(f"http://[::1]:{target_server.port}/echo", safe="")

    err = await failure_of(client, make_call(f"{target_server.url}/redirect?to={inner}"), allow_private=False)

    assert err.type == "HttpTargetForbidden"
    assert err.non_retryable
    assert [call.path for call in target_server.calls] == ["/redirect"]
    assert policy(IPv6Address("::1"))


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://example.com/file"])
async def test_redirect_to_another_scheme_is_refused(
    client: httpx.AsyncClient, target_server: TargetServer, location: str
) -> None:
    err = await failure_of(client, make_call(f"{target_server.url}/redirect?to={quote(location, safe='')}"))

    assert err.type == "HttpInvalidRequest"
    assert err.non_retryable


async def test_too_many_redirects_are_not_followed(client: httpx.AsyncClient, target_server: TargetServer) -> None:
    url = "/echo"
    for _ in range(3):
        url = f"/redirect?to={quote(url, safe='')}"

    err = await failure_of(client, make_call(f"{target_server.url}{url}"), max_redirects=2)

    assert err.type == "HttpTooManyRedirects"
    assert err.non_retryable


@pytest.mark.parametrize("url", ["ftp://example.com/file", "not a url", "http:///no-host"])
async def test_invalid_url_is_not_retried(client: httpx.AsyncClient, url: str) -> None:
    err = await failure_of(client, make_call(url))

    assert err.type == "HttpInvalidRequest"
    assert err.non_retryable


async def test_timeout_is_retried(client: httpx.AsyncClient, target_server: TargetServer) -> None:
    call = HttpCall(method="GET", url=f"{target_server.url}/slow?seconds=2", timeout_s=0.3, idempotency_key="k")

    err = await failure_of(client, call)

    assert err.type == "HttpTimeout"
    assert not err.non_retryable


async def test_refused_connection_is_retried(client: httpx.AsyncClient) -> None:
    err = await failure_of(client, make_call(f"http://127.0.0.1:{unused_port()}/echo"), env=on_attempt(4))

    assert err.type == "HttpTransportError"
    assert not err.non_retryable
    assert err.details[0] == {"attempt": 4}


async def test_long_call_heartbeats_while_in_flight(client: httpx.AsyncClient, target_server: TargetServer) -> None:
    env = ActivityEnvironment()
    env.info = replace(env.info, heartbeat_timeout=timedelta(seconds=0.3))
    beats: list[tuple[Any, ...]] = []
    env.on_heartbeat = lambda *details: beats.append(details)

    reply = await run_call(client, make_call(f"{target_server.url}/slow?seconds=0.5"), env=env)

    assert reply.status == 200
    assert len(beats) >= 3


async def test_cookies_set_by_one_call_are_not_sent_by_the_next(
    client: httpx.AsyncClient, target_server: TargetServer
) -> None:
    await run_call(client, make_call(f"{target_server.url}/cookie"))

    reply = await run_call(client, make_call(f"{target_server.url}/echo"))

    assert "cookie" not in reply.body["headers"]


class RecordingDial(httpcore.AsyncNetworkBackend):
    """The network as the tests allow it: records every address asked for, connects loopback addresses for
    real and refuses any other without sending a packet."""

    def __init__(self) -> None:
        self.dialled: list[tuple[str, int]] = []
        self.tls_names: list[str | None] = []
        self._real = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.dialled.append((host, port))
        if not ip_address(host).is_loopback:
            raise httpcore.ConnectError(f"the tests do not connect to {host}")
        return RecordingStream(await self._real.connect_tcp(host, port, timeout, local_address, socket_options), self)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("no unix sockets in these tests")

    async def sleep(self, seconds: float) -> None:
        await self._real.sleep(seconds)


class RecordingStream(httpcore.AsyncNetworkStream):
    """A real connection that records the name each TLS handshake presents (SNI, certificate check)."""

    def __init__(self, stream: httpcore.AsyncNetworkStream, dial: RecordingDial) -> None:
        self._stream, self._dial = stream, dial

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        self._dial.tls_names.append(server_hostname)
        return await self._stream.start_tls(ssl_context, server_hostname, timeout)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class HostileDns:
    """Answers each name from a script: the first lookup gets the first answer, later ones the last."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self._answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        script = self._answers[host]
        answer = script[min(self.asked.count(host), len(script) - 1)]
        self.asked.append(host)
        return answer


PUBLIC = "93.184.215.14"


async def rebinding_failure(dns: HostileDns, url: str) -> tuple[ApplicationError, RecordingDial]:
    """Calls `url` with the address policy on, a fresh client (no pooled connections) and `dns`."""
    dial = RecordingDial()
    async with build_http_client(dial) as client:
        http = HttpActivities(client, allow_private=False, max_response_bytes=1024, max_redirects=3, resolver=dns)
        with pytest.raises(ApplicationError) as caught:
            await ActivityEnvironment().run(http.call, make_call(url))
    return caught.value, dial


async def test_a_name_is_resolved_once_and_connected_to_the_checked_address(target_server: TargetServer) -> None:
    # "localhost" really is the loopback: a second lookup by the connection would reach the target.
    dns = HostileDns({"localhost": [[PUBLIC], ["127.0.0.1"]]})
    target_server.reset()

    err, dial = await rebinding_failure(dns, f"http://localhost:{target_server.port}/echo")

    assert dns.asked == ["localhost"]
    assert dial.dialled == [(PUBLIC, target_server.port)]
    assert target_server.calls == []
    assert err.type == "HttpTransportError" and err.__cause__ is None


async def test_a_redirect_hop_is_connected_to_its_own_checked_address(
    target_server: TargetServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first hop must reach the fake, so the policy lets 127.0.0.1 pass, as in the test above.
    policy = activities.network.is_forbidden_address
    monkeypatch.setattr(
        activities.network,
        "is_forbidden_address",
        lambda address: address != IPv4Address("127.0.0.1") and policy(address),
    )
    dns = HostileDns({"first.levqor.test": [["127.0.0.1"]], "localhost": [[PUBLIC], ["127.0.0.1"]]})
    target_server.reset()
    hop = quote(f"http://localhost:{target_server.port}/echo", safe="")

    err, dial = await rebinding_failure(dns, f"http://first.levqor.test:{target_server.port}/redirect?to={hop}")

    assert dns.asked == ["first.levqor.test", "localhost"]
    assert dial.dialled == [("127.0.0.1", target_server.port), (PUBLIC, target_server.port)]
    assert [call.path for call in target_server.calls] == ["/redirect"]
    assert err.type == "HttpTransportError"


async def test_the_host_header_and_pool_keep_the_name_while_the_dial_uses_the_address(
    target_server: TargetServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = activities.network.is_forbidden_address
    monkeypatch.setattr(
        activities.network,
        "is_forbidden_address",
        lambda address: address != IPv4Address("127.0.0.1") and policy(address),
    )
    dns = HostileDns({"api.levqor.test": [["127.0.0.1"]]})
    dial = RecordingDial()

    async with build_http_client(dial) as client:
        http = HttpActivities(client, allow_private=False, max_response_bytes=4096, max_redirects=3, resolver=dns)
        reply = await ActivityEnvironment().run(
            http.call, make_call(f"http://api.levqor.test:{target_server.port}/echo")
        )

    assert reply.body["headers"]["host"] == f"api.levqor.test:{target_server.port}"
    assert dial.dialled == [("127.0.0.1", target_server.port)]


async def test_tls_is_started_for_the_name_on_a_connection_to_the_checked_address(
    target_server: TargetServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = activities.network.is_forbidden_address
    monkeypatch.setattr(
        activities.network,
        "is_forbidden_address",
        lambda address: address != IPv4Address("127.0.0.1") and policy(address),
    )
    dns = HostileDns({"api.levqor.test": [["127.0.0.1"]]})
    dial = RecordingDial()

    async with build_http_client(dial) as client:
        http = HttpActivities(client, allow_private=False, max_response_bytes=4096, max_redirects=3, resolver=dns)
        with pytest.raises(ApplicationError):  # the fake speaks plain HTTP, so the handshake fails
            await ActivityEnvironment().run(http.call, make_call(f"https://api.levqor.test:{target_server.port}/echo"))

    assert dial.dialled == [("127.0.0.1", target_server.port)]
    assert dial.tls_names == ["api.levqor.test"]


async def test_a_connection_for_a_host_nobody_checked_is_refused(target_server: TargetServer) -> None:
    dial = RecordingDial()

    async with build_http_client(dial) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{target_server.url}/echo")

    assert dial.dialled == []


async def test_a_local_attempt_with_an_answer_budget_gives_up_retryably_when_it_runs_out(
    client: httpx.AsyncClient, target_server: TargetServer
) -> None:
    local = ActivityEnvironment()
    local.info = replace(local.info, is_local=True)
    slow = make_call(f"{target_server.url}/slow?seconds=1", answer_budget_s=0.2)

    err = await failure_of(client, slow, env=local)
    quick = await run_call(client, make_call(f"{target_server.url}/json", answer_budget_s=0.2), env=local)
    regular = await run_call(client, make_call(f"{target_server.url}/slow?seconds=0.4", answer_budget_s=0.2))

    assert (err.type, err.non_retryable) == ("HttpAnswerBudgetExceeded", False)
    assert quick.status == 200
    assert regular.status == 200  # a regular attempt takes no budget: only the step's timeout
