"""Closed runs' records in the run archive: encoded as Temporal payloads through the client's converter and
codec (so the tenant payload codec encrypts them as it encrypts histories, and purging a tenant shreds them),
with step results too large to keep inline set apart, and read back by run id."""

import asyncio
import json
from typing import Any, NamedTuple

from sqlalchemy import Engine
from sqlalchemy.orm import defer
from sqlmodel import Session, select
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import WorkflowSerializationContext

from schemas.runs import RUN_WORKFLOW_PREFIX, RunProgress
from schemas.tables import RunArchiveEntry

# A step result larger than this (as JSON) is kept apart from the run's record and read when asked for.
INLINE_RESULT_BYTES = 16 * 1024


class EncodedRecord(NamedTuple):
    record: bytes
    results: bytes | None


class ArchivedRecord(NamedTuple):
    """A run's archive entry and its record; None when it cannot be read (its tenant's key was destroyed)."""

    entry: RunArchiveEntry
    record: RunProgress | None


def result_path(run_id: str, step_id: str) -> str:
    return f"/api/runs/{run_id}/steps/{step_id}/result"


async def encode_record(client: Client, record: RunProgress) -> EncodedRecord:
    """The record as the run's own payloads are stored (through the client's converter and codec), and its
    large step results apart, each step pointing at its own with `result_ref`."""
    large: dict[str, Any] = {}
    steps = []
    for step in record.steps:
        if len(json.dumps(step.result, default=str)) > INLINE_RESULT_BYTES:
            large[step.step_id] = step.result
            step = step.model_copy(update={"result": None, "result_ref": result_path(record.run_id, step.step_id)})
        steps.append(step)
    context = WorkflowSerializationContext(namespace=client.namespace, workflow_id=RUN_WORKFLOW_PREFIX + record.run_id)
    converter = client.data_converter.with_context(context)
    payloads = await converter.encode([record.model_copy(update={"steps": steps}), large] if large else [record])
    return EncodedRecord(payloads[0].SerializeToString(), payloads[1].SerializeToString() if large else None)


async def decode_record(client: Client, data: bytes) -> RunProgress | None:
    """The record back; None when it cannot be read any more (its tenant's data key was destroyed)."""
    try:
        [record] = await client.data_converter.decode([Payload.FromString(data)], [RunProgress])
    except ValueError:
        return None
    return RunProgress.model_validate(record)


async def decode_results(client: Client, data: bytes) -> dict[str, Any]:
    """The large step results kept apart, by step id; empty when they cannot be read any more."""
    try:
        [results] = await client.data_converter.decode([Payload.FromString(data)], [dict[str, Any]])
    except ValueError:
        return {}
    return dict(results)


async def archived_run(engine: Engine, client: Client, run_id: str, whole: bool = False) -> ArchivedRecord | None:
    """The archive's entry of the run and its record, or None when not archived. `whole`: with the large step
    results back in place (what a re-drive reuses); else they stay references."""
    entry = await asyncio.to_thread(_entry, engine, run_id, whole)
    if entry is None:
        return None
    record = await decode_record(client, entry.record) if entry.record else None
    if whole and record is not None and entry.results:
        large = await decode_results(client, entry.results)
        steps = [
            step.model_copy(update={"result": large[step.step_id], "result_ref": None})
            if step.result_ref and step.step_id in large
            else step
            for step in record.steps
        ]
        record = record.model_copy(update={"steps": steps})
    return ArchivedRecord(entry, record)


async def archived_result(engine: Engine, client: Client, run_id: str, step_id: str) -> Any:
    """One large step result kept apart; None when there is none (or it cannot be read)."""
    entry = await asyncio.to_thread(_entry, engine, run_id, True)
    if entry is None or not entry.results:
        return None
    return (await decode_results(client, entry.results)).get(step_id)


def _entry(engine: Engine, run_id: str, with_results: bool) -> RunArchiveEntry | None:
    query = select(RunArchiveEntry).where(RunArchiveEntry.run_id == run_id)
    if not with_results:
        query = query.options(defer(RunArchiveEntry.results))  # type: ignore[arg-type]
    with Session(engine) as session:
        entry = session.exec(query).first()
        if entry is not None:
            session.expunge(entry)
        return entry
