"""What crosses the boundary of the `DailyReport` workflow, and the scoring it applies: a pure function
from the day's figures to a 0-100 health score, its components and improvement suggestions."""

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.telemetry_analysis import Anomaly, AnomalyRules, MessageCount, TelemetrySummary

AVAILABILITY_POINTS, ERROR_POINTS, ANOMALY_POINTS, FAILURE_POINTS = 40, 30, 20, 10
# Error rates at or above this cost every error point.
ERROR_RATE_FLOOR = 0.20


class DailyReportInput(BaseModel):
    window_hours: int = Field(default=24, ge=1, le=24 * 7)
    telemetry_retention_days: int = Field(default=30, ge=1)
    rules: AnomalyRules = Field(default_factory=lambda: AnomalyRules(window_s=24 * 3600))


class ReportWindow(BaseModel):
    until: datetime
    window_hours: int
    rules: AnomalyRules


class ReportInputs(BaseModel):
    """The day's figures as the activity reads them from the database."""

    heartbeats: int
    heartbeats_ok: int
    failed_checks: dict[str, int]
    telemetry: TelemetrySummary
    anomalies: list[Anomaly]
    open_failures: int


class ScoreComponent(BaseModel):
    name: str
    score: int
    max: int
    detail: str


class DailyReportBody(BaseModel):
    day: str
    generated_at: datetime
    window_hours: int
    score: int = Field(ge=0, le=100)
    components: list[ScoreComponent]
    top_errors: list[MessageCount]
    top_events: list[MessageCount]
    anomalies: list[Anomaly]
    suggestions: list[str]


class Retention(BaseModel):
    until: datetime
    days: int


class Pruned(BaseModel):
    deleted: int


class DailyReportResult(BaseModel):
    report_id: str
    score: int
    pruned: int


def build_report(inputs: ReportInputs, now: datetime, window_hours: int) -> DailyReportBody:
    components = [_availability(inputs), _errors(inputs.telemetry), _anomalies(inputs.anomalies),
                  _failures(inputs.open_failures)]
    return DailyReportBody(
        day=now.date().isoformat(), generated_at=now, window_hours=window_hours,
        score=sum(c.score for c in components), components=components,
        top_errors=inputs.telemetry.top_errors, top_events=inputs.telemetry.top_events,
        anomalies=inputs.anomalies, suggestions=suggestions(inputs),
    )


def suggestions(inputs: ReportInputs) -> list[str]:
    """What to improve next, most pressing first; passive advice only, nothing is changed."""
    advice: list[str] = []
    if inputs.heartbeats == 0:
        advice.append("No heartbeat was recorded: check that a worker runs the platform-heartbeat schedule.")
    for check, failures in sorted(inputs.failed_checks.items(), key=lambda kv: -kv[1]):
        advice.append(f"The {check} check failed in {failures} of {inputs.heartbeats} heartbeats: "
                      f"{CHECK_ADVICE.get(check, 'look at its health records')}.")
    for anomaly in inputs.anomalies:
        advice.append(_anomaly_advice(anomaly))
    if inputs.open_failures:
        advice.append(f"{inputs.open_failures} failed runs wait in the failure queue: review "
                      "GET /api/guardian/healing-plan and re-drive or fix them.")
    return advice[:20] or ["Nothing to improve today: every check passed and no anomaly was found."]


CHECK_ADVICE = {
    "database": "check the database server, its connections and disk",
    "temporal": "check the Temporal service and that workers poll the task queue",
    "stripe": "verify STRIPE_API_KEY and Stripe's status page",
    "ai": "verify OPENAI_API_KEY, the quota and the provider's status page",
}


def _anomaly_advice(anomaly: Anomaly) -> str:
    if anomaly.rule == "repeated_message":
        return f"'{anomaly.subject}' ({anomaly.source}) repeated {anomaly.count} times: fix its root cause."
    if anomaly.rule == "slow_endpoint":
        return (f"{anomaly.subject} ({anomaly.source}) has a p95 of {anomaly.value:.0f} ms, over "
                f"{anomaly.threshold:.0f} ms: profile it, add an index or a cache.")
    return (f"{anomaly.source} reports {anomaly.value:.0%} errors (over {anomaly.threshold:.0%}): "
            "look at its top errors first.")


def _availability(inputs: ReportInputs) -> ScoreComponent:
    share = inputs.heartbeats_ok / inputs.heartbeats if inputs.heartbeats else 0.0
    return ScoreComponent(name="availability", score=round(AVAILABILITY_POINTS * share), max=AVAILABILITY_POINTS,
                          detail=f"{inputs.heartbeats_ok} of {inputs.heartbeats} heartbeats ok")


def _errors(telemetry: TelemetrySummary) -> ScoreComponent:
    lost = min(1.0, telemetry.error_rate / ERROR_RATE_FLOOR)
    return ScoreComponent(name="errors", score=round(ERROR_POINTS * (1 - lost)), max=ERROR_POINTS,
                          detail=f"{telemetry.errors} errors in {telemetry.total} events ({telemetry.error_rate:.1%})")


def _anomalies(anomalies: list[Anomaly]) -> ScoreComponent:
    cost = sum(10 if a.severity == "critical" else 5 for a in anomalies)
    return ScoreComponent(name="anomalies", score=max(0, ANOMALY_POINTS - cost), max=ANOMALY_POINTS,
                          detail=f"{len(anomalies)} anomalies")


def _failures(open_failures: int) -> ScoreComponent:
    return ScoreComponent(name="failure_queue", score=max(0, FAILURE_POINTS - open_failures), max=FAILURE_POINTS,
                          detail=f"{open_failures} open failures")
