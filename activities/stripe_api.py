"""Calls to the Stripe API: Checkout and customer portal sessions. One StripeClient per worker; the key never
leaves it. (Applying Stripe's events to the database is billing_store.py.)"""

import stripe
from stripe.params.checkout import SessionCreateParams
from temporalio import activity
from temporalio.exceptions import ApplicationError

from schemas.billing import CheckoutInput, CheckoutSession, PortalInput, PortalSession

STRIPE_TIMEOUT_S = 10.0


def build_stripe_client(api_key: str | None, api_base: str | None) -> stripe.StripeClient | None:
    """The worker's one client for the real Stripe API, or for `api_base` when set; None without a key.
    Billing activities call it synchronously (thread pool), the heartbeat's probe asynchronously."""
    if not api_key:
        return None
    # Temporal retries the activity; SDK-level retries would only hide the attempts.
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else {},
        max_network_retries=0,
        http_client=stripe.HTTPXClient(timeout=STRIPE_TIMEOUT_S, allow_sync_methods=True),
    )


class StripeActivities:
    def __init__(self, client: stripe.StripeClient | None) -> None:
        self._client = client

    @activity.defn(name="create_checkout_session")
    def create_checkout_session(self, checkout: CheckoutInput) -> CheckoutSession:
        """Creates the Checkout Session once per idempotency key: a retried attempt gets the same session.

        Non-retryable: BillingNotConfigured, StripeRejected (4xx). Retryable: StripeUnavailable."""
        if self._client is None:
            raise ApplicationError("Stripe is not configured", type="BillingNotConfigured", non_retryable=True)
        try:
            session = self._client.v1.checkout.sessions.create(
                params=_session_params(checkout),
                options={"idempotency_key": checkout.idempotency_key},
            )
        except stripe.StripeError as err:
            raise _failure(err) from None
        activity.logger.info(
            "checkout session created",
            extra={"tenant_id": checkout.tenant_id, "item": checkout.item, "session_id": session.id},
        )
        return CheckoutSession(session_id=session.id, url=session.url)

    @activity.defn(name="create_portal_session")
    def create_portal_session(self, portal: PortalInput) -> PortalSession:
        """A short-lived customer portal link for the tenant's Stripe customer; errors as for checkout."""
        if self._client is None:
            raise ApplicationError("Stripe is not configured", type="BillingNotConfigured", non_retryable=True)
        try:
            session = self._client.v1.billing_portal.sessions.create(
                params={"customer": portal.customer_id, "return_url": portal.return_url},
                options={"idempotency_key": portal.idempotency_key},
            )
        except stripe.StripeError as err:
            raise _failure(err) from None
        activity.logger.info("portal session created", extra={"tenant_id": portal.tenant_id})
        return PortalSession(url=session.url)


def _session_params(checkout: CheckoutInput) -> SessionCreateParams:
    metadata = {"tenant_id": checkout.tenant_id, "item": checkout.item}
    if checkout.region:  # a regional price: the completed session must come from a billing address there
        metadata["region"] = checkout.region
    params: SessionCreateParams = {
        "mode": checkout.mode,
        "line_items": [{"price": checkout.price_id, "quantity": 1}],
        "client_reference_id": checkout.tenant_id,
        "metadata": metadata,
        "success_url": checkout.success_url,
        "cancel_url": checkout.cancel_url,
    }
    # Subscriptions and payments carry the tenant too, so their own events can be matched without a lookup.
    if checkout.mode == "subscription":
        params["subscription_data"] = {"metadata": metadata}
    else:
        params["payment_intent_data"] = {"metadata": metadata}
        params["invoice_creation"] = {"enabled": True}
    if checkout.region:
        params["billing_address_collection"] = "required"
    if checkout.customer_id:
        params["customer"] = checkout.customer_id
    elif checkout.mode == "payment":
        params["customer_creation"] = "always"
    return params


def _failure(err: stripe.StripeError) -> ApplicationError:
    """Stripe's own message (it never contains the key), retryable only when it may heal."""
    status = err.http_status
    message = f"Stripe answered {status or 'nothing'}: {err.user_message or type(err).__name__}"
    transient = isinstance(err, stripe.APIConnectionError | stripe.RateLimitError) or (status or 500) >= 500
    if transient:
        return ApplicationError(message, type="StripeUnavailable")
    return ApplicationError(message, {"status": status}, type="StripeRejected", non_retryable=True)
