"""What the tenant payload codec costs per payload: encode and decode of a typical run input, warm key cache.

`python -m bench.payload_codec [--payloads N]` prints microseconds per payload for the pydantic converter alone
and with the codec, and how many database reads the keyring made (one per tenant while the cache is warm).
"""

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import event
from temporalio.converter import WorkflowSerializationContext

from core.db import create_db_engine, migrate
from core.security import SecretBox
from starters.connection import data_converter, tenant_codec

RUN_INPUT = {
    "run_id": "8d1c6f1e-2f9e-4c51-9a55-0f0c8f2f1e10",
    "tenant_id": "5b0e4c1d-7d1a-4f7e-8f55-1c2d3e4f5a6b",
    "input": {"email": "ada@bakery.example", "order": {"items": [{"sku": f"sku-{i}", "qty": i} for i in range(20)]}},
}


async def measure(payloads: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        migrate(url)
        engine = create_db_engine(url)
        reads = {"n": 0}
        event.listen(engine, "before_cursor_execute", lambda *_: reads.__setitem__("n", reads["n"] + 1))
        codec = tenant_codec(engine, SecretStr(SecretBox.new_key()))
        context = WorkflowSerializationContext(namespace="default", workflow_id="run-8d1c6f1e")
        plain = data_converter(None).with_context(context)
        coded = data_converter(codec).with_context(context)
        for name, converter in (("pydantic only", plain), ("pydantic + codec", coded)):
            await converter.decode(await converter.encode([RUN_INPUT]))  # warm: the key is made and cached
            before, started = reads["n"], time.perf_counter()
            for _ in range(payloads):
                await converter.decode(await converter.encode([RUN_INPUT]))
            per = (time.perf_counter() - started) / payloads * 1e6
            print(f"{name:18} {per:8.1f} µs per payload (encode + decode), db reads: {reads['n'] - before}")
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payloads", type=int, default=20_000)
    asyncio.run(measure(parser.parse_args().payloads))


if __name__ == "__main__":
    main()
