"""Closed runs' records in the run archive: encoded as Temporal payloads through the client's converter and
codec (so the tenant payload codec encrypts them as it encrypts histories, and purging a tenant shreds them),
and read back by run id."""

import asyncio

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import WorkflowSerializationContext

from schemas.runs import RunProgress
from schemas.tables import RunArchiveEntry


async def encode_record(client: Client, workflow_id: str, record: RunProgress) -> bytes:
    """The record as the run's own payloads are stored: through the client's converter and codec."""
    context = WorkflowSerializationContext(namespace=client.namespace, workflow_id=workflow_id)
    [payload] = await client.data_converter.with_context(context).encode([record])
    return payload.SerializeToString()


async def decode_record(client: Client, data: bytes) -> RunProgress | None:
    """The record back; None when it cannot be read any more (its tenant's data key was destroyed)."""
    try:
        [record] = await client.data_converter.decode([Payload.FromString(data)], [RunProgress])
    except ValueError:
        return None
    return RunProgress.model_validate(record)


async def archived_run(
    engine: Engine, client: Client, run_id: str
) -> tuple[RunArchiveEntry, RunProgress | None] | None:
    """The archive's entry of the run and its record (None when unreadable), or None when not archived."""
    entry = await asyncio.to_thread(_entry, engine, run_id)
    if entry is None:
        return None
    return entry, await decode_record(client, entry.record) if entry.record else None


def _entry(engine: Engine, run_id: str) -> RunArchiveEntry | None:
    with Session(engine) as session:
        entry = session.get(RunArchiveEntry, run_id)
        if entry is not None:
            session.expunge(entry)
        return entry
