"""Who may start a run, decided from facts already read: the tenant's status, its usage this period against
its plan, and the cost autopilot's throttle. Every way in (API, webhook, schedule, re-drive, AutoRecovery)
asks these same questions; the API answers a refusal as an error, a scheduled run ends `refused`."""

from typing import Any

from language.steps import AiStep, WorkflowDefinition
from rules.usage import START_LIMITED, period_end
from schemas.i18n import Text, tr
from schemas.runs import Refusal
from schemas.tenants import STATUS_NAMES
from schemas.toggles import SystemToggles
from schemas.usage import Metric


def tenant_refusal(status: str | None) -> Refusal | None:
    """A tenant that is not active starts nothing: 403 `tenant_<status>` (404 when it does not exist)."""
    if status is None:
        return _refusal(404, "tenant_not_found", tr("No tenant with this id"), field="tenant_id")
    if status != "active":
        message = tr("This tenant is %(state)s; it cannot start runs", state=STATUS_NAMES.get(status, status))
        return _refusal(403, f"tenant_{status}", message, field="tenant_id")
    return None


def limit_refusal(plan: dict[Metric, int | None], used: dict[str, int], period: str, counted: bool) -> Refusal | None:
    """429 once a monthly limit is used up. `counted`: `used["runs"]` already includes this start (a
    reservation), so it may reach the limit; otherwise the limit must leave room for one more run."""
    for metric in START_LIMITED:
        limit, value = plan[metric], used.get(metric, 0)
        if limit is None:
            continue
        if value > limit if metric == "runs" and counted else value >= limit:
            message = tr(
                "This plan allows %(limit)s %(metric)s a month; the limit resets at the next period",
                limit=limit,
                metric=metric.replace("_", " "),
            )
            return _refusal(
                429,
                "usage_limit_reached",
                message,
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
        return _refusal(
            429,
            "tenant_throttled",
            tr("AI steps are paused for this tenant until the founder lifts the cost throttle"),
            field="definition",
            extra={"reason": "ai_paused"},
        )
    return None


def concurrency_refusal(cap: int | None, running: int) -> Refusal | None:
    """No more running runs than the cost autopilot's cap (`running` excludes the run being admitted)."""
    if cap is not None and running >= cap:
        return _refusal(
            429,
            "tenant_throttled",
            tr(
                "This tenant may run at most %(limit)s runs at once until the founder lifts the cost throttle",
                limit=cap,
            ),
            field="tenant_id",
            extra={"reason": "max_concurrent_runs", "limit": cap},
        )
    return None


def _refusal(status: int, code: str, text: Text, field: str, extra: dict[str, Any] | None = None) -> Refusal:
    """A refusal whose message the API answers in the reader's language (a run's record keeps the English)."""
    return Refusal(status=status, code=code, message=str(text), field=field, extra=extra or {}, text=text)


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


def system_refusal(toggles: SystemToggles, uses_ai: bool) -> Refusal | None:
    """The founder's system toggles: in maintenance no run starts (503 `maintenance` with the founder's message and
    `retry_after_s`, a Retry-After header on the API), and with AI features off no run with AI steps (503
    `ai_disabled`). Runs already in flight are not admitted again, so they go on."""
    if toggles.maintenance:
        extra = {"retry_after_s": MAINTENANCE_RETRY_AFTER_S}
        if toggles.maintenance_message:  # the founder's own words, shown as written
            return Refusal(status=503, code="maintenance", message=toggles.maintenance_message, field="system",
                           extra=extra)  # fmt: skip
        return _refusal(503, "maintenance", tr("Levqor is down for maintenance; new runs can start again shortly"),
                        field="system", extra=extra)  # fmt: skip
    if uses_ai and not toggles.ai_features:
        message = tr("AI features are switched off on this platform for now; runs with AI steps cannot start")
        return _refusal(503, "ai_disabled", message, field="definition")
    return None
