"""A worker interceptor: every activity runs with its workflow, run and step bound to the log context,
and every failed attempt is recorded as a `worker` telemetry error (buffered; see core/telemetry.py)."""

from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.worker import ExecuteActivityInput

from core.telemetry import TelemetryBuffer
from orchestrator.interceptors import AroundActivity, Proceed
from schemas.runs import RUN_WORKFLOW_PREFIX


class ActivityTelemetry(AroundActivity):
    def __init__(self, telemetry: TelemetryBuffer) -> None:
        self._telemetry = telemetry

    async def around(self, input: ExecuteActivityInput, proceed: Proceed) -> Any:
        info = activity.info()
        # Each activity runs in its own task, so the binding ends with it (sync activities run on the
        # thread pool, which does not inherit context: their logs carry Temporal's own fields instead).
        with structlog.contextvars.bound_contextvars(**_log_context(info, input.args)):
            try:
                return await proceed(input)
            except CancelledError:
                raise
            except Exception as err:
                error_type = err.type if isinstance(err, ApplicationError) and err.type else type(err).__name__
                self._telemetry.record(
                    "error",
                    f"activity {info.activity_type} failed: {error_type}",
                    attributes={
                        "workflow_id": info.workflow_id,
                        "workflow_type": info.workflow_type,
                        "attempt": info.attempt,
                        "error": str(err)[:500],
                    },
                )
                raise


def _log_context(info: activity.Info, args: Any) -> dict[str, str]:
    context = {"workflow_id": info.workflow_id or "", "activity": info.activity_type}
    if info.workflow_id and info.workflow_id.startswith(RUN_WORKFLOW_PREFIX):
        context["run_id"] = info.workflow_id.removeprefix(RUN_WORKFLOW_PREFIX)
    # Step activities carry `<run_id>:<step_id>` as their idempotency key.
    key = getattr(args[0], "idempotency_key", None) if args else None
    if isinstance(key, str) and ":" in key:
        context["step_id"] = key.rpartition(":")[2]
    return context
