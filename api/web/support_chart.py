"""The support section's picture, drawn on the server as SVG: tickets opened and closed per day, a pair of columns
per day (oldest left). Its numbers are said in words (title, desc) and in the table beside it."""

from dataclasses import dataclass
from html import escape

WIDTH, PAD, COLUMN_HEIGHT = 480, 28, 110


@dataclass(frozen=True)
class DayVolume:
    label: str
    """The day as the reader writes it (short)."""
    opened: int
    closed: int


def volume_svg(days: list[DayVolume], title: str, desc: str) -> str:
    """Opened (first column) and closed (second) per day, each column's count above it when there is one."""
    most = max([max(d.opened, d.closed) for d in days] + [1])
    slot = (WIDTH - 2 * PAD) / max(len(days), 1)
    base = PAD / 2 + COLUMN_HEIGHT
    parts: list[str] = []
    for i, day in enumerate(days):
        for j, (kind, n) in enumerate((("opened", day.opened), ("closed", day.closed))):
            x, width, height = PAD + i * slot + 2 + j * (slot - 4) / 2, (slot - 4) / 2 - 1, n / most * COLUMN_HEIGHT
            parts.append(
                f'<rect class="sc-bar sc-{kind}" x="{x:.1f}" y="{base - height:.1f}" width="{width:.1f}" '
                f'height="{height:.1f}" rx="2"/>'
            )
            if n:
                parts.append(
                    f'<text class="cc-count" x="{x + width / 2:.1f}" y="{base - height - 3:.1f}" '
                    f'text-anchor="middle">{n}</text>'
                )
        if (len(days) - 1 - i) % 2 == 0:
            parts.append(
                f'<text class="cc-axis" x="{PAD + (i + 0.5) * slot:.1f}" y="{base + 14:.1f}" '
                f'text-anchor="middle">{escape(day.label)}</text>'
            )
    return (
        f'<svg class="support-chart" viewBox="0 0 {WIDTH} {base + 20:.0f}" role="img" '
        f'aria-labelledby="sc-title sc-desc"><title id="sc-title">{escape(title)}</title>'
        f'<desc id="sc-desc">{escape(desc)}</desc>'
        f'<line class="cc-guide" x1="{PAD}" x2="{WIDTH - PAD}" y1="{base}" y2="{base}"/>{"".join(parts)}</svg>'
    )
