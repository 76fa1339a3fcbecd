"""The health score trend: the daily reports' 0-100 score over the last days, as an accessible inline SVG string.

Pure (no I/O). One point per day on a fixed 0-100 scale with grid lines at 0, 50 and 100; consecutive days with a
report are joined by a line, a day without one leaves a gap (no line is drawn across it), and a lone day between gaps
still shows as its dot. Every score is in the picture's description and in the table the page puts beside it, so
nothing is told by the line alone. Texts are in the reader's language."""

from html import escape

from core.i18n import render as render_text
from core.i18n import when
from schemas.i18n import tr
from schemas.panel import HealthTrend, ScorePoint

WIDTH = 640
HEIGHT = 220
LEFT = 52
RIGHT = 12
TOP = 22
BOTTOM = 30
GRID = (0, 50, 100)


def _x(index: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span * index / (count - 1) if count > 1 else span / 2)


def _y(score: int) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (100 - score) / 100


def runs_of_days(points: list[ScorePoint]) -> list[list[tuple[int, int]]]:
    """The (index, score) runs of consecutive days with a score; a day without one ends a run."""
    found: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    for index, point in enumerate(points):
        if point.score is None:
            if current:
                found.append(current)
            current = []
        else:
            current.append((index, point.score))
    if current:
        found.append(current)
    return found


def health_svg(trend: HealthTrend, locale: str, chart_id: str = "health") -> str:
    """The trend as an inline SVG with a title, a description of every day, grid lines and date labels."""
    points = trend.points
    base = escape(chart_id)
    parts = [
        f'<svg class="health-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-labelledby="{base}-title {base}-desc" focusable="false">',
        f'<title id="{base}-title">{escape(title(trend, locale))}</title>',
        f'<desc id="{base}-desc">{escape(describe(trend, locale))}</desc>',
    ]
    for score in GRID:
        y = _y(score)
        parts.append(f'<line class="hc-grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" />')
        parts.append(f'<text class="hc-axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{score}</text>')
    count = len(points)
    for index in sorted({0, count // 2, count - 1}) if count else ():
        label = escape(when(points[index].day, locale, "short"))
        anchor = "start" if index == 0 and count > 1 else "end" if index == count - 1 and count > 1 else "middle"
        x = _x(index, count)
        parts.append(f'<text class="hc-axis" x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">{label}</text>')
    for run in runs_of_days(points):
        if len(run) > 1:
            coords = " ".join(f"{_x(i, count):.1f},{_y(s):.1f}" for i, s in run)
            parts.append(f'<polyline class="hc-line" points="{coords}" />')
        parts.extend(f'<circle class="hc-dot" cx="{_x(i, count):.1f}" cy="{_y(s):.1f}" r="3.5" />' for i, s in run)
    parts.append("</svg>")
    return "\n".join(parts)


def title(trend: HealthTrend, locale: str) -> str:
    return render_text(tr("Health score over the last %(days)s days", days=len(trend.points)), locale)


def describe(trend: HealthTrend, locale: str) -> str:
    """Every day's score (or that it had no report) in words, for screen readers."""
    said = []
    for point in trend.points:
        day = when(point.day, locale, "medium")
        if point.score is None:
            said.append(render_text(tr("%(day)s: no report", day=day), locale))
        else:
            said.append(render_text(tr("%(day)s: %(score)s of 100", day=day, score=point.score), locale))
    return "; ".join(said)
