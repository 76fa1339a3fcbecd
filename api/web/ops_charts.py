"""The operations views' pictures, drawn on the server as SVG: the compliance score of the latest reports as a line
(oldest left), a report's findings by severity as bars, and failures per day as columns. Every number is said in
words too (title, desc, and the page around it)."""

from datetime import date
from html import escape

from schemas.compliance import SEVERITIES, ReportSummary

WIDTH, HEIGHT, PAD = 480, 140, 28
BAR_HEIGHT, BAR_GAP, LABEL_WIDTH = 18, 8, 90
COLUMN_HEIGHT = 110


def score_svg(reports: list[ReportSummary], title: str, desc: str) -> str:
    """The scores of the finished `reports` (given newest first) as a line over 0-100, each point marked."""
    scored = [r for r in reversed(reports) if r.score is not None]
    step = (WIDTH - 2 * PAD) / max(len(scored) - 1, 1)
    points = [(PAD + i * step, PAD / 2 + (100 - (r.score or 0)) / 100 * (HEIGHT - PAD)) for i, r in enumerate(scored)]
    guides = "".join(
        f'<line class="cc-guide" x1="{PAD}" x2="{WIDTH - PAD}" y1="{y:.1f}" y2="{y:.1f}"/>'
        f'<text class="cc-axis" x="{PAD - 4}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        for value in (0, 50, 100)
        for y in [PAD / 2 + (100 - value) / 100 * (HEIGHT - PAD)]
    )
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(
        f'<circle class="cc-dot cc-score-{band(r.score)}" cx="{x:.1f}" cy="{y:.1f}" r="4"/>'
        for (x, y), r in zip(points, scored, strict=True)
    )
    return (
        f'<svg class="compliance-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="cc-title cc-desc">'
        f'<title id="cc-title">{escape(title)}</title><desc id="cc-desc">{escape(desc)}</desc>{guides}'
        f'<polyline class="cc-line" points="{line}"/>{dots}</svg>'
    )


def severity_svg(counts: dict[str, int], labels: dict[str, str], title: str) -> str:
    """One bar per severity, most severe first, its length the share of the largest count."""
    order = list(reversed(SEVERITIES))
    most = max([counts.get(s, 0) for s in order] + [1])
    height = len(order) * (BAR_HEIGHT + BAR_GAP)
    room = WIDTH - LABEL_WIDTH - 40
    rows = "".join(
        f'<text class="cc-axis" x="{LABEL_WIDTH - 6}" y="{i * (BAR_HEIGHT + BAR_GAP) + 13}" text-anchor="end">'
        f"{escape(labels.get(s, s))}</text>"
        f'<rect class="cc-bar cc-sev-{s}" x="{LABEL_WIDTH}" y="{i * (BAR_HEIGHT + BAR_GAP)}" '
        f'width="{counts.get(s, 0) / most * room:.1f}" height="{BAR_HEIGHT}" rx="3"/>'
        f'<text class="cc-count" x="{LABEL_WIDTH + counts.get(s, 0) / most * room + 6:.1f}" '
        f'y="{i * (BAR_HEIGHT + BAR_GAP) + 13}">{counts.get(s, 0)}</text>'
        for i, s in enumerate(order)
    )
    return (
        f'<svg class="severity-chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">'
        f"{rows}</svg>"
    )


def band(score: int | None) -> str:
    """good (90+), fair (70+) or poor: the colour and word a score is shown with."""
    if score is None:
        return "none"
    return "good" if score >= 90 else "fair" if score >= 70 else "poor"


def daily_svg(counts: list[tuple[date, int]], labels: list[str], title: str, desc: str) -> str:
    """One column per day (oldest left) of `counts`, each labelled below with `labels` (the day as the reader
    writes it) and its count above when there is one."""
    most = max([n for _day, n in counts] + [1])
    width = (WIDTH - 2 * PAD) / max(len(counts), 1)
    columns = "".join(
        f'<rect class="cc-bar cc-fail" x="{PAD + i * width + 2:.1f}" y="{PAD / 2 + COLUMN_HEIGHT - n / most * COLUMN_HEIGHT:.1f}" '
        f'width="{width - 4:.1f}" height="{n / most * COLUMN_HEIGHT:.1f}" rx="2"/>'
        + (
            f'<text class="cc-count" x="{PAD + (i + 0.5) * width:.1f}" y="{PAD / 2 + COLUMN_HEIGHT - n / most * COLUMN_HEIGHT - 3:.1f}" '
            f'text-anchor="middle">{n}</text>'
            if n
            else ""
        )
        + (
            f'<text class="cc-axis" x="{PAD + (i + 0.5) * width:.1f}" y="{PAD / 2 + COLUMN_HEIGHT + 14:.1f}" '
            f'text-anchor="middle">{escape(label)}</text>'
            if (len(counts) - 1 - i) % 2 == 0
            else ""
        )
        for i, ((_day, n), label) in enumerate(zip(counts, labels, strict=True))
    )
    height = PAD / 2 + COLUMN_HEIGHT + 20
    return (
        f'<svg class="failures-chart" viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-labelledby="fc-title fc-desc">'
        f'<title id="fc-title">{escape(title)}</title><desc id="fc-desc">{escape(desc)}</desc>'
        f'<line class="cc-guide" x1="{PAD}" x2="{WIDTH - PAD}" y1="{PAD / 2 + COLUMN_HEIGHT}" '
        f'y2="{PAD / 2 + COLUMN_HEIGHT}"/>{columns}</svg>'
    )
