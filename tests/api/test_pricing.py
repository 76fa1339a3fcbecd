"""Region-aware pricing: every region prices every plan and package in its own currency, by its rule."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from rules.pricing import CATALOG
from schemas.api import PLANS
from schemas.pricing import PricingCatalog, Region

REGIONS = sorted(CATALOG.regions)
PACKAGES = sorted(CATALOG.packages)


def prices(api: TestClient, region: str) -> dict[str, Any]:
    response = api.get("/api/pricing", params={"region": region})
    assert response.status_code == 200, response.text
    return response.json()


def amounts(body: dict[str, Any]) -> dict[str, int]:
    return {item["id"]: item["amount"] for item in body["plans"] + body["packages"]}


def test_fifteen_regions_are_listed_with_us_as_the_default(api: TestClient) -> None:
    response = api.get("/api/pricing/regions")

    assert response.status_code == 200
    listed = {r["code"]: r for r in response.json()}
    assert len(listed) == 15
    assert {"US", "GB", "DE", "FR", "CA", "AU", "JP", "IN", "BR", "MX", "NG", "ZA", "ID", "PH"} <= set(listed)
    assert listed["US"]["currency"] == "USD" and listed["US"]["ppp_factor"] == 1.0
    assert api.get("/api/pricing").json()["region"]["code"] == "US"


@pytest.mark.parametrize("region", REGIONS)
def test_every_region_prices_every_plan_and_package_in_its_own_currency(api: TestClient, region: str) -> None:
    body = prices(api, region)

    assert body["region"]["code"] == region and body["note"] is None
    currency = body["region"]["currency"]
    assert [p["id"] for p in body["plans"]] == list(PLANS)
    assert sorted(p["id"] for p in body["packages"]) == PACKAGES
    assert all(item["currency"] == currency for item in body["plans"] + body["packages"])
    priced = amounts(body)
    assert priced["free"] == 0
    assert all(amount > 0 for item_id, amount in priced.items() if item_id != "free")


@pytest.mark.parametrize("region", ["IN", "BR", "NG", "ZA", "MX"])
def test_lower_purchasing_power_regions_pay_less_in_usd_terms(api: TestClient, region: str) -> None:
    us = amounts(prices(api, "US"))

    body = prices(api, region)

    assert body["region"]["ppp_factor"] < 1
    for item in body["plans"] + body["packages"]:
        if item["id"] != "free":
            assert item["amount"] / body["region"]["fx_per_usd"] < us[item["id"]], item


@pytest.mark.parametrize("region", REGIONS)
def test_each_price_follows_the_regions_rounding_rule(api: TestClient, region: str) -> None:
    body = prices(api, region)
    where = body["region"]
    base = {i: float(p.usd_per_month) for i, p in CATALOG.plans.items()} | {
        i: float(p.usd) for i, p in CATALOG.packages.items()
    }
    step = {"whole": 1, "x9": 10, "hundreds": 100, "thousands": 1000}[where["rounding"]]

    for item_id, amount in amounts(body).items():
        if item_id == "free":
            continue
        exact = base[item_id] * where["ppp_factor"] * where["fx_per_usd"]
        assert abs(amount - exact) <= step / 2 + 1e-6, (item_id, amount, exact)
        if where["rounding"] == "x9":
            assert amount % 10 == 9, (item_id, amount)
        else:
            assert amount % step == 0, (item_id, amount)


def test_region_lookup_ignores_case(api: TestClient) -> None:
    lower, upper = prices(api, "in"), prices(api, "IN")

    assert lower == upper
    assert lower["region"]["currency"] == "INR"


def test_unknown_region_falls_back_to_us_prices_with_a_note(api: TestClient) -> None:
    body = prices(api, "xx")

    assert body["region"]["code"] == "US"
    assert body["note"] == "Unknown region 'XX'; showing US prices"
    assert amounts(body) == amounts(prices(api, "US"))


@pytest.mark.parametrize("region", ["USA", "U", "1N", ""])
def test_malformed_region_is_rejected_on_the_query_field(api: TestClient, region: str) -> None:
    response = api.get("/api/pricing", params={"region": region})

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    assert response.json()["field"] == "query.region"


def test_pricing_needs_no_credentials(api: TestClient) -> None:
    response = api.get("/api/pricing", params={"region": "BR"}, headers={"Authorization": "Bearer nonsense"})

    assert response.status_code == 200


def test_a_region_with_a_negative_factor_is_rejected() -> None:
    region = CATALOG.regions["IN"].model_dump() | {"ppp_factor": -0.35}

    with pytest.raises(ValidationError, match="ppp_factor"):
        Region.model_validate(region)


def test_a_catalog_that_charges_for_the_free_plan_is_rejected() -> None:
    data = CATALOG.model_dump()
    data["plans"]["free"]["usd_per_month"] = 5

    with pytest.raises(ValidationError, match="free plan costs 0"):
        PricingCatalog.model_validate(data)


def test_a_catalog_with_two_rates_for_one_currency_is_rejected() -> None:
    data = CATALOG.model_dump()
    data["regions"]["FR"]["fx_per_usd"] = 1.5

    with pytest.raises(ValidationError, match="two fx rates"):
        PricingCatalog.model_validate(data)
