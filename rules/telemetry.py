"""Telemetry analysis: latency percentiles, per-source summaries and the anomaly rules; which events are the
platform's own and which a tenant's runs caused, and each tenant's failure rate; and when an ingested event
happened. Pure: callers pass the samples and `now` (storage is core/telemetry.py)."""

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from schemas.telemetry import (
    PLATFORM_SOURCES,
    TENANT_RUNS,
    TENANT_SOURCES,
    TENANT_STEPS,
    Anomaly,
    AnomalyRule,
    AnomalyRules,
    EndpointLatency,
    Latency,
    MessageCount,
    SourceSummary,
    TelemetryKind,
    TelemetrySample,
    TelemetrySummary,
    TenantFailureRate,
)

# An ingested event's own time is trusted only this close to its receipt.
CLOCK_SKEW = timedelta(days=1)
# The errors a run's step meets because of what its tenant asked for: its targets (their HTTP answers, refused
# or timed-out connections, unknown hosts, private addresses and redirects we refuse), its secrets' names, its
# mail server and recipients, what the AI provider refused of its prompt. Any other error of a step (our own
# code raising, the database, an AI provider we did not configure or that is down) is the platform's.
TENANT_STEP_ERRORS = frozenset(
    {
        "HttpClientError",
        "HttpRetryableClientError",
        "HttpServerError",
        "HttpTimeout",
        "HttpTransportError",
        "HttpAnswerBudgetExceeded",
        "HttpInvalidRequest",
        "HttpRedirectRefused",
        "SecretNotFound",
        "EmailInvalidRecipient",
        "SmtpRejected",
        "SmtpTransientError",
        "AiRequestRejected",
    }
)
# A failed run's error types that are the tenant's too: its expressions, and gates nobody decided in time.
TENANT_FAILURE_TYPES = TENANT_STEP_ERRORS | {"ExpressionError", "ExpressionTooExpensive", "ApprovalExpired"}
MAX_TENANT_RATES = 20


def tenant_caused(error_type: str | None) -> bool:
    """Whether a step or run that failed with `error_type` failed because of its tenant, not the platform."""
    return error_type in TENANT_FAILURE_TYPES


def platform_event(source: str, tenant_id: str | None) -> bool:
    """The platform's own events: the API's and the workers' (whichever tenant they served) and what the founder
    ingested; not a tenant's step failures, nor the telemetry a tenant ingests about its own software."""
    return source in PLATFORM_SOURCES or (tenant_id is None and source not in TENANT_SOURCES)


def is_platform(sample: TelemetrySample) -> bool:
    return platform_event(sample.source, sample.tenant_id)


def platform_samples(samples: Iterable[TelemetrySample]) -> list[TelemetrySample]:
    return [s for s in samples if is_platform(s)]


def tenant_failure_rates(samples: Iterable[TelemetrySample], limit: int = MAX_TENANT_RATES) -> list[TenantFailureRate]:
    """Each tenant that failed in the samples: its failed step attempts among all, and its failed runs; the
    highest rates first (then the most failures), at most `limit`."""
    attempts: dict[str, list[TelemetrySample]] = defaultdict(list)
    runs: Counter[str] = Counter()
    for sample in samples:
        if sample.tenant_id is None:
            continue
        if sample.source == TENANT_STEPS:
            attempts[sample.tenant_id].append(sample)
        elif sample.source == TENANT_RUNS and sample.kind == "error":
            runs[sample.tenant_id] += 1
    found = []
    for tenant_id in set(attempts) | set(runs):
        group = attempts.get(tenant_id, [])
        failed = [s for s in group if s.kind == "error"]
        if not failed and not runs[tenant_id]:
            continue
        top = Counter(s.message for s in failed).most_common(1)
        found.append(
            TenantFailureRate(
                tenant_id=tenant_id,
                attempts=len(group),
                failed_attempts=len(failed),
                failure_rate=_rate(len(failed), len(group)),
                failed_runs=runs[tenant_id],
                top_error=top[0][0] if top else None,
                last_failed_at=max((s.at for s in failed), default=None),
            )
        )
    return sorted(found, key=lambda t: (-t.failure_rate, -t.failed_attempts, -t.failed_runs, t.tenant_id))[:limit]


def event_time(at: datetime | None, received_at: datetime) -> datetime:
    """When an ingested event happened: its own aware `at` unless that is over CLOCK_SKEW from its receipt."""
    if at is None or at.tzinfo is None or abs(at - received_at) > CLOCK_SKEW:
        return received_at
    return at


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of `values`, None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def latency(samples: Iterable[TelemetrySample]) -> Latency:
    durations = [s.duration_ms for s in samples if s.duration_ms is not None]
    return Latency(
        samples=len(durations),
        p50_ms=percentile(durations, 50),
        p95_ms=percentile(durations, 95),
        p99_ms=percentile(durations, 99),
    )


def top_messages(samples: Iterable[TelemetrySample], kind: TelemetryKind, limit: int = 5) -> list[MessageCount]:
    counts = Counter((s.source, s.message) for s in samples if s.kind == kind)
    return [MessageCount(source=src, message=msg, count=n) for (src, msg), n in counts.most_common(limit)]


def summarise(samples: Sequence[TelemetrySample], since: datetime, until: datetime) -> TelemetrySummary:
    """Every source's figures (the tenants' own among them), with the totals, latency, slowest endpoints and top
    messages of the platform's own events only: a tenant's failing steps never raise the platform's error rate."""
    platform = platform_samples(samples)
    by_source: dict[str, list[TelemetrySample]] = defaultdict(list)
    by_endpoint: dict[str, list[TelemetrySample]] = defaultdict(list)
    for sample in samples:
        by_source[sample.source].append(sample)
    for sample in platform:
        if sample.endpoint and sample.duration_ms is not None:
            by_endpoint[sample.endpoint].append(sample)
    endpoints = [EndpointLatency(endpoint=e, latency=latency(group)) for e, group in by_endpoint.items()]
    errors = sum(s.kind == "error" for s in platform)
    return TelemetrySummary(
        since=since,
        until=until,
        total=len(platform),
        errors=errors,
        error_rate=_rate(errors, len(platform)),
        latency=latency(platform),
        sources=[_source_summary(name, group) for name, group in sorted(by_source.items())],
        slowest_endpoints=sorted(endpoints, key=lambda e: e.latency.p95_ms or 0, reverse=True)[:10],
        top_errors=top_messages(platform, "error"),
        top_events=top_messages(platform, "event"),
    )


def detect_anomalies(
    samples: Sequence[TelemetrySample], now: datetime, rules: AnomalyRules | None = None
) -> list[Anomaly]:
    """Every rule over the platform's own samples of the last `rules.window_s` before `now`; critical ones
    first. A tenant's failing steps are no platform anomaly: they are `tenant_failure_rates`."""
    rules = rules or AnomalyRules()
    since = now - timedelta(seconds=rules.window_s)
    recent = [s for s in samples if since <= s.at <= now and is_platform(s)]
    found = [*_repeated(recent, rules), *_slow(recent, rules), *_error_rates(recent, rules)]
    return sorted(found, key=lambda a: (a.severity != "critical", a.rule, -a.value))


def _repeated(samples: list[TelemetrySample], rules: AnomalyRules) -> list[Anomaly]:
    groups: dict[tuple[str, str], list[TelemetrySample]] = defaultdict(list)
    for sample in samples:
        if sample.kind == "error":
            groups[(sample.source, sample.message)].append(sample)
    return [
        _anomaly(
            "repeated_message",
            source,
            message,
            len(group),
            rules.repeat_min,
            group,
            critical=len(group) >= 10 * rules.repeat_min,
        )
        for (source, message), group in groups.items()
        if len(group) >= rules.repeat_min
    ]


def _slow(samples: list[TelemetrySample], rules: AnomalyRules) -> list[Anomaly]:
    groups: dict[tuple[str, str], list[TelemetrySample]] = defaultdict(list)
    for sample in samples:
        if sample.endpoint and sample.duration_ms is not None:
            groups[(sample.source, sample.endpoint)].append(sample)
    found = []
    for (source, endpoint), group in groups.items():
        p95 = percentile([s.duration_ms for s in group if s.duration_ms is not None], 95) or 0.0
        if p95 > rules.slow_ms:
            found.append(
                _anomaly("slow_endpoint", source, endpoint, p95, rules.slow_ms, group, critical=p95 > 5 * rules.slow_ms)
            )
    return found


def _error_rates(samples: list[TelemetrySample], rules: AnomalyRules) -> list[Anomaly]:
    groups: dict[str, list[TelemetrySample]] = defaultdict(list)
    for sample in samples:
        groups[sample.source].append(sample)
    found = []
    for source, group in groups.items():
        errors = [s for s in group if s.kind == "error"]
        rate = _rate(len(errors), len(group))
        if len(group) >= rules.min_events and rate > rules.max_error_rate:
            found.append(
                _anomaly(
                    "high_error_rate",
                    source,
                    source,
                    rate,
                    rules.max_error_rate,
                    errors,
                    critical=rate > 2.5 * rules.max_error_rate,
                )
            )
    return found


def _anomaly(
    rule: AnomalyRule,
    source: str,
    subject: str,
    value: float,
    threshold: float,
    group: list[TelemetrySample],
    critical: bool,
) -> Anomaly:
    return Anomaly(
        rule=rule,
        severity="critical" if critical else "warning",
        source=source,
        subject=subject,
        value=round(value, 4),
        threshold=threshold,
        count=len(group),
        first_at=min(s.at for s in group),
        last_at=max(s.at for s in group),
    )


def _source_summary(source: str, group: list[TelemetrySample]) -> SourceSummary:
    kinds = Counter(s.kind for s in group)
    return SourceSummary(
        source=source,
        total=len(group),
        errors=kinds["error"],
        events=kinds["event"],
        performance=kinds["performance"],
        error_rate=_rate(kinds["error"], len(group)),
        latency=latency(group),
    )


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0
