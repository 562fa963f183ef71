"""Channel bonus tasks: admin templates, a promoter's tasks with progress, and quota-rescue coupons."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from tuishou.models.common import check_amounts
from tuishou.money import MinorUnits, check_currency

Channel = Literal["wechat", "weibo", "douyin", "xiaohongshu", "qq", "sms", "other"]
TaskStatus = Literal["offered", "active", "completed", "expired"]
MAX_TARGET = 1000


class ChannelTaskTemplateIn(BaseModel):
    channel: Channel
    duration_hours: int = Field(ge=1, le=24 * 90, strict=True, description="Deadline = acceptance + this.")
    target_transactions: int | None = Field(default=None, ge=1, le=MAX_TARGET, strict=True)
    target_promotions: int | None = Field(default=None, ge=1, le=MAX_TARGET, strict=True)
    bonus_minor: MinorUnits = Field(gt=0, description="Bonus in minor units of `currency`.")
    currency: str = Field(description="ISO 4217 code, e.g. CNY.")
    reminder_threshold_hours: int = Field(
        ge=1, le=24 * 90, strict=True, description="Remind when less than this is left and the quota is unmet."
    )
    coupon_threshold: int = Field(
        default=0,
        ge=0,
        le=MAX_TARGET,
        strict=True,
        description="Coupons when target_transactions - counted <= this (0: none).",
    )
    coupon_value_minor: MinorUnits = Field(default=1, gt=0)

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        return check_currency(value)

    @model_validator(mode="after")
    def _amounts_within_the_currency_maximum(self) -> ChannelTaskTemplateIn:
        check_amounts(
            self,
            self.currency,
            [(("bonus_minor",), self.bonus_minor), (("coupon_value_minor",), self.coupon_value_minor)],
        )
        return self


class ChannelTaskTemplate(ChannelTaskTemplateIn):
    template_id: str
    created_at: str


class ChannelTaskTemplateList(BaseModel):
    items: list[ChannelTaskTemplate]


class Counts(BaseModel):
    transactions: int | None = None
    promotions: int | None = None


class ChannelTaskView(BaseModel):
    template_id: str
    task_id: str | None = None
    channel: Channel
    status: TaskStatus
    targets: Counts
    progress: Counts
    accepted_at: str | None = None
    deadline: str | None = Field(default=None, description="ISO 8601 UTC; null while only offered.")
    duration_hours: int
    bonus_minor: int
    currency: str
    completed_at: str | None = None


class ChannelTaskList(BaseModel):
    items: list[ChannelTaskView]


class MerchantCoupon(BaseModel):
    """A coupon as the merchant of its product checks it at checkout."""

    code: str
    status: Literal["valid", "redeemed", "expired"] = Field(
        description="valid: may be redeemed now; redeemed: a payment used it; expired: past expires_at unused."
    )
    value_minor: int = Field(description="The discount, in minor units of currency; the platform pays it back.")
    currency: str
    product_id: str
    expires_at: str = Field(description="ISO 8601 UTC; a payment at or after it does not redeem the coupon.")
    redeemed_at: str | None = None
    payment_id: str | None = Field(default=None, description="The provider's id of the payment that redeemed it.")


class Coupon(BaseModel):
    code: str
    click_id: str
    promoter_id: str
    task_id: str
    value_minor: int
    currency: str
    status: Literal["issued", "redeemed"]
    issued_at: str
    redeemed_at: str | None = None
