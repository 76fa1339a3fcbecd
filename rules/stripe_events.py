"""Reading the few fields billing acts on out of a verified Stripe event; other types are not handled."""

from datetime import UTC, datetime
from typing import Any

from schemas.billing import DunningPolicy, StripeEventInput

CHECKOUT_DONE = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
SUBSCRIPTION = frozenset(
    {"customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted"}
)
INVOICE = frozenset({"invoice.payment_failed", "invoice.paid", "invoice.payment_succeeded"})
HANDLED = CHECKOUT_DONE | SUBSCRIPTION | INVOICE
MAX_ID = 255


def stripe_event_input(
    event: dict[str, Any], items_by_price: dict[str, str], plans: frozenset[str], policy: DunningPolicy
) -> StripeEventInput | None:
    """The event's typed fields, or None for a type billing does not handle. `items_by_price` maps a
    Stripe price id to the plan or package it sells; `plans` are the plan ids a subscription may carry."""
    kind = str(event.get("type", ""))
    if kind not in HANDLED:
        return None
    obj = _dict(_dict(event.get("data")).get("object"))
    fields: dict[str, Any] = {"customer_id": _id(obj.get("customer"))}
    if kind in CHECKOUT_DONE:
        fields.update(_checkout(obj, plans))
    elif kind in SUBSCRIPTION:
        fields.update(_subscription(obj, items_by_price, plans))
    else:
        fields.update(_invoice(obj, kind))
    return StripeEventInput(
        event_id=str(event["id"]),
        type=kind,
        created=datetime.fromtimestamp(int(event.get("created") or 0), UTC),
        dunning=policy,
        **fields,
    )


def _checkout(session: dict[str, Any], plans: frozenset[str]) -> dict[str, Any]:
    metadata = _dict(session.get("metadata"))
    item = _str(metadata.get("item"))
    paid = session.get("payment_status") in ("paid", "no_payment_required")
    subscription = session.get("mode") == "subscription"
    return {
        "tenant_id": _str(session.get("client_reference_id")) or _str(metadata.get("tenant_id")),
        "subscription_id": _id(session.get("subscription")),
        # A delayed payment method completes the session unpaid; async_payment_succeeded follows.
        "plan": item if paid and subscription and item in plans else None,
        "package": item if paid and not subscription and item and item.startswith("dfy_") else None,
        "amount": _int(session.get("amount_total")),
        "currency": _str(session.get("currency")),
        "priced_region": _region(metadata.get("region")),
        # The billing address Stripe collected: the region check's evidence, never the caller's word.
        "billing_country": _region(_dict(_dict(session.get("customer_details")).get("address")).get("country")),
    }


def _subscription(
    subscription: dict[str, Any], items_by_price: dict[str, str], plans: frozenset[str]
) -> dict[str, Any]:
    metadata = _dict(subscription.get("metadata"))
    lines = _dict(subscription.get("items")).get("data") or [{}]
    price = _id(_dict(lines[0] if isinstance(lines, list) and lines else {}).get("price"))
    plan = items_by_price.get(price or "") or _str(metadata.get("item"))
    return {
        "tenant_id": _str(metadata.get("tenant_id")),
        "subscription_id": _id(subscription.get("id")),
        "subscription_status": _str(subscription.get("status")),
        "plan": plan if plan in plans else None,
        "priced_region": _region(metadata.get("region")),
    }


def _invoice(invoice: dict[str, Any], kind: str) -> dict[str, Any]:
    # Newer API versions moved the subscription's metadata under `parent`.
    details = _dict(invoice.get("subscription_details")) or _dict(
        _dict(invoice.get("parent")).get("subscription_details")
    )
    tenant_id = _str(_dict(details.get("metadata")).get("tenant_id")) or _str(
        _dict(invoice.get("metadata")).get("tenant_id")
    )
    amount = invoice.get("amount_due") if kind == "invoice.payment_failed" else invoice.get("amount_paid")
    return {
        "tenant_id": tenant_id,
        "invoice_id": _id(invoice.get("id")),
        "amount": _int(amount),
        "currency": _str(invoice.get("currency")),
    }


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _id(value: Any) -> str | None:
    """A Stripe id, whether the field holds the id or the expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return _str(value)


def _str(value: Any) -> str | None:
    return value[:MAX_ID] if isinstance(value, str) and value else None


def _region(value: Any) -> str | None:
    """An ISO 3166 alpha-2 code, upper case; None for anything else."""
    return value.upper() if isinstance(value, str) and len(value) == 2 and value.isalpha() else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
