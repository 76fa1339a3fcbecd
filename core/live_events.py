"""The live event stream's hub, one per process: the last RING_SIZE events, and a bounded queue per open
stream that drops rather than blocks. Logging is process-wide, and so is its live tail: the structlog
processor in core/logs.py, the telemetry buffer, the activity interceptor and the audit and billing tables
(`feed_tables`) publish here from any thread; each stream reads on its own event loop. Every event is masked
(core/logs.py `redact`) before anyone sees it. Events of other processes arrive through core/live_bridge.py."""

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session, UOWTransaction

from core.logs import redact, redact_text
from schemas.live_events import LIVE_LEVELS, FieldValue, LiveEvent, LiveLevel, LiveSource
from schemas.tables import AuditEntry, BillingEvent

RING_SIZE = 500
QUEUE_SIZE = 1000
MAX_STREAMS = 8
MAX_FIELDS = 20
MAX_TEXT = 300
LEVEL_NAMES: dict[str, LiveLevel] = {"warn": "warning", "exception": "error", "fatal": "critical"}


class TooManyStreams(Exception):
    pass


class Subscription:
    """One open stream: events arrive on its loop's queue; when it is full they are dropped and counted."""

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self.loop, self.thread = loop, threading.get_ident()
        self.queue: asyncio.Queue[LiveEvent | None] = asyncio.Queue(size)
        self.dropped = 0
        self.closed = False

    def offer(self, event: LiveEvent | None) -> None:
        if threading.get_ident() == self.thread:
            self._put(event)
            return
        try:
            self.loop.call_soon_threadsafe(self._put, event)
        except RuntimeError:  # the stream's loop has closed
            self.closed = True

    def _put(self, event: LiveEvent | None) -> None:
        if event is None:  # closing: make room for the end marker
            self.closed = True
            while self.queue.full():
                self.queue.get_nowait()
        elif self.queue.full():
            self.dropped += 1
            return
        self.queue.put_nowait(event)


class LiveEventHub:
    def __init__(self, ring_size: int = RING_SIZE, queue_size: int = QUEUE_SIZE, max_streams: int = MAX_STREAMS):
        self.origin = uuid4().hex[:12]
        self._lock = threading.Lock()
        self._ring: deque[LiveEvent] = deque(maxlen=ring_size)
        self._seq = 0
        self._queue_size, self._max_streams = queue_size, max_streams
        self._subscriptions: set[Subscription] = set()
        self._forwarders: list[Callable[[LiveEvent], None]] = []

    def publish(
        self,
        event: str,
        *,
        source: LiveSource,
        level: str = "info",
        tenant_id: str | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        """Masks and keeps one event of this process, hands it to every stream and forwarder; never raises
        for what it is given and never waits."""
        made = LiveEvent(
            at=datetime.now(UTC),
            level=live_level(level),
            source=source,
            tenant_id=str(tenant_id)[:64] if tenant_id else None,
            event=redact_text(str(event))[:MAX_TEXT],
            fields=masked_fields(fields or {}),
            origin=self.origin,
        )
        forwarders = self._add(made)
        for forward in forwarders:
            forward(made)

    def receive(self, event: LiveEvent) -> None:
        """An event another process published (its own masking done there, and done again here)."""
        if event.origin == self.origin:
            return
        self._add(event.model_copy(update={"event": redact_text(event.event), "fields": masked_fields(event.fields)}))

    def add_forwarder(self, forward: Callable[[LiveEvent], None]) -> None:
        with self._lock:
            self._forwarders.append(forward)

    def remove_forwarder(self, forward: Callable[[LiveEvent], None]) -> None:
        with self._lock:
            if forward in self._forwarders:
                self._forwarders.remove(forward)

    def recent(self, after: int = 0) -> list[LiveEvent]:
        """The kept events after sequence number `after`, oldest first."""
        with self._lock:
            return [e for e in self._ring if e.seq > after]

    def subscribe(self) -> Subscription:
        """A stream on the running loop; TooManyStreams past the limit."""
        subscription = Subscription(asyncio.get_running_loop(), self._queue_size)
        with self._lock:
            if len(self._subscriptions) >= self._max_streams:
                raise TooManyStreams
            self._subscriptions.add(subscription)
        return subscription

    def has_room(self) -> bool:
        with self._lock:
            return len(self._subscriptions) < self._max_streams

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)

    def close_streams(self, loop: asyncio.AbstractEventLoop | None = None) -> int:
        """Ends the streams read on `loop` (every stream without one): a server shutting down."""
        with self._lock:
            ending = [s for s in self._subscriptions if loop is None or s.loop is loop]
        for subscription in ending:
            subscription.offer(None)
        return len(ending)

    def _add(self, event: LiveEvent) -> list[Callable[[LiveEvent], None]]:
        with self._lock:
            self._seq += 1
            event.seq = self._seq
            self._ring.append(event)
            subscriptions = list(self._subscriptions)
            forwarders = list(self._forwarders) if event.origin == self.origin else []
        for subscription in subscriptions:
            subscription.offer(event)
        return forwarders


def live_level(level: object) -> LiveLevel:
    name = str(level).lower()
    name = LEVEL_NAMES.get(name, name)
    return name if name in LIVE_LEVELS else "info"


def masked_fields(fields: Mapping[str, Any]) -> dict[str, FieldValue]:
    """At most MAX_FIELDS plain values, masked (secret-named keys, credentials, e-mail addresses) and cut."""
    plain: dict[str, FieldValue] = {}
    for key, value in list(fields.items())[:MAX_FIELDS]:
        if value is None or isinstance(value, bool | int | float):
            plain[str(key)[:64]] = value
        else:
            plain[str(key)[:64]] = str(value)[: MAX_TEXT * 2]
    masked: dict[str, FieldValue] = redact(plain)
    return {k: v[:MAX_TEXT] if isinstance(v, str) else v for k, v in masked.items()}


HUB = LiveEventHub()


def publish(
    event: str, *, source: LiveSource, level: str = "info", tenant_id: str | None = None, **fields: Any
) -> None:
    """Publishes to this process's hub (see LiveEventHub.publish)."""
    HUB.publish(event, source=source, level=level, tenant_id=tenant_id, fields=fields)


def feed_tables() -> None:
    """Every committed audit entry and billing event goes to the hub, whichever code wrote it (once per
    process; sessions of any engine). Rows are seen at flush and published only once their transaction commits."""
    if not orm_event.contains(Session, "after_flush", _seen_rows):
        orm_event.listen(Session, "after_flush", _seen_rows)
        orm_event.listen(Session, "after_commit", _publish_rows)
        orm_event.listen(Session, "after_soft_rollback", _forget_rows)


def _seen_rows(session: Session, _flush: UOWTransaction) -> None:
    rows = [row for row in session.new if isinstance(row, AuditEntry | BillingEvent)]
    if rows:
        session.info.setdefault("live_rows", []).extend(_row_event(row) for row in rows)


def _publish_rows(session: Session) -> None:
    for event, kwargs in session.info.pop("live_rows", []):
        HUB.publish(event, **kwargs)


def _forget_rows(session: Session, _previous: Any) -> None:
    session.info.pop("live_rows", None)


def _row_event(row: AuditEntry | BillingEvent) -> tuple[str, dict[str, Any]]:
    if isinstance(row, AuditEntry):
        fields = {"actor": row.actor, **{k: v for k, v in (row.detail or {}).items() if not isinstance(v, dict)}}
        return row.action, {"source": "audit", "level": "info", "tenant_id": row.tenant_id, "fields": fields}
    fields = {"type": row.type, "outcome": row.outcome, "dunning": row.dunning, "invoice_id": row.invoice_id}
    return f"stripe {row.type}", {"source": "billing", "level": "info", "tenant_id": row.tenant_id, "fields": fields}
