"""API-call metering: one count per request a tenant key authenticated, into the process's UsageBuffer."""

from starlette.types import ASGIApp, Receive, Scope, Send


class ApiCallCounter:
    """ASGI middleware: after each request, one count for the tenant whose key authenticated it, as
    `get_caller` left it in the request's state (no second key lookup)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] != "http":
            return
        state = scope.get("state") or {}
        caller = state.get("caller")
        if caller is not None and caller.tenant_id is not None and "usage" in state:
            state["usage"].add(caller.tenant_id, "api_calls")
