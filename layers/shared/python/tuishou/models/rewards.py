"""Reward rules: what a task pays a promoter tag (or, by override, one promoter)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

TAG_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"


class RewardRule(BaseModel):
    promoter_tag: str = Field(pattern=TAG_PATTERN, description="Promoter tag this rule pays, e.g. `standard`.")
    type: Literal["percent", "fixed"]
    value: int = Field(description="percent: basis points 1..10000; fixed: minor units of the product currency (>0).",
                       strict=True)

    @model_validator(mode="after")
    def _value_in_range(self) -> RewardRule:
        if self.type == "percent" and not 1 <= self.value <= 10_000:
            raise ValueError("value: percent rules take basis points 1..10000")
        if self.type == "fixed" and self.value < 1:
            raise ValueError("value: fixed rules take a positive amount in minor units")
        return self
