"""The checkout region rules: which regional price a checkout charges, and who may get what it bought."""

from datetime import UTC, datetime

from rules.checkout import priced_region, region_matches
from rules.stripe_events import stripe_event_input
from schemas.billing import DunningPolicy

PRICES = {"starter": "price_starter", "starter:IN": "price_starter_in"}
POLICY = DunningPolicy(grace_period_s=60, reminder_interval_s=30)


def test_only_a_configured_regional_price_names_a_region() -> None:
    assert priced_region("starter", "in", PRICES) == "IN"
    assert priced_region("starter", "DE", PRICES) is None
    assert priced_region("starter", None, PRICES) is None
    assert priced_region("pro", "IN", PRICES) is None


def test_a_regional_price_is_granted_only_to_a_billing_address_in_its_region() -> None:
    assert region_matches(None, None) and region_matches(None, "DE")
    assert region_matches("IN", "in") and region_matches("IN", "IN")
    assert not region_matches("IN", "DE")
    assert not region_matches("IN", None)  # no address reported: not in the region


def test_the_completed_sessions_billing_country_and_priced_region_are_read() -> None:
    session = {
        "client_reference_id": "t-1",
        "mode": "subscription",
        "payment_status": "paid",
        "metadata": {"tenant_id": "t-1", "item": "starter", "region": "IN"},
        "customer_details": {"address": {"country": "de"}},
    }
    event = {"id": "evt_1", "type": "checkout.session.completed", "created": 1, "data": {"object": session}}
    forged = {**event, "data": {"object": {**session, "customer_details": {"address": {"country": "India"}}}}}

    parsed = stripe_event_input(event, {}, frozenset({"starter"}), POLICY)
    unreadable = stripe_event_input(forged, {}, frozenset({"starter"}), POLICY)

    assert parsed is not None and (parsed.priced_region, parsed.billing_country) == ("IN", "DE")
    assert parsed.created == datetime.fromtimestamp(1, UTC)
    assert unreadable is not None and unreadable.billing_country is None
