"""Bodies of the merchant-insights routes: per-promoter reward overrides and product stats."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class RewardOverride(BaseModel):
    product_id: str
    promoter_id: str
    type: Literal["percent", "fixed"]
    value: int = Field(description="percent: basis points; fixed: minor units of the product currency.")
    updated_at: str


class Activity(BaseModel):
    clicks: int = 0
    promotions: int = 0
    transactions: int = 0
    revenue_minor: int = Field(default=0, description="Sales amount (before refunds), minor units.")
    commission_minor: int = Field(
        default=0, description="Commission paid to promoters (before clawbacks), minor units."
    )
    conversion_rate: str | None = Field(
        default=None, description="transactions / clicks as a decimal string with 4 places (null without clicks)."
    )
    conversion_rate_bps: int | None = Field(
        default=None, description="The same in basis points, rounded half-even (null without clicks)."
    )


class DayActivity(Activity):
    day: str = Field(description="UTC day, YYYY-MM-DD.")


class PromoterActivity(Activity):
    promoter_id: str


class ChannelActivity(Activity):
    channel: str


class ProductStats(BaseModel):
    product_id: str
    currency: str
    days: int
    first_day: str
    last_day: str = Field(description="Today (UTC): the window includes the current, partial day.")
    totals: Activity
    per_day: list[DayActivity] = Field(description="One entry per day of the window, oldest first (zeros included).")
    top_promoters: list[PromoterActivity] = Field(description="By transactions, then revenue, then clicks.")
    top_channels: list[ChannelActivity] = Field(description="By transactions, then revenue, then clicks.")
