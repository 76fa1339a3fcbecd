"""The HTTP target of bench/chaos.py, in its own process: an idempotent API that records every request.

    python -m bench.chaos_target PORT RECORD_FILE

Any method and path answers 200 JSON after sleeping `?sleep=S` seconds, so calls are still in flight when
the chaos check kills a process. Like a payment API it honours `Idempotency-Key`: the first request with a
key gets a fresh answer (with a new `serial`), and a repeat of the same request (method, path, body) gets
that answer again. A key reused for a different request answers 422, and a request without a key 400.
Each request appends one JSON line to RECORD_FILE once it is answered: arrival and answer times, method,
path, key, a hash of the request, the status and answer it gave, and whether the answer was a replay.
"""

import hashlib
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlsplit

MAX_SLEEP_S = 10.0


class IdempotentLedger:
    """The answers given per idempotency key, and the append-only record of every request."""

    def __init__(self, record: Path) -> None:
        self._lock = threading.Lock()
        self._answers: dict[str, tuple[str, int, dict[str, Any]]] = {}
        self._serial = 0
        self._record = record.open("a", buffering=1, encoding="utf-8")

    def answer(self, key: str | None, fingerprint: str, method: str, path: str) -> tuple[int, dict[str, Any], bool]:
        """Status, answer and whether it replays an earlier answer. Taken on arrival, so a retry that
        arrives while the first request still sleeps gets the same answer."""
        if not key:
            return 400, {"error": "idempotency_key_required"}, False
        with self._lock:
            known = self._answers.get(key)
            if known is None:
                self._serial += 1
                answer = {"key": key, "serial": self._serial, "method": method, "path": path}
                self._answers[key] = (fingerprint, 200, answer)
                return 200, answer, False
        stored_fingerprint, status, answer = known
        if stored_fingerprint != fingerprint:
            return 422, {"error": "idempotency_key_reused", "key": key}, False
        return status, answer, True

    def write(self, line: dict[str, Any]) -> None:
        text = json.dumps(line, sort_keys=True)
        with self._lock:
            self._record.write(text + "\n")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 120
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the record file is the log."""

    def do_GET(self) -> None:
        arrived = time.time()
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        key = self.headers.get("Idempotency-Key")
        fingerprint = hashlib.sha256(b"\0".join([self.command.encode(), split.path.encode(), body])).hexdigest()
        status, answer, replayed = self.server.ledger.answer(key, fingerprint, self.command, split.path)
        sleep_s = min(float(dict(parse_qsl(split.query)).get("sleep", 0)), MAX_SLEEP_S)
        time.sleep(sleep_s)
        delivered = self._send(status, answer)
        self.server.ledger.write(
            {
                "arrived_at": arrived,
                "answered_at": time.time(),
                "method": self.command,
                "path": split.path,
                "sleep_s": sleep_s,
                "key": key,
                "request_sha256": fingerprint,
                "status": status,
                "answer": answer,
                "replayed": replayed,
                "delivered": delivered,
            }
        )

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _send(self, status: int, answer: dict[str, Any]) -> bool:
        """Whether the answer could be written; a client that was killed meanwhile resets the connection."""
        data = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return False
        return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256

    def __init__(self, port: int, ledger: IdempotentLedger) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.ledger = ledger

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about clients that hang up (a killed worker does); loud about the rest."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _exit(_signum: int, _frame: object) -> NoReturn:
    sys.exit(0)


def main() -> None:
    port, record = int(sys.argv[1]), Path(sys.argv[2])
    signal.signal(signal.SIGTERM, _exit)
    with _Server(port, IdempotentLedger(record)) as server:
        server.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
