"""What the panel's operations views share (pure, no I/O): dates and numbers in the page's language, the words for
a tenant's status, a finding's severity and a plan's column, the founder as the audit log names them, and whether a
request wants the JSON answer of a page's action (the upgrade board's drag and drop)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel import UnknownLocaleError
from babel.dates import format_skeleton, format_timedelta
from fastapi import Request

from api.deps import audit_actor, session_caller
from api.web.pages import page_locale
from core.i18n import locale_id, number, percent, when
from schemas.accounts import SessionView
from schemas.i18n import Text, tr

TENANT_STATUSES: dict[str, Text] = {
    "active": tr("Active"),
    "suspended": tr("Suspended"),
    "deleted": tr("Deleted"),
    "purged": tr("Purged"),
}
SEVERITIES: dict[str, Text] = {
    "critical": tr("Critical"),
    "high": tr("High"),
    "medium": tr("Medium"),
    "low": tr("Low"),
    "info": tr("Info"),
}
PRIORITIES: dict[str, Text] = {"critical": tr("Critical"), "high": tr("High"), "normal": tr("Normal")}
PLAN_COLUMNS: dict[str, Text] = {
    "open": tr("Open"),
    "in_progress": tr("In progress"),
    "applied": tr("Applied"),
    "archived": tr("Archived"),
}
# AutoRecovery's categories of a failure (schemas/recovery.py `Category`), as the founder reads them.
FAILURE_CATEGORIES: dict[str, Text] = {
    "transient_network": tr("Network trouble"),
    "target_5xx": tr("The target's own errors (5xx)"),
    "auth_4xx": tr("Refused by the target (4xx)"),
    "validation": tr("The step's own data"),
    "timeout": tr("Timeout"),
    "approval_timed_out": tr("Approval timed out"),
    "unknown": tr("Unclassified"),
}
RISKS: dict[str, Text] = {"low": tr("Low risk"), "medium": tr("Medium risk"), "high": tr("High risk")}


@dataclass(frozen=True)
class Formats:
    """Dates and figures as the page's reader writes them: `{{ fmt.when(at) }}`, `{{ fmt.number(n) }}`."""

    tag: str

    def when(self, value: datetime | date | None, style: str = "medium") -> str:
        return when(value, self.tag, style) if value is not None else "—"

    def number(self, value: int | float) -> str:
        return number(value, self.tag)

    def percent(self, value: float) -> str:
        return percent(value, self.tag)

    def day(self, value: date) -> str:
        """A day without its year, short: "12/2" in English, "2.12." in German."""
        try:
            return format_skeleton("Md", value, locale=locale_id(self.tag))
        except (UnknownLocaleError, ValueError):
            return format_skeleton("Md", value, locale="en")

    def duration(self, seconds: float) -> str:
        """A span of time in words, rounded as people say it: "30 days", "5 minutes"."""
        try:
            return format_timedelta(timedelta(seconds=seconds), locale=locale_id(self.tag))
        except (UnknownLocaleError, ValueError):
            return format_timedelta(timedelta(seconds=seconds), locale="en")


def formats(request: Request) -> Formats:
    return Formats(page_locale(request))


def founder_actor(me: SessionView) -> str:
    """The signed-in founder as the audit log names an actor (`user:<id>`), as the JSON API would."""
    return audit_actor(session_caller(me))


def wants_json(request: Request) -> bool:
    """A script's request (the board's fetch) asks for JSON; a form's answer is a page."""
    return "application/json" in request.headers.get("accept", "")
