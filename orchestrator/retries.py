"""Retry policies for side-effecting steps: the platform default, overridable per step within guardrails."""

from datetime import timedelta

from temporalio.common import RetryPolicy

from schemas.runs import RetryDefaults
from language.steps import RetryOverride

# Database writes of long-lived platform workflows (lifecycle, billing): keep trying through an outage.
STORE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
# Scheduled platform jobs: a few attempts; the schedule's next run tries again.
JOB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30), maximum_attempts=5)

# Errors that will not heal by trying again; activities also mark them non-retryable themselves.
NON_RETRYABLE_TYPES = [
    "HttpClientError",
    "HttpTargetForbidden",
    "HttpInvalidRequest",
    "HttpUnexpectedStatus",
    "EmailInvalidRecipient",
    "SmtpRejected",
    "AiNotConfigured",
    "AiRequestRejected",
    "ExpressionError",
]


def retry_for(override: RetryOverride | None, defaults: RetryDefaults) -> RetryPolicy:
    """The step's own policy when it has one, else the platform default."""
    if override is None:
        initial, maximum = defaults.initial_interval_s, defaults.max_interval_s
        attempts, backoff = defaults.max_attempts, defaults.backoff
    else:
        initial, maximum = override.initial_interval_s, override.max_interval_s
        attempts, backoff = override.max_attempts, override.backoff
    return RetryPolicy(
        initial_interval=timedelta(seconds=initial),
        maximum_interval=timedelta(seconds=max(maximum, initial)),
        backoff_coefficient=backoff,
        maximum_attempts=attempts,
        non_retryable_error_types=NON_RETRYABLE_TYPES,
    )
