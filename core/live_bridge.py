"""The live stream across processes, on PostgreSQL: each process sends its own live events with NOTIFY on
CHANNEL, and the API LISTENs, so a founder watching one API process also sees what separate workers (and
other API replicas) did. Nothing is stored: NOTIFY reaches the processes listening at that moment only.

Limits, on purpose: a process's events are batched (every BATCH_DELAY_S, as JSON arrays under PostgreSQL's
8000-byte payload limit; an event too big for one is cut to its name) and a full queue or an unreachable
database drops events rather than slowing the process; the listener reconnects after RECONNECT_S, and what
was sent meanwhile is lost. On SQLite (the embedded default) there is no bridge: the API hosts the worker, so
its events are in-process anyway; a worker in a process of its own is not seen there."""

import asyncio
import contextlib
import json
import queue
import threading

import psycopg
import structlog
from pydantic import ValidationError
from sqlalchemy import Engine

from core.live_events import HUB, LiveEventHub
from schemas.live_events import LiveEvent

CHANNEL = "levqor_live"
BATCH_DELAY_S = 0.25
RECONNECT_S = 2.0
QUEUE_SIZE = 2000
MAX_PAYLOAD = 7500
log = structlog.get_logger()


class LiveBridge:
    def __init__(self, conninfo: str, hub: LiveEventHub) -> None:
        self._conninfo, self._hub = conninfo, hub
        self._outbox: queue.Queue[LiveEvent] = queue.Queue(QUEUE_SIZE)
        self._stop = threading.Event()
        self._sender = threading.Thread(target=self._send_batches, name="live-bridge", daemon=True)
        self._listener: asyncio.Task[None] | None = None
        self.dropped = 0

    def offer(self, event: LiveEvent) -> None:
        try:
            self._outbox.put_nowait(event)
        except queue.Full:
            self.dropped += 1

    async def start(self, listen: bool) -> None:
        """Starts sending; with `listen`, returns once this process LISTENs (or the database refused)."""
        self._hub.add_forwarder(self.offer)
        self._sender.start()
        if listen:
            ready = asyncio.Event()
            self._listener = asyncio.create_task(self._listen(ready))
            await ready.wait()

    async def close(self) -> None:
        self._hub.remove_forwarder(self.offer)
        self._stop.set()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await asyncio.to_thread(self._sender.join, 5)

    async def _listen(self, ready: asyncio.Event) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    ready.set()
                    async for notice in connection.notifies():
                        self._receive(notice.payload)
            except psycopg.Error as err:
                log.warning("live bridge listener lost the database", error_type=type(err).__name__)
            ready.set()
            await asyncio.sleep(RECONNECT_S)

    def _receive(self, payload: str) -> None:
        try:
            items = json.loads(payload)
            for item in items if isinstance(items, list) else []:
                self._hub.receive(LiveEvent.model_validate(item))
        except (ValueError, ValidationError):
            log.warning("live bridge payload skipped", length=len(payload))

    def _send_batches(self) -> None:
        connection: psycopg.Connection | None = None
        while not self._stop.is_set() or not self._outbox.empty():
            batch = self._next_batch()
            if not batch:
                continue
            try:
                connection = connection or psycopg.connect(self._conninfo, autocommit=True)
                for payload in payloads(batch):
                    connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
            except psycopg.Error:
                self.dropped += len(batch)
                if connection is not None:
                    connection.close()
                connection = None
                self._stop.wait(RECONNECT_S)
        if connection is not None:
            connection.close()

    def _next_batch(self) -> list[LiveEvent]:
        try:
            batch = [self._outbox.get(timeout=BATCH_DELAY_S)]
        except queue.Empty:
            return []
        self._stop.wait(BATCH_DELAY_S)  # let a burst gather into one notification
        while len(batch) < 500:
            try:
                batch.append(self._outbox.get_nowait())
            except queue.Empty:
                break
        return batch


def payloads(events: list[LiveEvent]) -> list[str]:
    """The events as JSON arrays of at most MAX_PAYLOAD bytes each."""
    found: list[str] = []
    current: list[str] = []
    size = 2
    for event in events:
        item = event.model_dump_json()
        if len(item.encode()) > MAX_PAYLOAD - 2:
            item = event.model_copy(update={"fields": {"cut": True}}).model_dump_json()
        if current and size + len(item.encode()) + 1 > MAX_PAYLOAD:
            found.append(f"[{','.join(current)}]")
            current, size = [], 2
        current.append(item)
        size += len(item.encode()) + 1
    if current:
        found.append(f"[{','.join(current)}]")
    return found


async def start_live_bridge(engine: Engine, listen: bool, hub: LiveEventHub = HUB) -> LiveBridge | None:
    """On PostgreSQL, a bridge that sends this process's live events and (`listen`) receives the others';
    None on any other database. Close it with `await bridge.close()`."""
    if engine.dialect.name != "postgresql":
        return None
    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    bridge = LiveBridge(conninfo, hub)
    await bridge.start(listen)
    return bridge
