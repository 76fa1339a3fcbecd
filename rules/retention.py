"""Retention policies as data: per plan and class of data, the default days a record is kept and the bounds a
founder may set for a tenant; the platform's own classes; and resolving a tenant's policies from its plan and
overrides. The RetentionEnforcer deletes by these, the compliance audit checks them, the API shows them.

Why these numbers:
- `run_history` (closed runs' records, `run_archive.closed_at`): what the plan sells — free 7 days, starter 30,
  pro 90, enterprise 365. A founder may shorten it to 7 days — never below what Temporal itself keeps of a
  closed run (`TEMPORAL_RETENTION_DAYS`, at most 7), or the run list would show a run its policy had dropped —
  or lengthen it up to the next plan's default (enterprise: 7 years, for customers with record-keeping duties
  of their own).
- `failure_queue` (`failure_entry.last_failed_at`, so an entry that failed again lately is still live): a work
  queue, not an archive; kept about as long as the runs it points at, at least 7 days so a weekend's failures
  are still there on Monday.
- `audit_log` (`audit_entry.at`): who did what is evidence for security reviews and disputes, so a year on
  every plan (two on enterprise) and never under 180 days; at most 7 years (the usual commercial-records
  period).
- `telemetry` (a tenant's `telemetry_event.at`): operational detail with personal data in messages and
  endpoints; weeks, never over 90 days.
- `export_archive` (a completed export's archive on `data_request.completed_at`): a full copy of the tenant's
  data made for download; 7 days, at most 30. The request row and its dates stay (the DSAR trail); only the
  archive is emptied.
- `support_transcripts`: not collected yet (`collected: false`); its policy is stated now and enforced once it
  exists.
- `ai_transcripts` (`ai_interaction.created_at`: the Brain's audit of each AI call with its masked prompt and
  answer excerpts): kept shortest, a month on the smaller plans, at least a day.
"""

from schemas.i18n import Text, tr
from schemas.retention import (
    DATA_CLASSES,
    MAX_RETENTION_DAYS,
    DataClass,
    PlatformClass,
    PlatformRetention,
    ResolvedPolicy,
    RetentionBounds,
    RetentionClass,
)


def _b(default_days: int, min_days: int, max_days: int) -> RetentionBounds:
    return RetentionBounds(default_days=default_days, min_days=min_days, max_days=max_days)


PLAN_RETENTION: dict[str, dict[DataClass, RetentionBounds]] = {
    "free": {
        "run_history": _b(7, 7, 30),
        "failure_queue": _b(14, 7, 30),
        "audit_log": _b(365, 180, 2555),
        "telemetry": _b(7, 1, 30),
        "export_archive": _b(7, 1, 30),
        "support_transcripts": _b(90, 30, 365),
        "ai_transcripts": _b(30, 1, 90),
    },
    "starter": {
        "run_history": _b(30, 7, 90),
        "failure_queue": _b(30, 7, 90),
        "audit_log": _b(365, 180, 2555),
        "telemetry": _b(14, 1, 30),
        "export_archive": _b(7, 1, 30),
        "support_transcripts": _b(180, 30, 365),
        "ai_transcripts": _b(30, 1, 90),
    },
    "pro": {
        "run_history": _b(90, 7, 365),
        "failure_queue": _b(90, 7, 365),
        "audit_log": _b(365, 180, 2555),
        "telemetry": _b(30, 1, 90),
        "export_archive": _b(7, 1, 30),
        "support_transcripts": _b(365, 30, 730),
        "ai_transcripts": _b(90, 1, 365),
    },
    "enterprise": {
        "run_history": _b(365, 7, 2555),
        "failure_queue": _b(180, 7, 730),
        "audit_log": _b(730, 180, 2555),
        "telemetry": _b(30, 1, 90),
        "export_archive": _b(7, 1, 30),
        "support_transcripts": _b(730, 30, 2555),
        "ai_transcripts": _b(180, 1, 730),
    },
}
# Which classes exist in the database today; the others are enforced once they do.
COLLECTED: dict[DataClass, bool] = {
    "run_history": True,
    "failure_queue": True,
    "audit_log": True,
    "telemetry": True,
    "export_archive": True,
    "support_transcripts": False,
    "ai_transcripts": True,
}
COLLECTED_CLASSES: tuple[DataClass, ...] = tuple(c for c in DATA_CLASSES if COLLECTED[c])
# The platform classes' defaults; the settings HEALTH_RETENTION_DAYS, TELEMETRY_RETENTION_DAYS and
# DATA_RETENTION_DAYS (audit entries of no tenant: founders' platform actions) override them.
PLATFORM_DEFAULT_DAYS: dict[PlatformClass, int] = {
    "health_records": 14,
    "platform_telemetry": 30,
    "platform_audit_log": 365,
}


def default_platform_retention() -> PlatformRetention:
    """The platform classes' policies when no setting says otherwise."""
    return PlatformRetention(**PLATFORM_DEFAULT_DAYS)


def bounds_for(plan: str, data_class: DataClass) -> RetentionBounds:
    """A plan's policy for the class; an unknown plan (or a tenant since removed) gets the free plan's."""
    return PLAN_RETENTION.get(plan, PLAN_RETENTION["free"])[data_class]


def resolve(plan: str, overrides: dict[str, int]) -> list[ResolvedPolicy]:
    """Every class of a tenant on `plan`: an override (within the bounds when it was set) wins over the
    plan's default."""
    policies = []
    for data_class in DATA_CLASSES:
        bounds = bounds_for(plan, data_class)
        override = overrides.get(data_class)
        policies.append(
            ResolvedPolicy(
                data_class=data_class,
                days=bounds.default_days if override is None else override,
                source="plan" if override is None else "override",
                collected=COLLECTED[data_class],
                **bounds.model_dump(),
            )
        )
    return policies


def collected_days(plan: str, overrides: dict[str, int]) -> dict[RetentionClass, int]:
    """The days of each class the platform collects, as the enforcer and the audit apply them."""
    days: dict[RetentionClass, int] = {}
    for data_class in COLLECTED_CLASSES:
        days[data_class] = overrides.get(data_class, bounds_for(plan, data_class).default_days)
    return days


def platform_policies(platform: PlatformRetention) -> list[ResolvedPolicy]:
    """The platform classes as policies: their days come from the settings, not from a plan."""
    return [
        ResolvedPolicy(
            data_class=name,
            days=getattr(platform, name),
            source="platform",
            default_days=default,
            min_days=1,
            max_days=MAX_RETENTION_DAYS,
            collected=True,
        )
        for name, default in PLATFORM_DEFAULT_DAYS.items()
    ]


def out_of_bounds(plan: str, data_class: DataClass, days: int) -> Text | None:
    """Why `days` may not be set for the class on this plan; None when it may."""
    bounds = bounds_for(plan, data_class)
    if bounds.min_days <= days <= bounds.max_days:
        return None
    return tr(
        "%(data_class)s on the %(plan)s plan may be kept %(min)s to %(max)s days; %(days)s is outside",
        data_class=data_class,
        plan=plan,
        min=bounds.min_days,
        max=bounds.max_days,
        days=days,
    )
