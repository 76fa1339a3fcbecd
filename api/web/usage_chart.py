"""The usage picture: this month's runs, steps and AI credits against the plan, as an accessible inline SVG string.

Pure (no I/O). One row per metric, each on its own scale so that the plan's limit line stands at the same place in
every row: a bar under the line is room left, a bar past it is over the limit. Every figure is written out as text
beside its bar and in the picture's description; colours are stylesheet classes (both themes), and the state is
also a word (ok, near the limit, at the limit), so nothing is told by colour alone."""

from dataclasses import dataclass
from html import escape

from core.i18n import DEFAULT, number, percent, render, when
from schemas.i18n import Text, tr
from schemas.usage import Metric, MetricUsage, UsagePublic

CHARTED: tuple[tuple[Metric, Text], ...] = (
    ("runs", tr("Runs")),
    ("steps", tr("Steps")),
    ("ai_credits", tr("AI credits")),
)
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
STATE_WORDS: dict[str, Text | None] = {
    "ok": None, "near": tr("near the limit"), "over": tr("limit reached"), "unlimited": None,
}  # fmt: skip


@dataclass(frozen=True)
class Bar:
    """One metric as the picture draws it."""

    metric: Metric
    label: Text
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

    def figure(self, tag: str = DEFAULT) -> str:
        if self.limit is None:
            return render(tr("%(used)s · no limit", used=number(self.used, tag)), tag)
        share = percent(round(self.share or 0, 2), tag)
        return render(tr("%(used)s of %(limit)s · %(share)s", used=number(self.used, tag),
                         limit=number(self.limit, tag), share=share), tag)  # fmt: skip

    def said(self, tag: str) -> str:
        """The figure and, near or past the limit, the state in words."""
        word = STATE_WORDS[self.state]
        return self.figure(tag) + (f" · {render(word, tag)}" if word else "")


def bars(usage: UsagePublic) -> list[Bar]:
    return [_bar(metric, label, usage.metrics.get(metric)) for metric, label in CHARTED]


def _bar(metric: Metric, label: Text, counted: MetricUsage | None) -> Bar:
    if counted is None:
        return Bar(metric, label, 0, None)
    return Bar(metric, label, counted.used, counted.limit)


def usage_svg(usage: UsagePublic, chart_id: str = "usage", tag: str = DEFAULT) -> str:
    """The month's usage of `usage.plan` as an inline SVG with a title, a description and the limit line."""
    rows = bars(usage)
    height = ROW_H * len(rows) + BOTTOM_PAD
    base = escape(chart_id)
    parts = [
        f'<svg class="usage-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'role="img" aria-labelledby="{base}-title {base}-desc" focusable="false">',
        f'<title id="{base}-title">{escape(title(usage, tag))}</title>',
        f'<desc id="{base}-desc">{escape(describe(usage, tag))}</desc>',
        *(_row(bar, index, tag) for index, bar in enumerate(rows)),
    ]
    if any(bar.limit is not None for bar in rows):
        limit_x = TRACK_W * LIMIT_AT
        words = escape(render(tr("plan limit"), tag))
        parts.append(
            f'<text class="uc-limit-label" x="{limit_x:.1f}" y="{height - 4}" text-anchor="middle">{words}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _row(bar: Bar, index: int, tag: str) -> str:
    top = index * ROW_H
    figure = bar.said(tag)
    limit = ""
    if bar.limit is not None:  # a dashed tick through the bar, a little above and below it
        x = TRACK_W * LIMIT_AT
        limit = (
            f'<line class="uc-limit" x1="{x:.1f}" y1="{top + BAR_Y - 5}" x2="{x:.1f}" y2="{top + BAR_Y + BAR_H + 5}" />'
        )
    return (
        f'<g class="uc-row uc-{bar.state}" data-metric="{bar.metric}">'
        f'<text class="uc-label" x="0" y="{top + TEXT_Y}">{escape(render(bar.label, tag))}</text>'
        f'<text class="uc-figure uc-figure-{bar.state}" x="{WIDTH}" y="{top + TEXT_Y}" text-anchor="end">'
        f"{escape(figure)}</text>"
        f'<rect class="uc-track" x="0" y="{top + BAR_Y}" width="{TRACK_W}" height="{BAR_H}" rx="4" />'
        f'<rect class="uc-bar uc-bar-{bar.state}" x="0" y="{top + BAR_Y}" width="{bar.width:.1f}" '
        f'height="{BAR_H}" rx="4" />{limit}'
        "</g>"
    )


def title(usage: UsagePublic, tag: str = DEFAULT) -> str:
    return render(tr("Usage in %(period)s against the %(plan)s plan", period=usage.period, plan=usage.plan), tag)


def describe(usage: UsagePublic, tag: str = DEFAULT) -> str:
    """Every figure of the picture in words, for screen readers."""
    said = []
    for bar in bars(usage):
        word = STATE_WORDS[bar.state]
        said.append(f"{render(bar.label, tag)}: {bar.figure(tag)}" + (f", {render(word, tag)}" if word else ""))
    reset = tr("Counters start again on %(date)s.", date=when(usage.resets_at.date(), tag, "long"))
    return "; ".join(said) + ". " + render(reset, tag)
