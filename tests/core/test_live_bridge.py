"""The live stream across processes: on PostgreSQL an event of another process arrives over NOTIFY; on
SQLite there is no bridge."""

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from core.db import create_db_engine
from core.live_bridge import MAX_PAYLOAD, payloads, start_live_bridge
from core.live_events import LiveEventHub
from schemas.live_events import LiveEvent
from tests.conftest import until

ROOT = Path(__file__).resolve().parents[2]


async def test_an_event_of_a_separate_process_reaches_this_processs_hub_masked(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.fail("the bridge needs the test command's PostgreSQL (DATABASE_URL)")
    engine = create_db_engine(database_url)
    hub = LiveEventHub()
    bridge = await start_live_bridge(engine, listen=True, hub=hub)
    assert bridge is not None
    marker = uuid.uuid4().hex
    try:
        child = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "tests.core.live_bridge_child", database_url, marker],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert child.returncode == 0, child.stderr

        async def arrived() -> list[LiveEvent]:
            return [e for e in hub.recent() if e.fields.get("marker") == marker]

        (event,) = await until(arrived, bool, timeout_s=10)
    finally:
        await bridge.close()
        engine.dispose()
    assert (event.event, event.source, event.level, event.tenant_id) == ("run failed", "run", "warning", "t-child")
    assert event.origin != hub.origin and event.fields["to"] == "j***@example.com"


async def test_there_is_no_bridge_on_sqlite(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'x.db'}")

    assert await start_live_bridge(engine, listen=True, hub=LiveEventHub()) is None


def test_big_batches_are_split_under_postgres_payload_limit() -> None:
    hub = LiveEventHub()
    for i in range(60):
        hub.publish(f"event {i}", source="log", fields={f"k{j}": "v" * 200 for j in range(5)})
    hub.publish("huge", source="log", fields={f"k{j}": "x" * 300 for j in range(20)})

    sent = payloads(hub.recent())

    assert len(sent) > 1 and all(len(p.encode()) <= MAX_PAYLOAD for p in sent)
    assert sum(p.count('"origin"') for p in sent) == 61
