"""Public, region-aware prices for the pricing page: plans and done-for-you packages. No auth."""

from typing import Annotated

from fastapi import APIRouter, Query

from rules.pricing import price_list, regions
from schemas.pricing import PriceList, RegionPublic

router = APIRouter(prefix="/api/pricing", tags=["pricing"])

RegionQuery = Annotated[
    str | None, Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166 alpha-2 code, any case; default US")
]


@router.get("")
async def get_price_list(region: RegionQuery = None) -> PriceList:
    """Every plan and package in the region's currency; an unknown region answers US prices and a note."""
    return price_list(region)


@router.get("/regions")
async def list_regions() -> list[RegionPublic]:
    """The priced regions with currency, purchasing-power factor, tier and rounding rule."""
    return regions()
