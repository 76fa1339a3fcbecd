"""Prices per region: the catalog (`pricing.json`), purchasing-power adjustment and rounding."""

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Literal

from schemas.pricing import ItemPrice, PriceList, PricingCatalog, Region, RegionPublic, Rounding

# Each rule's step, also the smallest price it gives a paid item (9 for "x9"), so none rounds to 0.
_STEPS: dict[Rounding, int] = {"whole": 1, "x9": 10, "hundreds": 100, "thousands": 1000}


def round_price(value: Decimal, rule: Rounding) -> int:
    """`value` rounded half-up to the rule's step; "x9" to the nearest whole number ending in 9."""
    step = _STEPS[rule]
    if rule == "x9":
        return max(9, int(((value + 1) / step).quantize(Decimal(1), ROUND_HALF_UP)) * step - 1)
    return max(step, int((value / step).quantize(Decimal(1), ROUND_HALF_UP)) * step)


def local_price(usd: Decimal, region: Region) -> int:
    """The price of `usd` in `region`'s currency; 0 stays 0."""
    return 0 if usd == 0 else round_price(usd * region.ppp_factor * region.fx_per_usd, region.rounding)


def regions() -> list[RegionPublic]:
    """Every priced region, in the file's order."""
    return [_public(code, region) for code, region in CATALOG.regions.items()]


def price_list(region: str | None) -> PriceList:
    """Every plan and package priced for `region` (any case); an unknown one gets the default and a note."""
    code = (region or CATALOG.default_region).upper()
    note = None
    if code not in CATALOG.regions:
        note = f"Unknown region '{code}'; showing {CATALOG.default_region} prices"
        code = CATALOG.default_region
    where = CATALOG.regions[code]
    plans = [_item(i, p.name, "plan", p.usd_per_month, where) for i, p in CATALOG.plans.items()]
    packages = [_item(i, p.name, "package", p.usd, where) for i, p in CATALOG.packages.items()]
    return PriceList(region=_public(code, where), plans=plans, packages=packages, note=note)


def _item(item_id: str, name: str, kind: Literal["plan", "package"], usd: Decimal, where: Region) -> ItemPrice:
    amount = local_price(usd, where)
    return ItemPrice(
        id=item_id,
        name=name,
        kind=kind,
        interval="month" if kind == "plan" else "one_off",
        amount=amount,
        currency=where.currency,
        usd_equivalent=round(float(amount / where.fx_per_usd), 2),
    )


def _public(code: str, region: Region) -> RegionPublic:
    return RegionPublic(
        code=code,
        name=region.name,
        currency=region.currency,
        ppp_factor=float(region.ppp_factor),
        tier=region.tier,
        rounding=region.rounding,
        fx_per_usd=float(region.fx_per_usd),
        fx_as_of=CATALOG.fx_as_of,
    )


CATALOG = PricingCatalog.model_validate_json(Path(__file__).with_name("pricing.json").read_text())
