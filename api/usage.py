"""API-call metering: one count per authenticated request, into the process's UsageBuffer."""

from starlette.types import ASGIApp, Receive, Scope, Send

from core.security import hash_api_key


class ApiCallCounter:
    """ASGI middleware: after each request, one count for the tenant whose key authenticated it.
    The key was just looked up by `get_caller`, so the caller cache answers without the database."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] != "http":
            return
        state = scope.get("state") or {}
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        if "usage" not in state or scheme.lower() != "bearer" or not token.strip():
            return
        caller = state["callers"].get(hash_api_key(token.strip()))
        if caller is not None and caller.tenant_id is not None:
            state["usage"].add(caller.tenant_id, "api_calls")
