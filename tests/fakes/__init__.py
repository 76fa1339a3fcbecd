"""Real local servers that stand in for outside systems in tests, and the plumbing they share."""

import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class JsonHandler(BaseHTTPRequestHandler):
    """A keep-alive request handler that answers JSON or bytes; `self.server.fake` is the owning fake."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a keep-alive client waits ~40 ms for the second.
    disable_nagle_algorithm = True
    # Idle keep-alive connections give their thread back after this long.
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests assert on recorded calls, not on stderr."""

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(status, json.dumps(payload).encode(), "application/json", headers)

    def send_bytes(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        no_body = self.command == "HEAD" or status in (204, 304)
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if not no_body:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not no_body:
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Keep-alive connections may outlive the test; closing the server must not wait for them.
    block_on_close = False
    # Benchmarks and concurrency tests open ~200 connections at once.
    request_queue_size = 1024

    def __init__(self, handler: type[BaseHTTPRequestHandler], fake: object, port: int) -> None:
        super().__init__(("127.0.0.1", port), handler)
        self.fake = fake

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about clients that hang up (a truncating or timed-out client does); loud about the rest."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LocalHttpServer:
    """Serves `handler` on 127.0.0.1 (at an OS-chosen port unless one is given) from a daemon thread, so sync
    and async tests alike can use it. Subclasses set `handler` and keep their state on themselves."""

    handler: type[JsonHandler]

    def __init__(self, port: int = 0) -> None:
        self._requested_port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        self._server = _Server(self.handler, self, self._requested_port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "server is not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"


def unused_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (a moment ago), for "connection refused" tests."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
