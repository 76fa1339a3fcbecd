"""Creates one Stripe Checkout Session for a tenant; the API waits for its result and hands out the URL.

A workflow, not a direct call, so the Stripe side effect is an activity with its retry policy and the
session is created once per idempotency key (the workflow id derives from it).
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.stripe_api import StripeActivities
    from orchestrator.retries import STRIPE_RETRY, STRIPE_TIMEOUT
    from schemas.billing import CheckoutInput, CheckoutSession


@workflow.defn
class Checkout:
    @workflow.run
    async def run(self, params: CheckoutInput) -> CheckoutSession:
        return await workflow.execute_activity_method(
            StripeActivities.create_checkout_session,
            params,
            start_to_close_timeout=STRIPE_TIMEOUT,
            retry_policy=STRIPE_RETRY,
        )
