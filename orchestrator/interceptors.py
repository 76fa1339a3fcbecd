"""What the worker's activity interceptors share: each one only says what happens around an activity."""

from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

Proceed = Callable[[ExecuteActivityInput], Awaitable[Any]]


class AroundActivity(Interceptor):
    """Runs `around` for every activity execution; `proceed(input)` executes the activity."""

    async def around(self, input: ExecuteActivityInput, proceed: Proceed) -> Any:
        raise NotImplementedError

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Inbound(next, self)


class _Inbound(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, outer: AroundActivity) -> None:
        super().__init__(next)
        self._outer = outer

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        return await self._outer.around(input, self.next.execute_activity)
