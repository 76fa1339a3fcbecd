"""Creates one Stripe Checkout Session for a tenant; the API waits for its result and hands out the URL.

A workflow, not a direct call, so the Stripe side effect is an activity with its retry policy and the
session is created once per idempotency key (the workflow id derives from it).
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.billing import BillingActivities
    from schemas.billing import CheckoutInput, CheckoutSession

STRIPE_TIMEOUT = timedelta(seconds=20)
# The customer is waiting on the answer: a few quick attempts, then the API says "try again".
STRIPE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=3,
    non_retryable_error_types=["StripeRejected", "BillingNotConfigured"],
)


@workflow.defn
class Checkout:
    @workflow.run
    async def run(self, params: CheckoutInput) -> CheckoutSession:
        return await workflow.execute_activity_method(
            BillingActivities.create_checkout_session,
            params,
            start_to_close_timeout=STRIPE_TIMEOUT,
            retry_policy=STRIPE_RETRY,
        )
