"""The system toggles' last two weeks as a picture, drawn on the server as SVG: one lane per switch, filled where it
was on (post-launch for the launch stage), with a mark at each change. The history table beside it says the same in
words. Walked back from each toggle's value now through its listed changes, so a toggle changed more often than the
history lists shows its older part as the oldest listed change left it."""

from datetime import datetime, timedelta
from html import escape
from typing import Any

from schemas.toggles import ToggleChange

WINDOW = timedelta(days=14)
LANES = ("maintenance", "launch_stage", "new_signups", "ai_features", "auto_recovery_apply")
WIDTH, LABEL_WIDTH, LANE_HEIGHT, LANE_GAP, AXIS_HEIGHT = 640, 200, 16, 12, 22
Span = tuple[datetime, datetime]


def is_on(name: str, value: Any) -> bool:
    return value == "post-launch" if name == "launch_stage" else value is True


def on_spans(name: str, value_now: Any, history: list[ToggleChange], start: datetime, now: datetime) -> list[Span]:
    """The stretches of [start, now] in which the toggle was on; `history` newest first."""
    spans: list[Span] = []
    end, on = now, is_on(name, value_now)
    for change in (c for c in history if c.name == name and start < c.at <= now):
        if on:
            spans.append((change.at, end))
        end, on = change.at, is_on(name, change.old)
    if on:
        spans.append((start, end))
    return spans


def toggles_svg(
    values: dict[str, Any], history: list[ToggleChange], now: datetime, labels: dict[str, str], axis: tuple[str, str]
) -> str:
    """The lanes of LANES over the last WINDOW; `labels` name them, `axis` is the window's start and end as words."""
    start = now - WINDOW
    room = WIDTH - LABEL_WIDTH - 8

    def x(at: datetime) -> float:
        return LABEL_WIDTH + (at - start) / WINDOW * room

    rows = []
    for i, name in enumerate(LANES):
        top = i * (LANE_HEIGHT + LANE_GAP)
        rows.append(
            f'<text class="tg-label" x="{LABEL_WIDTH - 8}" y="{top + 12}" text-anchor="end">{escape(labels[name])}</text>'
            f'<rect class="tg-lane" x="{LABEL_WIDTH}" y="{top}" width="{room}" height="{LANE_HEIGHT}" rx="3"/>'
        )
        for begin, end in on_spans(name, values[name], history, start, now):
            width = max(x(end) - x(begin), 1.5)
            rows.append(
                f'<rect class="tg-on tg-on-{name}" x="{x(begin):.1f}" y="{top}" width="{width:.1f}" '
                f'height="{LANE_HEIGHT}" rx="3"/>'
            )
        rows.extend(
            f'<line class="tg-change" x1="{x(c.at):.1f}" x2="{x(c.at):.1f}" y1="{top - 3}" y2="{top + LANE_HEIGHT + 3}"/>'
            for c in history
            if c.name == name and start < c.at <= now
        )
    height = len(LANES) * (LANE_HEIGHT + LANE_GAP) + AXIS_HEIGHT
    axis_y = height - 6
    return (
        f'<svg class="toggles-chart" viewBox="0 0 {WIDTH} {height}" aria-hidden="true" focusable="false">'
        f"{''.join(rows)}"
        f'<text class="tg-axis" x="{LABEL_WIDTH}" y="{axis_y}">{escape(axis[0])}</text>'
        f'<text class="tg-axis" x="{WIDTH - 8}" y="{axis_y}" text-anchor="end">{escape(axis[1])}</text></svg>'
    )
