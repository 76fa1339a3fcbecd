"""Region-aware prices as data: `pricing.json` is validated once at import and priced per region.

A local price is base USD × the region's purchasing-power factor × its fixed fx snapshot, rounded by
the region's rule. The free plan costs 0 everywhere. An unknown region falls back to the default one.
"""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from schemas.api import PLANS

RegionCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Rounding = Literal["whole", "x9", "hundreds", "thousands"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Region(_Strict):
    name: str = Field(min_length=1)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    fx_per_usd: Decimal = Field(gt=0, description="Units of local currency per 1 USD, fixed snapshot")
    ppp_factor: Decimal = Field(gt=0, le=2)
    tier: int = Field(ge=1, le=3, description="1 full price, 2 moderate discount, 3 deep discount")
    rounding: Rounding


class Plan(_Strict):
    name: str = Field(min_length=1)
    usd_per_month: Decimal = Field(ge=0)


class Package(_Strict):
    name: str = Field(min_length=1)
    usd: Decimal = Field(gt=0)


class PricingCatalog(_Strict):
    default_region: RegionCode
    fx_as_of: date
    plans: dict[str, Plan]
    packages: dict[Annotated[str, StringConstraints(pattern=r"^dfy_[a-z_]+$")], Package] = Field(min_length=1)
    regions: dict[RegionCode, Region] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if set(self.plans) != set(PLANS):
            raise ValueError(f"plans must be exactly {', '.join(PLANS)}")
        if self.plans["free"].usd_per_month != 0:
            raise ValueError("the free plan costs 0")
        if any(plan.usd_per_month <= 0 for plan_id, plan in self.plans.items() if plan_id != "free"):
            raise ValueError("every paid plan has a positive price")
        home = self.regions.get(self.default_region)
        if home is None or home.currency != "USD" or home.fx_per_usd != 1 or home.ppp_factor != 1:
            raise ValueError("the default region must exist and price in USD at fx 1 and ppp 1")
        rates: dict[str, Decimal] = {}
        for code, region in self.regions.items():
            if rates.setdefault(region.currency, region.fx_per_usd) != region.fx_per_usd:
                raise ValueError(f"{code}: {region.currency} has two fx rates in one snapshot")
        return self


class RegionPublic(BaseModel):
    code: str
    name: str
    currency: str
    ppp_factor: float
    tier: int
    rounding: Rounding
    fx_per_usd: float
    fx_as_of: date


class ItemPrice(BaseModel):
    id: str
    name: str
    kind: Literal["plan", "package"]
    interval: Literal["month", "one_off"]
    amount: int
    currency: str
    usd_equivalent: float


class PriceList(BaseModel):
    region: RegionPublic
    plans: list[ItemPrice]
    packages: list[ItemPrice]
    note: str | None = None
