"""The anomaly rules at their thresholds, the summary's counts and percentiles, and which events are the
platform's and which a tenant's own failures (pure functions)."""

from datetime import UTC, datetime, timedelta

from rules.health_score import platform_status
from rules.telemetry import detect_anomalies, percentile, summarise, tenant_caused, tenant_failure_rates
from schemas.telemetry import TENANT_RUNS, TENANT_STEPS, AnomalyRules, TelemetrySample

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def sample(
    kind: str = "event",
    message: str = "ok",
    source: str = "web",
    seconds_ago: float = 10,
    endpoint: str | None = None,
    duration_ms: float | None = None,
    tenant_id: str | None = None,
) -> TelemetrySample:
    return TelemetrySample(
        source=source,
        kind=kind,
        message=message,
        endpoint=endpoint,
        duration_ms=duration_ms,
        at=NOW - timedelta(seconds=seconds_ago),
        tenant_id=tenant_id,
    )


def rules_found(samples: list[TelemetrySample]) -> list[tuple[str, str]]:
    return [(a.rule, a.subject) for a in detect_anomalies(samples, NOW)]


def test_a_message_repeated_twice_is_no_anomaly_and_three_times_is() -> None:
    twice = [sample("error", "db timeout") for _ in range(2)]
    thrice = [sample("error", "db timeout") for _ in range(3)]

    assert rules_found(twice) == []
    found = detect_anomalies(thrice, NOW)
    assert [(a.rule, a.subject, a.count, a.threshold) for a in found] == [("repeated_message", "db timeout", 3, 3)]


def test_repeats_outside_the_window_or_of_other_kinds_do_not_count() -> None:
    old = [sample("error", "db timeout", seconds_ago=901) for _ in range(3)]
    events = [sample("event", "page viewed") for _ in range(5)]

    assert rules_found(old) == []
    assert rules_found(events) == []


def test_an_endpoint_at_2000_ms_is_not_slow_and_above_it_is() -> None:
    at_threshold = [sample("performance", endpoint="GET /a", duration_ms=2000) for _ in range(5)]
    above = [sample("performance", endpoint="GET /b", duration_ms=2001) for _ in range(5)]

    found = detect_anomalies(at_threshold + above, NOW)

    assert [(a.rule, a.subject, a.value) for a in found] == [("slow_endpoint", "GET /b", 2001)]


def test_slowness_is_judged_on_the_p95_so_one_outlier_in_many_is_not_slow() -> None:
    mostly_fast = [sample("performance", endpoint="GET /a", duration_ms=100) for _ in range(99)]
    mostly_fast.append(sample("performance", endpoint="GET /a", duration_ms=9000))

    assert rules_found(mostly_fast) == []


def test_error_rate_of_exactly_ten_percent_is_no_anomaly_and_above_it_is() -> None:
    ten_percent = [sample("error", f"e{i}", source="web") for i in range(2)] + [sample(source="web") for _ in range(18)]
    fifteen = [sample("error", f"e{i}", source="app") for i in range(3)] + [sample(source="app") for _ in range(17)]

    found = detect_anomalies(ten_percent + fifteen, NOW)

    assert [(a.rule, a.source, a.value) for a in found] == [("high_error_rate", "app", 0.15)]


def test_error_rate_needs_a_minimum_number_of_events() -> None:
    few = [sample("error", "a"), sample("error", "b"), *[sample() for _ in range(7)]]

    assert rules_found(few) == []
    assert rules_found([*few, sample()]) == [("high_error_rate", "web")]


def test_thresholds_come_from_the_rules() -> None:
    pair = [sample("error", "x") for _ in range(2)]

    found = detect_anomalies(pair, NOW, AnomalyRules(repeat_min=2))

    assert [a.rule for a in found] == ["repeated_message"]


def test_summary_counts_by_source_with_nearest_rank_percentiles() -> None:
    samples = [sample("performance", source="api", endpoint="GET /x", duration_ms=float(ms)) for ms in range(1, 101)]
    samples += [sample("error", "boom", source="web"), sample("event", "click", source="web")]

    summary = summarise(samples, NOW - timedelta(hours=1), NOW)

    api, web = summary.sources
    assert (api.source, api.total, api.performance, api.latency.p50_ms, api.latency.p95_ms, api.latency.p99_ms) == (
        "api",
        100,
        100,
        50,
        95,
        99,
    )
    assert (web.source, web.errors, web.events, web.error_rate) == ("web", 1, 1, 0.5)
    assert summary.total == 102 and summary.errors == 1
    assert summary.top_errors[0].message == "boom" and summary.top_events[0].message == "click"
    assert summary.slowest_endpoints[0].endpoint == "GET /x"
    assert percentile([], 95) is None


def test_a_tenants_failing_steps_are_no_platform_anomaly_but_its_failure_rate() -> None:
    failing = [
        sample("error", "activity http_request failed: HttpTransportError", TENANT_STEPS, tenant_id="t-1")
        for _ in range(40)
    ]
    answered = [sample("event", "activity http_request answered", TENANT_STEPS, tenant_id="t-1") for _ in range(21)]
    runs = [sample("error", "run failed: HttpTransportError", TENANT_RUNS, tenant_id="t-1") for _ in range(13)]
    other = [sample("event", "activity send_email answered", TENANT_STEPS, tenant_id="t-2") for _ in range(5)]
    samples = failing + answered + runs + other

    assert detect_anomalies(samples, NOW) == []
    (rate,) = tenant_failure_rates(samples)
    assert (rate.tenant_id, rate.attempts, rate.failed_attempts, rate.failure_rate, rate.failed_runs) == (
        "t-1",
        61,
        40,
        0.6557,
        13,
    )
    assert rate.top_error == "activity http_request failed: HttpTransportError"


def test_the_platforms_own_errors_next_to_a_tenants_still_make_an_anomaly() -> None:
    tenant = [
        sample("error", "activity http_request failed: HttpServerError", TENANT_STEPS, tenant_id="t") for _ in range(30)
    ]
    # The worker's error inside a tenant's run is still the platform's: it carries the tenant, not its source.
    worker = [
        sample("error", f"activity record_failure failed: OperationalError {i}", "worker", tenant_id="t")
        for i in range(10)
    ]

    found = detect_anomalies(tenant + worker, NOW)

    assert [(a.rule, a.source, a.severity) for a in found] == [("high_error_rate", "worker", "critical")]


def test_telemetry_a_tenant_ingests_about_its_own_software_is_not_the_platforms() -> None:
    theirs = [sample("error", f"e{i}", source="shop-frontend", tenant_id="t") for i in range(12)]
    founders = [sample("error", f"e{i}", source="status-page") for i in range(12)]

    assert {a.source for a in detect_anomalies(theirs + founders, NOW)} == {"status-page"}


def test_which_error_types_are_the_tenants() -> None:
    assert all(tenant_caused(t) for t in ("HttpClientError", "HttpTransportError", "SmtpRejected", "ExpressionError"))
    assert not any(tenant_caused(t) for t in ("OperationalError", "RuntimeError", "AiNotConfigured", "Timeout", None))


def test_a_critical_platform_anomaly_degrades_an_ok_heartbeat_and_nothing_improves_one() -> None:
    (critical,) = detect_anomalies([sample("error", f"e{i}", source="api") for i in range(10)], NOW)
    (warning,) = detect_anomalies(
        [sample("error", "e", source="api") for _ in range(3)] + [sample(source="api") for _ in range(90)], NOW
    )

    assert critical.severity == "critical" and warning.severity == "warning"
    assert platform_status("ok", [critical]) == "degraded"
    assert platform_status(None, [critical]) == "degraded"
    assert platform_status("down", [critical]) == "down"
    assert platform_status("ok", [warning]) == "ok"
    assert platform_status(None, []) is None


def test_the_summarys_totals_are_the_platforms_and_every_source_is_listed() -> None:
    samples = [sample("event", "ok", source="api") for _ in range(9)] + [sample("error", "boom", source="api")]
    samples += [sample("error", "refused", TENANT_STEPS, tenant_id="t") for _ in range(30)]

    summary = summarise(samples, NOW - timedelta(hours=1), NOW)

    assert (summary.total, summary.errors, summary.error_rate) == (10, 1, 0.1)
    assert [m.message for m in summary.top_errors] == ["boom"]
    theirs = next(s for s in summary.sources if s.source == TENANT_STEPS)
    assert (theirs.total, theirs.errors) == (30, 30)
