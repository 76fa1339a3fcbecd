"""The run timeline picture: bars placed in proportion to time, states in words, open ends at now, text escaped."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.web.timeline import CHART_W, CHART_X0, duration, tick_step, timeline_svg
from schemas.runs import PendingApproval, RunPublic, StepError, StepOutcome

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def step(step_id: str, status: str, start: float | None, end: float | None, **extra: Any) -> StepOutcome:
    return StepOutcome(
        step_id=step_id,
        type=extra.pop("type", "log"),
        status=status,
        attempts=extra.pop("attempts", 1),
        started_at=at(start) if start is not None else None,
        finished_at=at(end) if end is not None else None,
        **extra,
    )


def run_of(*steps: StepOutcome, closed: float | None = None, **extra: Any) -> RunPublic:
    fields: dict[str, Any] = {
        "run_id": "run-1",
        "definition_id": "wf",
        "version": 1,
        "status": "completed" if closed is not None else "running",
        "current_step": None,
        "waiting": None,
        "steps": list(steps),
        "vars": {},
        "error": None,
        "trigger": "api",
        "resumed_from": None,
        "input": {},
        "started_at": T0,
        "closed_at": at(closed) if closed is not None else None,
    }
    return RunPublic(**(fields | extra))


def bars(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {rect.get("data-step", ""): rect for rect in root.iter(f"{SVG}rect")}


def span(rect: ET.Element) -> tuple[float, float]:
    return float(rect.get("x", "0")), float(rect.get("width", "0"))


def test_bars_are_placed_in_proportion_to_time() -> None:
    run = run_of(step("fetch", "succeeded", 0, 2), step("check", "succeeded", 2, 8), closed=10)

    found = bars(timeline_svg(run, now=at(60)))

    fetch_x, fetch_w = span(found["fetch"])
    check_x, check_w = span(found["check"])
    assert fetch_x == pytest.approx(CHART_X0)
    assert fetch_w == pytest.approx(CHART_W * 2 / 10, abs=0.01)
    assert check_x == pytest.approx(CHART_X0 + CHART_W * 2 / 10, abs=0.01)
    assert check_w == pytest.approx(CHART_W * 6 / 10, abs=0.01)


def test_the_svg_is_an_accessible_image_with_a_title_a_description_and_tick_labels() -> None:
    run = run_of(step("fetch", "succeeded", 0, 2), closed=10)

    root = ET.fromstring(timeline_svg(run, now=at(60)))

    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "Step fetch: done, from 0 s for 2 s." in (desc.text or "")
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tl-tick"]
    assert ticks == ["0 s", "2 s", "4 s", "6 s", "8 s", "10 s"]


def test_a_failed_step_is_marked_in_words_and_carries_its_error() -> None:
    failed = step("charge", "failed", 1, 4, attempts=3, error=StepError(type="HttpServerError", message="503"))
    run = run_of(step("fetch", "succeeded", 0, 1), failed, closed=4, status="failed")

    svg = timeline_svg(run, now=at(60))

    assert 'class="tl-bar tl-bar-failed" data-step="charge"' in svg
    assert "✕ failed · 3 s · 3 attempts" in svg
    assert "HttpServerError: 503" in svg


def test_a_running_step_reaches_now_with_an_open_end() -> None:
    run = run_of(step("fetch", "succeeded", 0, 1), step("slow", "running", 1, None))

    svg = timeline_svg(run, now=at(5))

    x, width = span(bars(svg)["slow"])
    assert x + width == pytest.approx(CHART_X0 + CHART_W, abs=0.01)
    assert 'class="tl-open-end tl-bar-running"' in svg
    assert 'class="tl-now"' in svg and "▶ running · 4 s" in svg


def test_a_waiting_gate_starts_at_its_request_and_says_when_it_expires() -> None:
    gate = PendingApproval(
        step_id="gate",
        approval_class="B",
        message="Refund?",
        requested_at=at(2),
        expires_at=at(86400),
        on_timeout="reject",
    )
    run = run_of(step("gate", "waiting", 1, None, type="approval"), waiting=gate, status="waiting_approval")

    svg = timeline_svg(run, now=at(10))

    x, width = span(bars(svg)["gate"])
    assert x == pytest.approx(CHART_X0 + CHART_W * 2 / 10, abs=0.01)
    assert x + width == pytest.approx(CHART_X0 + CHART_W, abs=0.01)
    assert "‖ waiting at gate" in svg and "class B · expires 12/2/26, 12:00\u202fPM UTC" in svg


def test_reused_cancelled_and_queued_steps_are_told_apart() -> None:
    run = run_of(
        step("fetch", "succeeded", -500, -499, reused_from="run-0"),
        step("wait", "cancelled", 0, 3),
        closed=3,
        status="cancelled",
    )
    live = run_of(step("fetch", "running", 0, None))

    closed_svg = timeline_svg(run, now=at(9), planned=["fetch", "wait", "later"])
    live_svg = timeline_svg(live, now=at(2), planned=["fetch", "later"])

    assert "↺ reused" in closed_svg and "from run run-0" in closed_svg and "⊘ cancelled" in closed_svg
    assert "later" not in closed_svg  # a closed run's unstarted steps never ran
    assert 'data-step="later"' in live_svg and "○ queued" in live_svg


def test_tenant_text_in_an_error_message_is_escaped() -> None:
    evil = StepError(type="X", message='<script>alert(1)</script><img src=x onerror="alert(2)">')
    run = run_of(step("fetch", "failed", 0, 1, error=evil), closed=1, status="failed", run_id='r"><svg onload=1>')

    svg = timeline_svg(run, now=at(5))

    assert "<script>" not in svg and "<img" not in svg and "<svg onload" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    ET.fromstring(svg)  # still well-formed


def test_a_run_without_steps_still_draws_an_axis() -> None:
    svg = timeline_svg(run_of(started_at=None), now=at(0))

    assert ET.fromstring(svg).get("role") == "img"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (0.02, "< 0.1 s"),
        (0.5, "0.5 s"),
        (12, "12 s"),
        (90, "1 min 30 s"),
        (3600, "1 h"),
        (90000, "1 d 1 h"),
    ],
)
def test_durations_read_as_people_say_them(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_ticks_stay_few_whatever_the_span() -> None:
    for span_s in (0.3, 4, 59, 600, 7200, 3 * 86400):
        assert span_s / tick_step(span_s) <= 6
