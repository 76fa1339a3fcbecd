"""How healthy the platform is: the Heartbeat workflow's and the heartbeat endpoint's overall status, the
guardian's (degraded by a critical platform anomaly), and the daily report's 0-100 score, its components and
improvement suggestions. Everything here counts the platform's own faults only: the report's telemetry,
anomalies and failures arrive without the tenants' step failures, which it lists apart."""

from datetime import datetime

from schemas.daily_report import DailyReportBody, ReportInputs, ScoreComponent
from schemas.health import CheckResult, HealthStatus
from schemas.telemetry import Anomaly, TelemetrySummary

AVAILABILITY_POINTS, ERROR_POINTS, ANOMALY_POINTS, FAILURE_POINTS = 40, 30, 20, 10
# Error rates at or above this cost every error point.
ERROR_RATE_FLOOR = 0.20


def build_report(inputs: ReportInputs, now: datetime, window_hours: int) -> DailyReportBody:
    components = [
        _availability(inputs),
        _errors(inputs.telemetry),
        _anomalies(inputs.anomalies),
        _failures(inputs.open_failures),
    ]
    return DailyReportBody(
        day=now.date().isoformat(),
        generated_at=now,
        window_hours=window_hours,
        score=sum(c.score for c in components),
        components=components,
        top_errors=inputs.telemetry.top_errors,
        top_events=inputs.telemetry.top_events,
        anomalies=inputs.anomalies,
        suggestions=suggestions(inputs),
        tenant_failures=inputs.tenant_failures,
    )


def suggestions(inputs: ReportInputs) -> list[str]:
    """What to improve next, most pressing first; passive advice only, nothing is changed."""
    advice: list[str] = []
    if inputs.heartbeats == 0:
        advice.append("No heartbeat was recorded: check that a worker runs the platform-heartbeat schedule.")
    for check, failures in sorted(inputs.failed_checks.items(), key=lambda kv: -kv[1]):
        advice.append(
            f"The {check} check failed in {failures} of {inputs.heartbeats} heartbeats: "
            f"{CHECK_ADVICE.get(check, 'look at its health records')}."
        )
    for anomaly in inputs.anomalies:
        advice.append(_anomaly_advice(anomaly))
    if inputs.open_failures:
        advice.append(
            f"{inputs.open_failures} runs failed for platform reasons and wait in the failure queue: review "
            "GET /api/guardian/healing-plan and re-drive or fix them."
        )
    if inputs.tenant_failures:
        worst = inputs.tenant_failures[0]
        advice.append(
            f"{len(inputs.tenant_failures)} tenants' runs failed on their own targets (highest: tenant "
            f"{worst.tenant_id}, {worst.failure_rate:.0%} of {worst.attempts} step attempts): not a platform "
            "fault, but worth telling them."
        )
    return advice[:20] or ["Nothing to improve today: every check passed and no anomaly was found."]


CHECK_ADVICE = {
    "database": "check the database server, its connections and disk",
    "temporal": "check the Temporal service and that workers poll the task queue",
    "stripe": "verify STRIPE_API_KEY and Stripe's status page",
    "ai": "verify OPENAI_API_KEY, the quota and the provider's status page",
    "backup": "run `levqor backup list`, read the latest manifest's error and the worker's logs",
}


def _anomaly_advice(anomaly: Anomaly) -> str:
    if anomaly.rule == "repeated_message":
        return f"'{anomaly.subject}' ({anomaly.source}) repeated {anomaly.count} times: fix its root cause."
    if anomaly.rule == "slow_endpoint":
        return (
            f"{anomaly.subject} ({anomaly.source}) has a p95 of {anomaly.value:.0f} ms, over "
            f"{anomaly.threshold:.0f} ms: profile it, add an index or a cache."
        )
    return (
        f"{anomaly.source} reports {anomaly.value:.0%} errors (over {anomaly.threshold:.0%}): "
        "look at its top errors first."
    )


def _availability(inputs: ReportInputs) -> ScoreComponent:
    share = inputs.heartbeats_ok / inputs.heartbeats if inputs.heartbeats else 0.0
    return ScoreComponent(
        name="availability",
        score=round(AVAILABILITY_POINTS * share),
        max=AVAILABILITY_POINTS,
        detail=f"{inputs.heartbeats_ok} of {inputs.heartbeats} heartbeats ok",
    )


def _errors(telemetry: TelemetrySummary) -> ScoreComponent:
    lost = min(1.0, telemetry.error_rate / ERROR_RATE_FLOOR)
    return ScoreComponent(
        name="errors",
        score=round(ERROR_POINTS * (1 - lost)),
        max=ERROR_POINTS,
        detail=f"{telemetry.errors} errors in {telemetry.total} events ({telemetry.error_rate:.1%})",
    )


def _anomalies(anomalies: list[Anomaly]) -> ScoreComponent:
    cost = sum(10 if a.severity == "critical" else 5 for a in anomalies)
    return ScoreComponent(
        name="anomalies", score=max(0, ANOMALY_POINTS - cost), max=ANOMALY_POINTS, detail=f"{len(anomalies)} anomalies"
    )


def _failures(open_failures: int) -> ScoreComponent:
    return ScoreComponent(
        name="failure_queue",
        score=max(0, FAILURE_POINTS - open_failures),
        max=FAILURE_POINTS,
        detail=f"{open_failures} open failures",
    )


def platform_status(heartbeat: HealthStatus | None, anomalies: list[Anomaly]) -> HealthStatus | None:
    """The latest heartbeat's status, made degraded (never better) by a critical platform anomaly; None
    before the first heartbeat unless an anomaly already says degraded."""
    if not any(a.severity == "critical" for a in anomalies):
        return heartbeat
    return "down" if heartbeat == "down" else "degraded"


def live_status(
    db_ok: bool, temporal_ok: bool, record_stale: bool, warming_up: bool, stripe: str, ai: str
) -> HealthStatus:
    """The heartbeat endpoint's status: down when the database or Temporal does not answer now; degraded when
    the latest Heartbeat record is stale (except while `warming_up`: right after a (re)start the schedule has
    not had the chance to write a fresh record yet) or found Stripe or the AI provider failed."""
    if not (db_ok and temporal_ok):
        return "down"
    if (record_stale and not warming_up) or "failed" in (stripe, ai):
        return "degraded"
    return "ok"


def overall_status(checks: list[CheckResult]) -> HealthStatus:
    """down when the database or Temporal failed; degraded when a configured outside service failed."""
    failed = {check.name for check in checks if check.status == "failed"}
    if failed & {"database", "temporal"}:
        return "down"
    return "degraded" if failed else "ok"
