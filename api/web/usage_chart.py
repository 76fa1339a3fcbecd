"""The usage picture: this month's runs, steps and AI credits against the plan, as an accessible inline SVG string.

Pure (no I/O). One row per metric, each on its own scale so that the plan's limit line stands at the same place in
every row: a bar under the line is room left, a bar past it is over the limit. Every figure is written out as text
beside its bar and in the picture's description; colours are stylesheet classes (both themes), and the state is
also a word (ok, near the limit, at the limit), so nothing is told by colour alone."""

from dataclasses import dataclass
from html import escape

from schemas.usage import Metric, MetricUsage, UsagePublic

CHARTED: tuple[tuple[Metric, str], ...] = (("runs", "Runs"), ("steps", "Steps"), ("ai_credits", "AI credits"))
# Drawn at its own size up to 30rem wide (the stylesheet's max-width), so its text reads at the page's size; each row
# has its words on one line and its bar below, so a narrow card shrinks the picture rather than clipping words.
WIDTH = 480
TRACK_W = WIDTH
ROW_H = 62
TEXT_Y = 18
BAR_Y = 28
BAR_H = 16
BOTTOM_PAD = 22
# The limit line stands at this share of the track, so usage past the limit still has room to show.
LIMIT_AT = 0.8
NEAR_LIMIT = 0.8
STATE_WORDS = {"ok": "", "near": "near the limit", "over": "limit reached", "unlimited": "no limit"}


@dataclass(frozen=True)
class Bar:
    """One metric as the picture draws it."""

    metric: Metric
    label: str
    used: int
    limit: int | None

    @property
    def share(self) -> float | None:
        """Used as a share of the limit (None when unlimited; a zero limit counts as used up)."""
        if self.limit is None:
            return None
        return self.used / self.limit if self.limit else 1.0

    @property
    def state(self) -> str:
        share = self.share
        if share is None:
            return "unlimited"
        return "over" if share >= 1 else "near" if share >= NEAR_LIMIT else "ok"

    @property
    def width(self) -> float:
        """The bar's length in track units: limited metrics against the limit line, unlimited ones a token length
        (there is nothing to measure them against) so the figure beside them does the telling."""
        share = self.share
        if share is None:
            return TRACK_W * 0.01 if self.used else 0.0
        return TRACK_W * min(share * LIMIT_AT, 1.0)

    def figure(self) -> str:
        if self.limit is None:
            return f"{self.used:,} · no limit"
        percent = round(100 * (self.share or 0))
        return f"{self.used:,} of {self.limit:,} · {percent}%"


def bars(usage: UsagePublic) -> list[Bar]:
    return [_bar(metric, label, usage.metrics.get(metric)) for metric, label in CHARTED]


def _bar(metric: Metric, label: str, counted: MetricUsage | None) -> Bar:
    if counted is None:
        return Bar(metric, label, 0, None)
    return Bar(metric, label, counted.used, counted.limit)


def usage_svg(usage: UsagePublic, chart_id: str = "usage") -> str:
    """The month's usage of `usage.plan` as an inline SVG with a title, a description and the limit line."""
    rows = bars(usage)
    height = ROW_H * len(rows) + BOTTOM_PAD
    base = escape(chart_id)
    parts = [
        f'<svg class="usage-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'role="img" aria-labelledby="{base}-title {base}-desc" focusable="false">',
        f'<title id="{base}-title">{escape(title(usage))}</title>',
        f'<desc id="{base}-desc">{escape(describe(usage))}</desc>',
        *(_row(bar, index) for index, bar in enumerate(rows)),
    ]
    if any(bar.limit is not None for bar in rows):
        limit_x = TRACK_W * LIMIT_AT
        parts.append(
            f'<text class="uc-limit-label" x="{limit_x:.1f}" y="{height - 4}" text-anchor="middle">plan limit</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _row(bar: Bar, index: int) -> str:
    top = index * ROW_H
    word = STATE_WORDS[bar.state]
    figure = bar.figure() + (f" · {word}" if word and bar.state != "unlimited" else "")
    limit = ""
    if bar.limit is not None:  # a dashed tick through the bar, a little above and below it
        x = TRACK_W * LIMIT_AT
        limit = (
            f'<line class="uc-limit" x1="{x:.1f}" y1="{top + BAR_Y - 5}" x2="{x:.1f}" y2="{top + BAR_Y + BAR_H + 5}" />'
        )
    return (
        f'<g class="uc-row uc-{bar.state}" data-metric="{bar.metric}">'
        f'<text class="uc-label" x="0" y="{top + TEXT_Y}">{escape(bar.label)}</text>'
        f'<text class="uc-figure uc-figure-{bar.state}" x="{WIDTH}" y="{top + TEXT_Y}" text-anchor="end">'
        f"{escape(figure)}</text>"
        f'<rect class="uc-track" x="0" y="{top + BAR_Y}" width="{TRACK_W}" height="{BAR_H}" rx="4" />'
        f'<rect class="uc-bar uc-bar-{bar.state}" x="0" y="{top + BAR_Y}" width="{bar.width:.1f}" '
        f'height="{BAR_H}" rx="4" />{limit}'
        "</g>"
    )


def title(usage: UsagePublic) -> str:
    return f"Usage in {usage.period} against the {usage.plan} plan"


def describe(usage: UsagePublic) -> str:
    """Every figure of the picture in words, for screen readers."""
    said = []
    for bar in bars(usage):
        word = STATE_WORDS[bar.state]
        said.append(f"{bar.label}: {bar.figure()}" + (f", {word}" if word and bar.state != "unlimited" else ""))
    return "; ".join(said) + f". Counters start again on {usage.resets_at:%Y-%m-%d}."
