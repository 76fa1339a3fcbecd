"""Connecting to Temporal with the platform's data converter."""

import asyncio
import time

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime


async def connect(address: str, namespace: str, wait_s: float = 30.0, runtime: Runtime | None = None) -> Client:
    """A client with the pydantic converter; waits for a server that is still starting. `runtime` carries
    the SDK's telemetry (e.g. Prometheus metrics); the default runtime otherwise."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return await Client.connect(
                address, namespace=namespace, data_converter=pydantic_data_converter, runtime=runtime
            )
        except RuntimeError:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.25)
