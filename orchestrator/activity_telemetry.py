"""A worker interceptor: every activity runs with its workflow, run and step bound to the log context, and
what it meant is recorded as telemetry (buffered; see core/telemetry.py) and shown on the live stream.

A run's step activity (HTTP, e-mail, AI) that fails because of its tenant (their target answered 4xx/5xx,
refused or timed out, their mail server refused, a secret name they never set: rules.telemetry.tenant_caused)
is a `tenant_steps` error with the tenant's id, and one that answered a `tenant_steps` event, so each tenant's
failure rate has its attempts to count against. Every other failed attempt (our own activities, an unexpected
exception inside a step's activity) is a `worker` error: the platform's. A run that failed for good, once its
failure is in the failure queue, is a `tenant_runs` error."""

from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.worker import ExecuteActivityInput

from core.live_events import publish
from core.telemetry import TelemetryBuffer
from orchestrator.interceptors import AroundActivity, Proceed
from rules.telemetry import TENANT_STEP_ERRORS
from schemas.runs import RUN_WORKFLOW_PREFIX, FailureReport
from schemas.telemetry import TENANT_RUNS, TENANT_STEPS

RUN_WORKFLOW = "UserWorkflowRun"
STEP_ACTIVITIES = frozenset({"http_request", "send_email", "ai_complete"})


class ActivityTelemetry(AroundActivity):
    def __init__(self, telemetry: TelemetryBuffer) -> None:
        self._telemetry = telemetry

    async def around(self, input: ExecuteActivityInput, proceed: Proceed) -> Any:
        info = activity.info()
        step_of = _step_tenant(info, input.args)
        # Each activity runs in its own task, so the binding ends with it (sync activities run on the
        # thread pool, which does not inherit context: their logs carry Temporal's own fields instead).
        with structlog.contextvars.bound_contextvars(**_log_context(info, input.args)):
            try:
                result = await proceed(input)
            except CancelledError:
                raise
            except Exception as err:
                self._failed(info, err, step_of)
                raise
        if step_of is not None:
            self._telemetry.record(
                "event", f"activity {info.activity_type} answered", tenant_id=step_of, source=TENANT_STEPS
            )
        elif info.workflow_type == RUN_WORKFLOW and info.activity_type == "record_failure" and input.args:
            self._run_failed(input.args[0])
        return result

    def _failed(self, info: activity.Info, err: Exception, tenant_id: str | None) -> None:
        error_type = err.type if isinstance(err, ApplicationError) and err.type else type(err).__name__
        tenants = tenant_id is not None and isinstance(err, ApplicationError) and error_type in TENANT_STEP_ERRORS
        self._telemetry.record(
            "error",
            f"activity {info.activity_type} failed: {error_type}",
            tenant_id=tenant_id,
            source=TENANT_STEPS if tenants else None,
            attributes={
                "workflow_id": info.workflow_id,
                "workflow_type": info.workflow_type,
                "attempt": info.attempt,
                "error": str(err)[:500],
            },
        )

    def _run_failed(self, report: Any) -> None:
        if not isinstance(report, FailureReport):
            return
        attributes = {"run_id": report.run_id, "step_id": report.step_id, "error_type": report.error.type}
        self._telemetry.record(
            "error", f"run failed: {report.error.type}", tenant_id=report.tenant_id, source=TENANT_RUNS,
            attributes=attributes,
        )  # fmt: skip
        publish("run failed", source="run", level="warning", tenant_id=report.tenant_id, **attributes)


def _step_tenant(info: activity.Info, args: Any) -> str | None:
    """The tenant whose run's step this activity is (HTTP, e-mail, AI), None for any other activity."""
    if info.workflow_type != RUN_WORKFLOW or info.activity_type not in STEP_ACTIVITIES or not args:
        return None
    tenant_id = getattr(args[0], "tenant_id", None)
    return tenant_id if isinstance(tenant_id, str) else None


def _log_context(info: activity.Info, args: Any) -> dict[str, str]:
    context = {"workflow_id": info.workflow_id or "", "activity": info.activity_type}
    if info.workflow_id and info.workflow_id.startswith(RUN_WORKFLOW_PREFIX):
        context["run_id"] = info.workflow_id.removeprefix(RUN_WORKFLOW_PREFIX)
    # Step activities carry `<run_id>:<step_id>` as their idempotency key.
    key = getattr(args[0], "idempotency_key", None) if args else None
    if isinstance(key, str) and ":" in key:
        context["step_id"] = key.rpartition(":")[2]
    return context
