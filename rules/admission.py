"""Who may start a run, decided from facts already read: the tenant's status, its usage this period against
its plan, and the cost autopilot's throttle. Every way in (API, webhook, schedule, re-drive, AutoRecovery)
asks these same questions; the API answers a refusal as an error, a scheduled run ends `refused`."""

from typing import Any

from language.steps import AiStep, WorkflowDefinition
from rules.usage import START_LIMITED, period_end
from schemas.runs import Refusal
from schemas.toggles import SystemToggles
from schemas.usage import Metric


def tenant_refusal(status: str | None) -> Refusal | None:
    """A tenant that is not active starts nothing: 403 `tenant_<status>` (404 when it does not exist)."""
    if status is None:
        return Refusal(status=404, code="tenant_not_found", message="No tenant with this id", field="tenant_id")
    if status != "active":
        return Refusal(
            status=403,
            code=f"tenant_{status}",
            message=f"This tenant is {status}; it cannot start runs",
            field="tenant_id",
        )
    return None


def limit_refusal(plan: dict[Metric, int | None], used: dict[str, int], period: str, counted: bool) -> Refusal | None:
    """429 once a monthly limit is used up. `counted`: `used["runs"]` already includes this start (a
    reservation), so it may reach the limit; otherwise the limit must leave room for one more run."""
    for metric in START_LIMITED:
        limit, value = plan[metric], used.get(metric, 0)
        if limit is None:
            continue
        if value > limit if metric == "runs" and counted else value >= limit:
            return Refusal(
                status=429,
                code="usage_limit_reached",
                message=f"This plan allows {limit} {metric.replace('_', ' ')} a month; the limit resets at the next "
                "period",
                field="metric",
                extra={
                    "metric": metric,
                    "limit": limit,
                    "used": min(value, limit),
                    "resets_at": period_end(period).isoformat(),
                },
            )
    return None


def ai_paused_refusal(ai_paused: bool, uses_ai: bool) -> Refusal | None:
    """No new runs with AI steps while the cost autopilot has AI paused for the tenant."""
    if ai_paused and uses_ai:
        return Refusal(
            status=429,
            code="tenant_throttled",
            message="AI steps are paused for this tenant until the founder lifts the cost throttle",
            field="definition",
            extra={"reason": "ai_paused"},
        )
    return None


def concurrency_refusal(cap: int | None, running: int) -> Refusal | None:
    """No more running runs than the cost autopilot's cap (`running` excludes the run being admitted)."""
    if cap is not None and running >= cap:
        return Refusal(
            status=429,
            code="tenant_throttled",
            message=f"This tenant may run at most {cap} runs at once until the founder lifts the cost throttle",
            field="tenant_id",
            extra={"reason": "max_concurrent_runs", "limit": cap},
        )
    return None


def uses_ai(definition: WorkflowDefinition) -> bool:
    """Whether a run of the definition may call the AI (what the AI pause refuses)."""
    return any(isinstance(step, AiStep) for step in definition.steps)


def stored_uses_ai(body: dict[str, Any]) -> bool:
    """`uses_ai` of a definition version as stored (JSON)."""
    return uses_ai(WorkflowDefinition.model_validate(body))


# Runs whose start is admitted (and counted) by the caller before Temporal sees it: API and webhook starts,
# and re-drives (the API's retry, AutoRecovery). A schedule's run is admitted by the run, as its first step.
CALLER_ADMITTED = frozenset({"api", "webhook", "redrive", "auto_recovery"})


MAINTENANCE_RETRY_AFTER_S = 120
MAINTENANCE_MESSAGE = "Levqor is down for maintenance; new runs can start again shortly"


def system_refusal(toggles: SystemToggles, uses_ai: bool) -> Refusal | None:
    """The founder's system toggles: in maintenance no run starts (503 `maintenance` with the founder's message and
    `retry_after_s`, a Retry-After header on the API), and with AI features off no run with AI steps (503
    `ai_disabled`). Runs already in flight are not admitted again, so they go on."""
    if toggles.maintenance:
        return Refusal(
            status=503,
            code="maintenance",
            message=toggles.maintenance_message or MAINTENANCE_MESSAGE,
            field="system",
            extra={"retry_after_s": MAINTENANCE_RETRY_AFTER_S},
        )
    if uses_ai and not toggles.ai_features:
        return Refusal(
            status=503,
            code="ai_disabled",
            message="AI features are switched off on this platform for now; runs with AI steps cannot start",
            field="definition",
        )
    return None
