"""A process of its own that publishes one live event and sends it over PostgreSQL (tests/core/test_live_bridge.py).

python -m tests.core.live_bridge_child DATABASE_URL MARKER"""

import asyncio
import sys

from core.db import create_db_engine
from core.live_bridge import start_live_bridge
from core.live_events import publish


async def main() -> None:
    url, marker = sys.argv[1], sys.argv[2]
    engine = create_db_engine(url)
    bridge = await start_live_bridge(engine, listen=False)
    assert bridge is not None
    publish("run failed", source="run", level="warning", tenant_id="t-child", marker=marker, to="jane.doe@example.com")
    await bridge.close()  # sends what is queued before it returns
    engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
