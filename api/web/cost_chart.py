"""The cost picture: each tenant's spend this month as a bar, the biggest spenders first, as an accessible inline
SVG string.

Pure (no I/O). Bars share one scale (the largest spend fills the track); each row writes out its amount, its latest
hourly rate and, in words, whether it is throttled, so nothing is told by colour alone. The table beside it on the
page holds every figure. Texts are in the reader's language."""

from html import escape

from api.web.panel_formats import Formats
from core.i18n import render as render_text
from schemas.cost import TenantCost
from schemas.i18n import tr

WIDTH = 560
ROW_H = 50
TEXT_Y = 17
BAR_Y = 25
BAR_H = 14
MAX_ROWS = 15


def charted(tenants: list[TenantCost]) -> list[TenantCost]:
    """The tenants the picture draws: the MAX_ROWS biggest spenders this month, biggest first."""
    return sorted(tenants, key=lambda t: (-t.period_spend_usd, t.name))[:MAX_ROWS]


def throttled(tenant: TenantCost) -> bool:
    return tenant.max_concurrent_runs is not None or tenant.ai_paused


def cost_svg(tenants: list[TenantCost], locale: str, chart_id: str = "cost") -> str:
    """The month's spend per tenant as an inline SVG with a title and a description of every row."""
    rows = charted(tenants)
    most = max((t.period_spend_usd for t in rows), default=0.0)
    height = ROW_H * max(len(rows), 1)
    base = escape(chart_id)
    parts = [
        f'<svg class="cost-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'role="img" aria-labelledby="{base}-title {base}-desc" focusable="false">',
        f'<title id="{base}-title">{escape(render_text(tr("Spend per tenant this month"), locale))}</title>',
        f'<desc id="{base}-desc">{escape(describe(rows, locale))}</desc>',
        *(_row(tenant, index, most, locale) for index, tenant in enumerate(rows)),
        "</svg>",
    ]
    return "\n".join(parts)


def figure(tenant: TenantCost, locale: str) -> str:
    fmt = Formats(locale)
    if tenant.rate_usd_per_hour is None:
        text = tr("%(spend)s this month", spend=fmt.usd(tenant.period_spend_usd))
    else:
        text = tr(
            "%(spend)s this month · %(rate)s an hour",
            spend=fmt.usd(tenant.period_spend_usd),
            rate=fmt.usd(tenant.rate_usd_per_hour),
        )
    said = render_text(text, locale)
    return said + (" · " + render_text(tr("throttled"), locale) if throttled(tenant) else "")


def _row(tenant: TenantCost, index: int, most: float, locale: str) -> str:
    top = index * ROW_H
    width = WIDTH * tenant.period_spend_usd / most if most > 0 else 0.0
    state = "throttled" if throttled(tenant) else "ok"
    return (
        f'<g class="cc-row cc-{state}" data-tenant="{escape(tenant.tenant_id)}">'
        f'<text class="cc-label" x="0" y="{top + TEXT_Y}">{escape(tenant.name[:40])}</text>'
        f'<text class="cc-figure" x="{WIDTH}" y="{top + TEXT_Y}" text-anchor="end">'
        f"{escape(figure(tenant, locale))}</text>"
        f'<rect class="cc-track" x="0" y="{top + BAR_Y}" width="{WIDTH}" height="{BAR_H}" rx="4" />'
        f'<rect class="cc-bar cc-bar-{state}" x="0" y="{top + BAR_Y}" width="{width:.1f}" height="{BAR_H}" rx="4" />'
        "</g>"
    )


def describe(rows: list[TenantCost], locale: str) -> str:
    if not rows:
        return render_text(tr("No tenants yet."), locale)
    return "; ".join(f"{t.name}: {figure(t, locale)}" for t in rows)
