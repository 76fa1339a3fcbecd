"""The live log stream as server-sent events: what a stream shows (its filters), its frames, and the stream
itself: the kept events after the one the client saw last, then each new one, with a comment every
HEARTBEAT_S so proxies keep it open. It ends when the client goes, and when the uvicorn server serving it
shuts down: uvicorn waits for open responses before it stops, so its `shutdown` first ends the streams read
on its loop (`end_streams_on_shutdown`, installed with the first stream)."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from pydantic import BaseModel

from core.live_events import HUB, LiveEventHub, TooManyStreams
from schemas.live_events import LIVE_LEVELS, LiveEvent, LiveLevel, LiveSource

HEARTBEAT_S = 15.0
RETRY_MS = 3000
_hooked: list[bool] = []


class LiveFilter(BaseModel):
    tenant: str | None = None
    level: LiveLevel = "debug"
    """The lowest level shown."""
    source: LiveSource | None = None

    def admits(self, event: LiveEvent) -> bool:
        return (
            (self.tenant is None or event.tenant_id == self.tenant)
            and LIVE_LEVELS.index(event.level) >= LIVE_LEVELS.index(self.level)
            and (self.source is None or event.source == self.source)
        )


def frame(event: LiveEvent) -> str:
    """One event as an SSE message; its id is its sequence number (EventSource sends it back on reconnect)."""
    data = event.model_dump_json(exclude={"origin"})
    return f"id: {event.seq}\nevent: live\ndata: {data}\n\n"


async def live_frames(shown: LiveFilter, after: int, hub: LiveEventHub = HUB) -> AsyncIterator[str]:
    """The kept events after `after` that the filter admits, then the new ones, until the hub closes the
    stream; it subscribes as it starts (a stream never started holds nothing) and unsubscribes however it
    ends (the client gone, the server stopping). Past the hub's limit it ends at once."""
    try:
        subscription = hub.subscribe()
    except TooManyStreams:
        return
    try:
        yield f"retry: {RETRY_MS}\n: connected\n\n"
        last = after
        for kept in hub.recent(after):
            last = kept.seq
            if shown.admits(kept):
                yield frame(kept)
        while True:
            try:
                event: LiveEvent | None = await asyncio.wait_for(subscription.queue.get(), HEARTBEAT_S)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if event is None:
                return
            if event.seq > last and shown.admits(event):
                last = event.seq
                yield frame(event)
    finally:
        hub.unsubscribe(subscription)


def end_streams_on_shutdown(hub: LiveEventHub = HUB) -> None:
    """Makes every uvicorn server in this process end the live streams on its loop as it begins to shut down
    (once; uvicorn has no hook for this, so its `Server.shutdown` is wrapped)."""
    if _hooked:
        return
    _hooked.append(True)
    original = uvicorn.Server.shutdown

    async def shutdown(self: uvicorn.Server, *args: Any, **kwargs: Any) -> None:
        hub.close_streams(asyncio.get_running_loop())
        await original(self, *args, **kwargs)

    uvicorn.Server.shutdown = shutdown  # type: ignore[method-assign]
