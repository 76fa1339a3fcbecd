"""The live stream's hub: the last 500 kept, streams that drop rather than block, masking, the log processor
feeding it once per record, and audit entries that appear only once committed."""

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlmodel import Session, SQLModel, create_engine

from core.live_events import HUB, LiveEventHub, TooManyStreams, feed_tables, publish
from core.logs import configure_logging
from schemas.tables import AuditEntry, BillingEvent


def mine(marker: str) -> list:
    return [e for e in HUB.recent() if marker in e.event or marker in str(e.fields.values())]


def test_the_ring_keeps_the_last_500_in_order() -> None:
    hub = LiveEventHub()

    for i in range(620):
        hub.publish(f"event {i}", source="log")

    kept = hub.recent()
    assert len(kept) == 500
    assert (kept[0].event, kept[-1].event) == ("event 120", "event 619")
    assert [e.event for e in hub.recent(after=kept[-3].seq)] == ["event 618", "event 619"]


async def test_a_slow_stream_drops_events_instead_of_blocking_the_publisher() -> None:
    hub = LiveEventHub(queue_size=3, max_streams=1)
    subscription = hub.subscribe()

    for i in range(10):
        hub.publish(f"e{i}", source="log")

    assert subscription.queue.qsize() == 3 and subscription.dropped == 7
    try:
        hub.subscribe()
        raise AssertionError("a second stream was allowed")
    except TooManyStreams:
        pass
    hub.close_streams(asyncio.get_running_loop())
    drained = [subscription.queue.get_nowait() for _ in range(subscription.queue.qsize())]
    assert drained[-1] is None and subscription.closed


async def test_events_from_other_threads_reach_the_stream_on_its_loop() -> None:
    hub = LiveEventHub()
    subscription = hub.subscribe()

    await asyncio.to_thread(hub.publish, "from a worker thread", source="run", tenant_id="t-1", fields={"run_id": "r"})

    event = await asyncio.wait_for(subscription.queue.get(), 2)
    assert event is not None and (event.event, event.source, event.tenant_id) == ("from a worker thread", "run", "t-1")


def test_secrets_and_email_addresses_are_masked_before_anyone_sees_them() -> None:
    hub = LiveEventHub()

    hub.publish(
        "invited jane.doe@example.com",
        source="audit",
        fields={"api_key": "lvq_live_abcdefghijkl", "note": "Bearer abcdefghijklmnop", "to": "bob@example.org", "n": 3},
    )

    (event,) = hub.recent()
    text = event.model_dump_json()
    assert "jane.doe@example.com" not in text and "bob@example.org" not in text
    assert "lvq_live_abcdefghijkl" not in text and "abcdefghijklmnop" not in text
    assert event.event == "invited j***@example.com"
    assert event.fields == {"api_key": "***", "note": "***", "to": "b***@example.org", "n": 3}


def test_log_lines_reach_the_hub_once_each_with_their_level_tenant_and_source(tmp_path: Path) -> None:
    configure_logging("json", "INFO", str(tmp_path / "levqor.log"))  # two handlers: each record still counts once
    marker = uuid.uuid4().hex

    structlog.get_logger().warning("quota near", tenant_id="t-9", marker=marker, password="hunter2")
    logging.getLogger("temporalio.activity").info("run started", extra={"live_source": "run", "marker": marker})

    events = mine(marker)
    assert [(e.event, e.level, e.source, e.tenant_id) for e in events] == [
        ("quota near", "warning", "log", "t-9"),
        ("run started", "info", "run", None),
    ]
    assert events[0].fields["password"] == "***"
    assert marker in (tmp_path / "levqor.log").read_text()


def test_audit_entries_appear_once_committed_and_never_when_rolled_back(tmp_path: Path) -> None:
    feed_tables()
    engine = create_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    SQLModel.metadata.create_all(engine, tables=[SQLModel.metadata.tables["audit_entry"]])
    kept, dropped = uuid.uuid4().hex, uuid.uuid4().hex

    with Session(engine) as session:
        session.add(AuditEntry(tenant_id="t-1", actor="founder", action="tenant_suspended", detail={"why": kept}))
        session.flush()
        assert mine(kept) == []  # flushed is not yet committed
        session.commit()
    with Session(engine) as session:
        session.add(AuditEntry(tenant_id="t-1", actor="founder", action="tenant_suspended", detail={"why": dropped}))
        session.flush()
        session.rollback()
    publish("after", source="log")

    (entry,) = mine(kept)
    assert (entry.event, entry.source, entry.tenant_id, entry.fields["actor"]) == (
        "tenant_suspended",
        "audit",
        "t-1",
        "founder",
    )
    assert mine(dropped) == []


def test_billing_events_appear_once_committed(tmp_path: Path) -> None:
    feed_tables()
    engine = create_engine(f"sqlite:///{tmp_path / 'billing.db'}")
    SQLModel.metadata.create_all(engine, tables=[SQLModel.metadata.tables["billing_event"]])
    invoice = f"in_{uuid.uuid4().hex}"

    with Session(engine) as session:
        session.add(
            BillingEvent(
                id=f"evt_{uuid.uuid4().hex}",
                type="invoice.payment_failed",
                tenant_id="t-2",
                outcome="applied",
                dunning="started",
                invoice_id=invoice,
                workflow_run_id="stripe-event-1",
                created_at=datetime.now(UTC),
            )
        )
        session.commit()

    (event,) = mine(invoice)
    assert (event.event, event.source, event.tenant_id) == ("stripe invoice.payment_failed", "billing", "t-2")
    assert (event.fields["outcome"], event.fields["dunning"]) == ("applied", "started")
