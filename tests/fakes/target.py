"""A local HTTP server that HTTP steps call in tests: echoes, chosen statuses, flaky, slow and big answers.

Routes (any method):
  /echo                          200 JSON {method, path, query, headers, json, body}
  /json                          200 {"value": 42, "items": [1, 2, 3]}
  /status/{code}                 `code` with {"status": code}
  /flaky/{name}?fail=N&code=503  `code` for the first N calls per name, then 200 {"ok": true, "calls": n}
  /slow?seconds=S                200 {"slept": S} after S seconds
  /stall-once/{name}?seconds=S   the first call per name answers after S seconds, later ones at once
  /redirect?to=URL&code=302      `code` with Location: URL
  /big?bytes=N                   200 text/plain, N bytes of "x"
  /cookie                        200 with Set-Cookie: levqor=crumb
Anything else answers 404.

`python -m tests.fakes.target [PORT]` serves the same routes in the foreground, for benchmarks and end-to-end
runs that keep the target out of the measured process.
"""

import json
import sys
import threading
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes import JsonHandler, LocalHttpServer

BIG_CHUNK = 64 * 1024


@dataclass(frozen=True)
class RecordedCall:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    json: Any = field(default=None)
    at: float = field(default_factory=time.monotonic)


class _TargetHandler(JsonHandler):
    server: Any

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        target: TargetServer = self.server.fake
        split = urlsplit(self.path)
        call = _record(self.command, split.path, dict(parse_qsl(split.query)), self.headers.items(), self.read_body())
        target.record(call)
        route, _, name = split.path.strip("/").partition("/")
        # A client that truncates the body stops reading and hangs up.
        with suppress(BrokenPipeError, ConnectionResetError):
            self._answer(target, route, name, call)

    def _answer(self, target: "TargetServer", route: str, name: str, call: RecordedCall) -> None:
        query = call.query
        match route:
            case "echo":
                body = call.body.decode(errors="replace")
                self.send_json(
                    200,
                    {
                        "method": call.method,
                        "path": call.path,
                        "query": query,
                        "headers": call.headers,
                        "json": call.json,
                        "body": body,
                    },
                )
            case "json":
                self.send_json(200, {"value": 42, "items": [1, 2, 3]})
            case "status" if name.isdigit():
                self.send_json(int(name), {"status": int(name)})
            case "flaky" if name:
                calls = target.count(f"flaky/{name}")
                if calls <= int(query.get("fail", "1")):
                    self.send_json(int(query.get("code", "503")), {"ok": False, "calls": calls})
                else:
                    self.send_json(200, {"ok": True, "calls": calls})
            case "slow":
                time.sleep(float(query.get("seconds", "1")))
                self.send_json(200, {"slept": float(query.get("seconds", "1"))})
            case "stall-once" if name:
                calls = target.count(f"stall-once/{name}")
                if calls == 1:
                    time.sleep(float(query.get("seconds", "5")))
                self.send_json(200, {"name": name, "calls": calls, "stalled": calls == 1})
            case "redirect":
                self.send_bytes(
                    int(query.get("code", "302")), b"", "text/plain", {"Location": query.get("to", "/echo")}
                )
            case "big":
                self._send_big(int(query.get("bytes", "1024")))
            case "cookie":
                self.send_json(200, {"cookie": "set"}, {"Set-Cookie": "levqor=crumb; Path=/"})
            case _:
                self.send_json(404, {"error": "not found", "path": call.path})

    def _send_big(self, size: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        while size > 0:
            chunk = min(size, BIG_CHUNK)
            self.wfile.write(b"x" * chunk)
            size -= chunk


def _record(method: str, path: str, query: dict[str, str], headers: Any, body: bytes) -> RecordedCall:
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    lowered = {name.lower(): value for name, value in headers}
    return RecordedCall(method=method, path=path, query=query, headers=lowered, body=body, json=parsed)


class TargetServer(LocalHttpServer):
    """Records every call (thread-safe) before answering it; see the module docstring for the routes."""

    handler = _TargetHandler

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self._lock = threading.Lock()
        self.calls: list[RecordedCall] = []
        self._counts: Counter[str] = Counter()

    def record(self, call: RecordedCall) -> None:
        with self._lock:
            self.calls.append(call)

    def count(self, key: str) -> int:
        """Counts one more call under `key` and returns the new count."""
        with self._lock:
            self._counts[key] += 1
            return self._counts[key]

    def calls_to(self, path: str) -> list[RecordedCall]:
        with self._lock:
            return [call for call in self.calls if call.path == path]

    def reset(self) -> None:
        """Forgets recorded calls and the per-name counters of /flaky and /stall-once."""
        with self._lock:
            self.calls.clear()
            self._counts.clear()


def main() -> None:
    server = TargetServer(int(sys.argv[1]) if len(sys.argv) > 1 else 0).start()
    sys.stdout.write(f"{server.url}\n")
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
