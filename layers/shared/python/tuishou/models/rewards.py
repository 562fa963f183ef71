"""Reward rules: what a task pays a promoter tag (or, by override, one promoter)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from tuishou.money import MAX_MINOR

TAG_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"


class RewardTerms(BaseModel):
    """What a reward pays: a percent in basis points or a fixed amount, range-checked."""

    type: Literal["percent", "fixed"]
    value: int = Field(
        description="percent: basis points 1..10000; fixed: minor units of the product currency "
        "(1..`money.max_minor(currency)`).",
        strict=True,
        ge=1,
        le=MAX_MINOR,
    )

    @field_validator("value")
    @classmethod
    def _value_in_range(cls, value: int, info: ValidationInfo) -> int:
        # A field validator (not a model validator) so the error names `value`, not the whole rule.
        return check_reward_value(info.data.get("type"), value)


class RewardRule(RewardTerms):
    promoter_tag: str = Field(pattern=TAG_PATTERN, description="Promoter tag this rule pays, e.g. `standard`.")


def check_reward_value(rule_type: str | None, value: int) -> int:
    """The one range rule of reward values, shared by tag rules and per-promoter overrides."""
    if rule_type == "percent" and not 1 <= value <= 10_000:
        raise ValueError("percent rules take basis points 1..10000")
    if rule_type == "fixed" and value < 1:
        raise ValueError("fixed rules take a positive amount in minor units")
    return value


class RewardOverrideBody(RewardTerms):
    """A merchant's reward for one promoter on one product; validated exactly like a tag rule."""
