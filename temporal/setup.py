"""Registers the platform's search attributes on a Temporal cluster that is not the dev server (compose)."""

import argparse
import asyncio
import os
import time

import structlog
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from temporal.devserver import SEARCH_ATTRIBUTES

RETRYABLE = frozenset({RPCStatusCode.NOT_FOUND, RPCStatusCode.UNAVAILABLE})

log = structlog.get_logger()


async def ensure_search_attributes(client: Client, namespace: str) -> list[str]:
    """Adds the missing ones; returns their names. Safe to run on every deploy."""
    listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    existing = {**listed.system_attributes, **listed.custom_attributes}
    missing = {
        name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{kind.upper()}")
        for name, kind in SEARCH_ATTRIBUTES.items()
        if name not in existing
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)


async def _connect(address: str, namespace: str, wait_s: float) -> Client:
    # Client.connect fails at once while the server is still starting; compose may start us that early.
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return await Client.connect(address, namespace=namespace)
        except RuntimeError:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(1.0)


async def _run(address: str, namespace: str, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    client = await _connect(address, namespace, wait_s)
    while True:
        try:
            added = await ensure_search_attributes(client, namespace)
            break
        except RPCError as err:
            # auto-setup creates the namespace a few seconds after the frontend answers.
            if err.status not in RETRYABLE or time.monotonic() >= deadline:
                raise
            log.info("Temporal not ready yet", error=str(err))
            await asyncio.sleep(1.0)
    log.info("search attributes ready", namespace=namespace, added=added, all=sorted(SEARCH_ATTRIBUTES))


def main() -> None:
    """`python -m temporal.setup`: reads TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE (or flags)."""
    parser = argparse.ArgumentParser(prog="python -m temporal.setup", description=__doc__)
    parser.add_argument("--address", default=os.environ.get("TEMPORAL_ADDRESS", "127.0.0.1:7233"))
    parser.add_argument("--namespace", default=os.environ.get("TEMPORAL_NAMESPACE", "default"))
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the server")
    opts = parser.parse_args()
    asyncio.run(_run(opts.address, opts.namespace, opts.wait))


if __name__ == "__main__":
    main()
