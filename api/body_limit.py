"""The request-body cap of every route: a body over API_MAX_BODY_BYTES is refused with 413 before routing,
before authentication and before any route parses a byte of it."""

import json

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.i18n import negotiate, render
from schemas.i18n import tr

_CONTENT_LENGTH = b"content-length"


class BodySizeLimit:
    """Pure ASGI middleware (no per-request task or buffering on the common path). A declared
    Content-Length over the cap is answered at once, the body unread; a body without one (chunked) is
    read up to the cap before the app is called, then handed on as it came."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None:
            if declared > self.max_bytes:
                await self._refuse(scope, send)
            else:
                await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size, more = 0, True
        while more:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away; the app sees the disconnect
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(scope, send)
                return
            more = message.get("more_body", False)
        await self.app(scope, _replay(messages, receive), send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        # Answered before any other middleware has run: the reader's language is read here.
        message = tr("A request body may take at most %(limit)s bytes", limit=self.max_bytes)
        tag = negotiate(Headers(scope=scope).get("accept-language"))
        body = json.dumps(
            {
                "code": "payload_too_large",
                "message": render(message, tag),
                "field": "body",
                "limit": self.max_bytes,
            }
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        # The unread rest of the body makes the connection unusable for another request.
        headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == _CONTENT_LENGTH:
            return int(value) if value.isdigit() else None
    return None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """The messages read ahead, then the connection's own (a later disconnect)."""
    pending = iter(messages)

    async def replayed() -> Message:
        message = next(pending, None)
        return message if message is not None else await receive()

    return replayed
