"""What a tenant can buy through Stripe: paid plans as subscriptions, done-for-you packages as one-time
payments, each at the Stripe price the platform configured for it (per region where one is set)."""

from rules.pricing import CATALOG
from schemas.api import PLANS
from schemas.billing import CheckoutMode

PAID_PLANS = frozenset(PLANS) - {"free"}
# A tenant with one of these may not start a second subscription.
LIVE_SUBSCRIPTION = frozenset({"active", "trialing", "past_due", "unpaid", "incomplete"})


def checkout_mode(item: str) -> CheckoutMode | None:
    """A subscription for a paid plan, a payment for a package; None for anything else."""
    if item in PAID_PLANS:
        return "subscription"
    if item in CATALOG.packages:
        return "payment"
    return None


def purchasable_items() -> list[str]:
    """Every item `checkout_mode` accepts, sorted."""
    return sorted(PAID_PLANS | set(CATALOG.packages))


def price_id_for(item: str, region: str | None, prices: dict[str, str]) -> str | None:
    """The configured Stripe price: `item:REGION` when set, else the item's own; None when neither is."""
    return prices.get(f"{item}:{(region or '').upper()}") or prices.get(item)


def priced_region(item: str, region: str | None, prices: dict[str, str]) -> str | None:
    """The region whose own price `price_id_for` charges, upper case; None when it charges the item's price."""
    code = (region or "").upper()
    return code if code and f"{item}:{code}" in prices else None


def region_matches(priced: str | None, billing_country: str | None) -> bool:
    """Whether a purchase at `priced`'s regional price may be granted to a billing address in
    `billing_country`: the item's own price is for anyone; a regional one only for its region (an unknown
    country is not in it)."""
    return priced is None or (billing_country or "").upper() == priced


def items_by_price(prices: dict[str, str]) -> dict[str, str]:
    """The configured prices read backwards: a Stripe price id to the plan or package it sells."""
    return {price: item.partition(":")[0] for item, price in prices.items()}
