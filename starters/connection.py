"""Connecting to Temporal with the platform's data converter and, when configured, the tenant payload codec."""

import asyncio
import dataclasses
import time

from pydantic import SecretStr
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime
from temporalio.service import RPCError

from core.payload_codec import KEY_CACHE_TTL_S, TenantKeyring, TenantPayloadCodec
from core.security import SecretBox
from orchestrator.search_attributes import TENANT_ID


def tenant_codec(
    engine: Engine, platform_key: SecretStr | None, key_ttl_s: float = KEY_CACHE_TTL_S
) -> TenantPayloadCodec | None:
    """The codec that encrypts user runs with per-tenant keys wrapped by `platform_key`, each cached for
    `key_ttl_s`; None without a platform key."""
    if platform_key is None:
        return None
    return TenantPayloadCodec(TenantKeyring(engine, SecretBox(platform_key.get_secret_value()), key_ttl_s))


def data_converter(codec: TenantPayloadCodec | None) -> DataConverter:
    """The pydantic converter with `codec`. Failure messages stay plain: a failure's details are payloads
    (encrypted), its message and stack trace are not (encoding them broke the replay of local activities)."""
    if codec is None:
        return pydantic_data_converter
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec)


async def connect(
    address: str,
    namespace: str,
    wait_s: float = 30.0,
    runtime: Runtime | None = None,
    codec: TenantPayloadCodec | None = None,
) -> Client:
    """A client with the pydantic converter (and `codec`); waits for a server that is still starting. `runtime`
    carries the SDK's telemetry (e.g. Prometheus metrics); the default runtime otherwise."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            client = await Client.connect(
                address, namespace=namespace, data_converter=data_converter(codec), runtime=runtime
            )
            break
        except RuntimeError:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.25)
    if codec is not None:
        codec.keyring.ask_owner_with(lambda workflow_id: run_tenant(client, workflow_id))
    return client


async def run_tenant(client: Client, workflow_id: str) -> str | None:
    """The tenant a run belongs to, from its `TenantId` search attribute; None when Temporal has no such run."""
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError:
        return None
    return description.typed_search_attributes.get(TENANT_ID)
