"""The HTTP activity and tenant secrets: only placeholders the step's templates rendered are filled in, a
redirect to another origin carries none of them, and no error message holds a secret's value."""

import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.http import HttpActivities, build_http_client
from activities.secrets import SecretStore
from core.security import SecretBox
from language.expressions import secret_placeholder
from schemas.runs import HttpCall, HttpReply
from schemas.tables import Tenant, TenantSecret
from tests.fakes import plugin
from tests.fakes.target import TargetServer

target_server = plugin.target_server

TOKEN = "tok-5be1d07c-do-not-leak"
OTHER = "other-93ac11-never-asked-for"
MARKER = uuid.uuid4().hex
# Secrets that make an invalid header value, each of which h11 or httpx quotes back in its error.
BROKEN = {
    "CRLF": f"Bearer {TOKEN}\r\nX-Evil: 1",
    "NUL": f"Bearer {TOKEN}\x00",
    "QUOTES": f"Bearer {TOKEN}'\"\n",
    "NON_ASCII": f"Bearer {TOKEN}\u00e9",
}


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with build_http_client() as client:
        yield client


@pytest.fixture(scope="module")
def store(engine: Engine) -> tuple[SecretStore, str]:
    """A tenant with secrets TOKEN, OTHER and the BROKEN ones, and a store that resolves them."""
    box, tenant_id = SecretBox(SecretBox.new_key()), str(uuid.uuid4())
    with Session(engine) as session:
        session.add(Tenant(id=tenant_id, name="Secretive"))
        session.flush()
        session.add_all(
            [
                TenantSecret(tenant_id=tenant_id, name="TOKEN", ciphertext=box.seal(TOKEN)),
                TenantSecret(tenant_id=tenant_id, name="OTHER", ciphertext=box.seal(OTHER)),
                *(TenantSecret(tenant_id=tenant_id, name=name, ciphertext=box.seal(v)) for name, v in BROKEN.items()),
            ]
        )
        session.commit()
    return SecretStore(engine, box), tenant_id


def token() -> str:
    """`{{ secrets.TOKEN }}` as the workflow renders it for the call."""
    return secret_placeholder("TOKEN", MARKER)


def make_call(tenant_id: str, url: str, method: str = "GET", **fields: Any) -> HttpCall:
    return HttpCall(
        tenant_id=tenant_id,
        secret_marker=MARKER,
        secret_names=["TOKEN"],
        method=method,
        url=url,
        timeout_s=5,
        idempotency_key="run-1/push",
        **fields,
    )


async def run_call(client: httpx.AsyncClient, store: SecretStore, call: HttpCall) -> HttpReply:
    http = HttpActivities(client, True, 64 * 1024, 3, secrets=store)
    return await ActivityEnvironment().run(http.call, call)


async def failure_of(client: httpx.AsyncClient, store: SecretStore, call: HttpCall) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await run_call(client, store, call)
    return caught.value


async def test_only_placeholders_with_the_calls_marker_and_a_named_secret_are_filled(
    client: httpx.AsyncClient, store: tuple[SecretStore, str], target_server: TargetServer
) -> None:
    secrets, tenant_id = store
    forged = {
        "unmarked": "⟪secret:TOKEN⟫",
        "guessed_marker": f"⟪secret:{uuid.uuid4().hex}:TOKEN⟫",
        "unnamed_secret": secret_placeholder("OTHER", MARKER),
    }
    call = make_call(
        tenant_id,
        f"{target_server.url}/echo?t=forged-activity",
        "POST",
        headers={"Authorization": f"Bearer {token()}"},
        json_body=forged,
    )

    await run_call(client, secrets, call)

    sent = [c for c in target_server.calls_to("/echo") if c.query.get("t") == "forged-activity"]
    assert sent[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert sent[0].json == forged
    assert TOKEN.encode() not in sent[0].body and OTHER.encode() not in sent[0].body


async def test_a_call_without_a_marker_fills_nothing_and_resolves_nothing(
    client: httpx.AsyncClient, target_server: TargetServer
) -> None:
    call = HttpCall(
        tenant_id="no-such-tenant",
        method="POST",
        url=f"{target_server.url}/echo?t=unmarked",
        json_body={"msg": "⟪secret:TOKEN⟫"},
        timeout_s=5,
        idempotency_key="run-1/push",
    )

    reply = await ActivityEnvironment().run(HttpActivities(client, True, 64 * 1024, 3).call, call)

    assert reply.body["json"] == {"msg": "⟪secret:TOKEN⟫"}


def redirect_to(target_server: TargetServer, location: str, code: int = 302) -> str:
    return f"{target_server.url}/redirect?to={quote(location, safe='')}&code={code}"


async def test_a_redirect_to_another_origin_drops_credentials_and_headers_that_held_a_secret(
    client: httpx.AsyncClient, store: tuple[SecretStore, str], target_server: TargetServer
) -> None:
    secrets, tenant_id = store
    headers = {
        "Authorization": f"Bearer {token()}",
        "X-Api-Key": f"key={token()}",
        "Proxy-Authorization": "Basic cHJveHk6cGFzcw==",
        "Cookie": "session=abc",
        "X-Plain": "kept",
    }
    # 127.0.0.1 -> localhost is another host (the same server, so the test can see what arrives).
    elsewhere = redirect_to(target_server, f"http://localhost:{target_server.port}/echo?t=cross-origin")
    same = redirect_to(target_server, "/echo?t=same-origin")

    crossed = await run_call(client, secrets, make_call(tenant_id, elsewhere, headers=headers))
    stayed = await run_call(client, secrets, make_call(tenant_id, same, headers=headers))

    received = crossed.body["headers"]
    assert crossed.body["query"] == {"t": "cross-origin"}
    assert not {"authorization", "x-api-key", "proxy-authorization", "cookie"} & received.keys()
    assert received["x-plain"] == "kept" and received["idempotency-key"] == "run-1/push"
    kept = stayed.body["headers"]
    assert kept["authorization"] == "Bearer ***" and kept["x-api-key"] == "key=***" and kept["cookie"] == "session=abc"


async def test_a_redirect_that_would_resend_a_secret_body_to_another_origin_is_refused(
    client: httpx.AsyncClient, store: tuple[SecretStore, str], target_server: TargetServer
) -> None:
    secrets, tenant_id = store
    target_server.reset()
    url = redirect_to(target_server, f"http://localhost:{target_server.port}/echo", code=307)

    err = await failure_of(client, secrets, make_call(tenant_id, url, "POST", json_body={"key": token()}))

    assert err.type == "HttpRedirectRefused" and err.non_retryable
    assert [c.path for c in target_server.calls] == ["/redirect"]


@pytest.mark.parametrize("name", sorted(BROKEN))
async def test_an_invalid_header_fails_without_the_secret_in_the_message(
    client: httpx.AsyncClient, store: tuple[SecretStore, str], target_server: TargetServer, name: str
) -> None:
    secrets, tenant_id = store
    call = make_call(
        tenant_id, f"{target_server.url}/echo", headers={"Authorization": secret_placeholder(name, MARKER)}
    )

    err = await failure_of(client, secrets, call.model_copy(update={"secret_names": [name]}))

    assert err.type == "HttpInvalidRequest" and err.non_retryable
    assert "5be1d07c" not in err.message and err.__cause__ is None
