"""The toggles' picture: the stretches each toggle was on, walked back from its value now through its changes."""

from datetime import UTC, datetime, timedelta
from typing import Any

from api.web.toggles_chart import LANES, WINDOW, on_spans, toggles_svg
from schemas.toggles import SystemToggles, ToggleChange, ToggleName

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
START = NOW - WINDOW


def change(name: ToggleName, old: Any, new: Any, days_ago: float) -> ToggleChange:
    return ToggleChange(
        name=name, old=old, new=new, changed_by="founder", at=NOW - timedelta(days=days_ago), reason="r"
    )


def test_a_toggle_never_changed_is_on_or_off_for_the_whole_window() -> None:
    assert on_spans("ai_features", True, [], START, NOW) == [(START, NOW)]
    assert on_spans("maintenance", False, [], START, NOW) == []


def test_a_maintenance_window_is_the_stretch_between_its_changes() -> None:
    history = [change("maintenance", True, False, 1), change("maintenance", False, True, 2)]  # newest first

    assert on_spans("maintenance", False, history, START, NOW) == [(NOW - timedelta(days=2), NOW - timedelta(days=1))]


def test_changes_before_the_window_and_of_other_toggles_do_not_count() -> None:
    history = [change("ai_features", True, False, 3), change("new_signups", False, True, 20)]

    assert on_spans("new_signups", True, history, START, NOW) == [(START, NOW)]
    assert on_spans("launch_stage", "post-launch", [], START, NOW) == [(START, NOW)]
    assert on_spans("launch_stage", "pre-launch", [], START, NOW) == []


def test_the_picture_draws_one_lane_per_toggle_with_its_label_escaped() -> None:
    labels = {name: f"<{name}>" for name in LANES}
    history = [change("maintenance", False, True, 1)]

    svg = toggles_svg(SystemToggles(maintenance=True).model_dump(), history, NOW, labels, ("Nov 18", "Now"))

    assert svg.count('class="tg-lane"') == len(LANES)
    assert "&lt;maintenance&gt;" in svg and "<maintenance>" not in svg
    assert svg.count('class="tg-change"') == 1 and 'class="tg-on tg-on-maintenance"' in svg
