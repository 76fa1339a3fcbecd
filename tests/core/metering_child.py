"""A process that counts usage into its outbox and then waits to be killed (tests/core/test_metering.py).

    python -m tests.core.metering_child DATABASE_URL OUTBOX_DIR TENANT_ID COUNTS [FLUSHES]

Counts COUNTS units, cycling through runs, steps and AI credits, flushing FLUSHES times on the way (each
flush fails while the database is out), prints "counted" and sleeps; no flush comes before the kill."""

import sys
import time

from core.db import create_db_engine
from core.metering import UsageBuffer
from schemas.usage import Metric

BILLABLE: tuple[Metric, ...] = ("runs", "steps", "ai_credits")
COMPACT_BYTES = 4096


def main() -> None:
    url, outbox, tenant_id, counts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    flushes = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    usage = UsageBuffer(create_db_engine(url), outbox, flush_delay_s=3600, compact_bytes=COMPACT_BYTES)
    every = counts // flushes if flushes else 0
    for number in range(counts):
        usage.add(tenant_id, BILLABLE[number % len(BILLABLE)])
        if every and number % every == every - 1:
            usage.flush()
    print("counted", flush=True)
    time.sleep(3600)


if __name__ == "__main__":
    main()
