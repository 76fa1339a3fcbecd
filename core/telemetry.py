"""Storing telemetry: the one row shape and INSERT for events (ingested ones and the platform's own), the
in-process buffer through which the API and workers record their own events in batches, and the one query
that reads events back for summaries and anomaly rules (shared by the API's domain and the activities).

Telemetry's other parts: the API's shapes in schemas/telemetry.py and the analysis' in
schemas/telemetry_analysis.py; the analysis (summaries, anomaly rules) in rules/telemetry.py; ingestion and
the founder's views in domain/telemetry.py, served by api/routes/telemetry.py; what the API records about
its requests in api/observability.py; the worker's failed activities in orchestrator/activity_telemetry.py;
the platform workflows' reads, daily reports and pruning in activities/telemetry.py."""

import threading
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import structlog
from sqlalchemy import Engine, insert
from sqlmodel import Session, col, select

from core.live_events import publish
from core.logs import redact, redact_text
from rules.telemetry import platform_event
from schemas.tables import TelemetryEvent
from schemas.telemetry import TelemetrySample

MAX_PENDING = 10_000
# An error's attributes that the live stream shows (the rest stay in the stored event).
LIVE_ATTRIBUTES = ("workflow_id", "workflow_type", "attempt", "error", "request_id", "run_id", "step_id")
log = structlog.get_logger()


def event_row(
    source: str,
    kind: str,
    message: str,
    *,
    endpoint: str | None,
    duration_ms: float | None,
    status: int | None,
    tenant_id: str | None,
    at: datetime,
    attributes: dict[str, Any] | None,
) -> dict[str, Any]:
    """A `telemetry_event` row with the message and attributes redacted and cut to the column sizes."""
    return {
        "id": str(uuid4()),
        "source": source,
        "kind": kind,
        "message": redact_text(message)[:1000],
        "endpoint": endpoint[:300] if endpoint else None,
        "duration_ms": duration_ms,
        "status": status,
        "tenant_id": tenant_id,
        "at": at,
        "attributes": redact(attributes or {}),
    }


def publish_error(row: dict[str, Any]) -> None:
    """An error `event_row` on the live stream: the platform's as errors, a tenant's own as warnings."""
    platform = platform_event(row["source"], row["tenant_id"])
    fields = {"telemetry_source": row["source"], "endpoint": row["endpoint"], "status": row["status"]}
    fields.update({k: v for k, v in row["attributes"].items() if k in LIVE_ATTRIBUTES})
    publish(
        row["message"],
        source="telemetry",
        level="error" if platform else "warning",
        tenant_id=row["tenant_id"],
        **{k: v for k, v in fields.items() if v is not None},
    )


def insert_events(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Writes `event_row`s in one INSERT and commits."""
    with Session(engine) as session:
        session.execute(insert(TelemetryEvent), rows)
        session.commit()


class TelemetryBuffer:
    """Recording is a list append under a lock; a one-shot timer writes what is pending `flush_delay_s`
    later in one INSERT, so the request and activity paths never wait for the database. Beyond
    MAX_PENDING unwritten events new ones are dropped (and counted) rather than growing memory."""

    def __init__(self, engine: Engine, source: str, flush_delay_s: float = 2.0) -> None:
        self._engine, self._source, self._delay = engine, source, flush_delay_s
        self._lock = threading.Lock()
        self._pending: list[dict[str, Any]] = []
        self._timer: threading.Timer | None = None
        self.dropped = 0

    def record(
        self,
        kind: str,
        message: str,
        *,
        endpoint: str | None = None,
        duration_ms: float | None = None,
        status: int | None = None,
        tenant_id: str | None = None,
        attributes: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> None:
        """Buffers one event of the buffer's source (or `source`); an error also goes to the live stream."""
        row = event_row(
            source or self._source,
            kind,
            message,
            endpoint=endpoint,
            duration_ms=duration_ms,
            status=status,
            tenant_id=tenant_id,
            at=datetime.now(UTC),
            attributes=attributes,
        )
        if kind == "error":
            publish_error(row)
        with self._lock:
            if len(self._pending) >= MAX_PENDING:
                self.dropped += 1
                return
            self._pending.append(row)
            if self._timer is None:
                self._timer = threading.Timer(self._delay, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> int:
        """Writes every pending event now; returns how many. A failed write is logged and dropped."""
        with self._lock:
            batch, self._pending = self._pending, []
            if self._timer is not None and self._timer is not threading.current_thread():
                self._timer.cancel()
            self._timer = None
        if not batch:
            return 0
        try:
            insert_events(self._engine, batch)
        except Exception as err:
            log.warning("telemetry write failed", events=len(batch), error_type=type(err).__name__)
            return 0
        return len(batch)

    def close(self) -> None:
        self.flush()


def load_samples(
    engine: Engine, since: datetime, until: datetime, limit: int = 50_000, tenant_id: str | None = None
) -> list[TelemetrySample]:
    """Events recorded in [since, until], newest first, at most `limit`: the input of every summary."""
    query = select(TelemetryEvent).where(col(TelemetryEvent.at) >= since, col(TelemetryEvent.at) <= until)
    if tenant_id is not None:
        query = query.where(TelemetryEvent.tenant_id == tenant_id)
    with Session(engine) as session:
        rows = session.exec(query.order_by(col(TelemetryEvent.at).desc()).limit(limit)).all()
    return [
        TelemetrySample(
            source=r.source,
            kind=r.kind,
            message=r.message,
            endpoint=r.endpoint,
            duration_ms=r.duration_ms,
            status=r.status,
            at=r.at,
            tenant_id=r.tenant_id,
        )
        for r in rows
    ]
