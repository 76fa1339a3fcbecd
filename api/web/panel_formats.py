"""Dates, numbers, shares and amounts as the page's reader writes them, for the Admin Power Panel's templates
(`fmt.when(at)`, `fmt.usd(12.5)`); core/i18n.py does the formatting."""

from dataclasses import dataclass
from datetime import datetime

from babel.numbers import format_percent

from core.i18n import locale_id, money, number, percent, when

UNKNOWN = "—"


@dataclass(frozen=True)
class Formats:
    locale: str

    def when(self, at: datetime | None) -> str:
        return when(at, self.locale, "short") if at is not None else UNKNOWN

    def num(self, value: float | None) -> str:
        return number(value, self.locale) if value is not None else UNKNOWN

    def pct(self, share: float | None) -> str:
        """A share (0..1) as a percentage with one decimal where it matters (99.9 %, not 100 %)."""
        if share is None:
            return UNKNOWN
        return percent(share, self.locale) if share in (0, 1) else _one_decimal(share, self.locale)

    def usd(self, amount: float | None) -> str:
        return money(amount, "USD", self.locale) if amount is not None else UNKNOWN

    def duration(self, seconds: float) -> str:
        """A process's uptime in its largest units: `3 d 4 h`, `5 h 12 min`, `42 min` (unit symbols are the same
        in every language the panel speaks)."""
        minutes = int(seconds // 60)
        days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
        if days:
            return f"{self.num(days)} d {hours} h"
        if hours:
            return f"{hours} h {mins} min"
        return f"{mins} min"


def _one_decimal(share: float, locale: str) -> str:
    return format_percent(share, "#,##0.0%", locale=locale_id(locale))
