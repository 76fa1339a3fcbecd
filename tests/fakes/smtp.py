"""A local SMTP server that keeps what it receives, and can refuse the next message on request."""

import asyncio
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class _Handler:
    """aiosmtpd calls this from the controller's own event loop thread."""

    def __init__(self, sink: "SmtpSink") -> None:
        self._sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        rejection = self._sink.take_rejection()
        if rejection is not None:
            return f"{rejection} {'5.7.1' if rejection >= 500 else '4.3.0'} Message refused by test"
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self._sink.receive(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


class _Controller(Controller):
    def _trigger_server(self) -> None:
        # Bound to port 0; learn the real port before the base class connects to check readiness.
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink:
    """SMTP on 127.0.0.1 at an OS-chosen port, run by aiosmtpd in its own thread."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: list[ReceivedMail] = []
        self._rejections: list[int] = []
        self._controller = _Controller(_Handler(self), hostname=self.host, port=0)

    def start(self) -> "SmtpSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @property
    def port(self) -> int:
        return self._controller.port

    def reject_next(self, code: int = 550) -> None:
        """Answers the next message's DATA with `code` (5xx permanent, 4xx transient) and drops it."""
        with self._lock:
            self._rejections.append(code)

    def take_rejection(self) -> int | None:
        with self._lock:
            return self._rejections.pop(0) if self._rejections else None

    def receive(self, mail: ReceivedMail) -> None:
        with self._lock:
            self.messages.append(mail)

    def reset(self) -> None:
        """Forgets received messages and pending rejections."""
        with self._lock:
            self.messages.clear()
            self._rejections.clear()
