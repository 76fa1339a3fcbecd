"""The activity timeouts and retry policies workflows share, and the retry policy of a tenant's steps: the
platform default, overridable per step within guardrails. A workflow that needs other values says why."""

from datetime import timedelta

from temporalio.common import RetryPolicy

from language.steps import RetryOverride
from schemas.runs import RetryDefaults

# One database read or write, or one message to a workflow that makes one.
STORE_TIMEOUT = timedelta(seconds=30)
# Writes long-lived workflows must not lose (lifecycle, billing, a failed export): keep trying through an outage.
STORE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
# An activity of a scheduled platform job: it may scan or write many rows.
JOB_TIMEOUT = timedelta(minutes=2)
# Scheduled platform jobs: a few attempts; the schedule's next run tries again.
JOB_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30), maximum_attempts=5
)
# A founder's alert goes out over SMTP; an address or message the server refuses will not heal.
NOTIFY_TIMEOUT = timedelta(seconds=60)
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=5,
    non_retryable_error_types=["SmtpRejected", "EmailInvalidRecipient"],
)
# Stripe sessions the customer is waiting for: a few quick attempts, then the API says "try again".
STRIPE_TIMEOUT = timedelta(seconds=20)
STRIPE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=3,
    non_retryable_error_types=["StripeRejected", "BillingNotConfigured"],
)

# Backing up or verifying the whole application database (a dump, or a restore into a scratch database).
BACKUP_TIMEOUT = timedelta(hours=2)
# A backup that fails twice is reported to the founder; tomorrow's scheduled run tries again.
BACKUP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=30),
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=2,
    non_retryable_error_types=["BackupUnsupported", "BackupToolMissing"],
)

# One AI call of the Brain (a draft, a diagnosis, an answer): a person is usually waiting, so a few quick attempts,
# then the workflow answers with its fallback. The activity bounds each request itself (AI_REQUEST_TIMEOUT_S).
BRAIN_TIMEOUT = timedelta(seconds=90)
BRAIN_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    maximum_interval=timedelta(seconds=4),
    maximum_attempts=3,
    non_retryable_error_types=[
        "AiDisabled",
        "AiNotConfigured",
        "AiCreditsExhausted",
        "AiRequestRejected",
        "AiRefused",
        "AiModelNotAllowed",
        "AiPromptTooLarge",
    ],
)

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
    "ExpressionTooExpensive",
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
