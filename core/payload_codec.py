"""Crypto-shredding of tenant runs: a payload codec that encrypts every payload of a user run with its tenant's
data key (AES-256-GCM), so destroying the key leaves the tenant's histories, memos and schedule inputs unreadable.

An encrypted payload names its tenant in its (unencrypted) metadata, so decoding needs no context; a payload
without that metadata decodes unchanged (histories recorded before the codec, platform workflows). Encoding
needs the tenant of the run: learned from the run's payloads this process decoded, else the `tenant_id` of the
run's input being started, else asked of Temporal once (the run's `TenantId` search attribute). Data keys are
stored wrapped by the platform key and cached in memory for `KEY_CACHE_TTL_S`, the longest a destroyed key
stays usable in another process.
"""

import asyncio
import json
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    ActivitySerializationContext,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)

from core.security import SecretBox
from schemas.runs import RUN_WORKFLOW_PREFIX
from schemas.tables import TenantDataKey

ENCODING = b"binary/levqor-tenant-aes256gcm"
TENANT_METADATA = "levqor-tenant"
KEY_CACHE_TTL_S = 30.0
MAX_KNOWN_RUNS = 50_000
NONCE_BYTES = 12
MAX_TENANT_ID = 200

RunOwner = Callable[[str], Awaitable[str | None]]


class TenantKeyDestroyed(ValueError):
    """The tenant's data key was destroyed (purged) or never existed: its payloads cannot be read."""


class TenantKeyring:
    """Per-tenant data keys, created on first use, stored wrapped by the platform key, cached in memory."""

    def __init__(self, engine: Engine, box: SecretBox, ttl_s: float = KEY_CACHE_TTL_S) -> None:
        self._engine, self._box, self._ttl_s = engine, box, ttl_s
        self._keys: dict[str, tuple[float, AESGCM | None]] = {}
        self._owners: OrderedDict[str, str] = OrderedDict()
        self._ask_owner: RunOwner | None = None

    def ask_owner_with(self, ask: RunOwner) -> None:
        """How to find a run's tenant that this process has not seen (set once the client exists)."""
        self._ask_owner = ask

    def learn(self, workflow_id: str, tenant_id: str) -> None:
        self._owners[workflow_id] = tenant_id
        self._owners.move_to_end(workflow_id)
        if len(self._owners) > MAX_KNOWN_RUNS:
            self._owners.popitem(last=False)

    async def owner(self, workflow_id: str, payloads: Sequence[Payload]) -> str | None:
        """The tenant of the run `workflow_id`, or None when nothing tells it."""
        tenant = self._owners.get(workflow_id) or _named_tenant(payloads)
        if tenant is None and self._ask_owner is not None:
            tenant = await self._ask_owner(workflow_id)
        if tenant is not None:
            self.learn(workflow_id, tenant)
        return tenant

    async def key(self, tenant_id: str, create: bool) -> AESGCM | None:
        """The tenant's key; None when destroyed (or missing and not `create`). A DB trip only on a cache miss."""
        cached = self._keys.get(tenant_id)
        if cached is not None and cached[0] > time.monotonic() and (cached[1] is not None or not create):
            return cached[1]
        key = await asyncio.to_thread(self._load, tenant_id, create)
        self._keys[tenant_id] = (time.monotonic() + self._ttl_s, key)
        return key

    def forget(self, tenant_id: str) -> None:
        self._keys.pop(tenant_id, None)

    def _load(self, tenant_id: str, create: bool) -> AESGCM | None:
        with Session(self._engine) as session:
            row = session.get(TenantDataKey, tenant_id)
            if row is None and create:
                row = TenantDataKey(tenant_id=tenant_id, wrapped_key=self._box.seal(AESGCM.generate_key(256).hex()))
                session.add(row)
                try:
                    session.commit()
                except IntegrityError:  # another process made it first
                    session.rollback()
                    row = session.get(TenantDataKey, tenant_id)
            wrapped = row.wrapped_key if row is not None else None
        return AESGCM(bytes.fromhex(self._box.open(wrapped))) if wrapped is not None else None


def destroy_tenant_key(session: Session, tenant_id: str) -> None:
    """Shreds the tenant's data key in the caller's transaction; a tombstone keeps a new one from being made."""
    row = session.get(TenantDataKey, tenant_id) or TenantDataKey(tenant_id=tenant_id)
    row.wrapped_key, row.destroyed_at = None, datetime.now(UTC)
    session.add(row)


class TenantPayloadCodec(PayloadCodec, WithSerializationContext):
    """Encrypts the payloads of user runs (workflow ids `run-…`) with the run's tenant key; decodes any
    payload that names its tenant, and passes every other payload through unchanged."""

    def __init__(self, keyring: TenantKeyring, workflow_id: str | None = None) -> None:
        self.keyring, self._workflow_id = keyring, workflow_id

    def with_context(self, context: SerializationContext) -> Self:
        workflow_id = None
        if isinstance(context, WorkflowSerializationContext | ActivitySerializationContext):
            workflow_id = context.workflow_id
        if workflow_id is not None and not workflow_id.startswith(RUN_WORKFLOW_PREFIX):
            workflow_id = None
        return type(self)(self.keyring, workflow_id)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        if self._workflow_id is None or not payloads or all(_sealed(p) for p in payloads):
            return list(payloads)
        tenant = await self.keyring.owner(self._workflow_id, payloads)
        if tenant is None:
            return list(payloads)
        key = await self.keyring.key(tenant, create=True)
        if key is None:
            raise TenantKeyDestroyed(f"the data key of tenant {tenant} was destroyed")
        return [p if _sealed(p) else _seal(key, tenant, p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if not _sealed(payload):
                decoded.append(payload)
                continue
            tenant = _tenant_of(payload)
            if self._workflow_id is not None:
                self.keyring.learn(self._workflow_id, tenant)
            key = await self.keyring.key(tenant, create=False)
            if key is None:
                raise TenantKeyDestroyed(f"the data key of tenant {tenant} was destroyed")
            decoded.append(_open(key, tenant, payload))
        return decoded


def _sealed(payload: Payload) -> bool:
    return payload.metadata.get("encoding") == ENCODING and TENANT_METADATA in payload.metadata


def _tenant_of(payload: Payload) -> str:
    tenant = payload.metadata[TENANT_METADATA].decode(errors="replace")
    if not 0 < len(tenant) <= MAX_TENANT_ID:
        raise TenantKeyDestroyed("payload names no tenant")
    return tenant


def _seal(key: AESGCM, tenant: str, payload: Payload) -> Payload:
    nonce = os.urandom(NONCE_BYTES)
    sealed = key.encrypt(nonce, payload.SerializeToString(), tenant.encode())
    return Payload(metadata={"encoding": ENCODING, TENANT_METADATA: tenant.encode()}, data=nonce + sealed)


def _open(key: AESGCM, tenant: str, payload: Payload) -> Payload:
    try:
        plain = key.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], tenant.encode())
    except InvalidTag:
        raise TenantKeyDestroyed(f"payload was not sealed with the current key of tenant {tenant}") from None
    return Payload.FromString(plain)


def _named_tenant(payloads: Sequence[Payload]) -> str | None:
    """The `tenant_id` of a run's input (a RunInput), read only when the run is not known yet."""
    first = payloads[0]
    if first.metadata.get("encoding") != b"json/plain" or not first.data.startswith(b"{"):
        return None
    try:
        value = json.loads(first.data)
    except ValueError:
        return None
    tenant = value.get("tenant_id") if isinstance(value, dict) else None
    return tenant if isinstance(tenant, str) and 0 < len(tenant) <= MAX_TENANT_ID else None
