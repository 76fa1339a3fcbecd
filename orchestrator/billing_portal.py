"""Opens a Stripe customer portal session for a tenant, where it changes plan or card or cancels; the API
waits for the link. A workflow so the Stripe call is an activity with its retry policy."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.stripe_api import StripeActivities
    from orchestrator.retries import STRIPE_RETRY, STRIPE_TIMEOUT
    from schemas.billing import PortalInput, PortalSession


@workflow.defn
class BillingPortal:
    @workflow.run
    async def run(self, params: PortalInput) -> PortalSession:
        return await workflow.execute_activity_method(
            StripeActivities.create_portal_session,
            params,
            start_to_close_timeout=STRIPE_TIMEOUT,
            retry_policy=STRIPE_RETRY,
        )
