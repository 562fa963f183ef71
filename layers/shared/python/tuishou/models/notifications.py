"""Notifications: the fixed kinds, delivery channels, the in-app inbox and per-user preferences."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

NotificationKind = Literal[
    "deadline_reminder",
    "channel_bonus_completed",
    "coupon_issued",
    "low_performance",
    "raise_reward_hint",
    "compensation",
    "payout_paid",
    "payout_failed",
    "commission_under_review",
]
DeliveryChannel = Literal["inapp", "push", "sms", "wechat"]
DELIVERY_CHANNELS: tuple[DeliveryChannel, ...] = ("inapp", "push", "sms", "wechat")
DEFAULT_CHANNELS: tuple[DeliveryChannel, ...] = ("inapp", "push")
# queued: waiting in its channel's queue; sending: claimed by a delivery (a lease); delivered; skipped (by a
# rule: preferences, quiet hours, the SMS cap, no device...); failed (the provider refused it for good).
DeliveryStatus = Literal["queued", "sending", "delivered", "skipped", "failed"]
HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class _Data(BaseModel):
    """A kind's machine-readable details: a fixed shape, checked when the notification is created."""

    model_config = ConfigDict(extra="forbid")


class DeadlineReminderData(_Data):
    task_id: str
    template_id: str
    channel: str
    deadline: str = Field(description="ISO 8601 UTC.")
    remaining_transactions: int | None = None
    remaining_promotions: int | None = None


class ChannelBonusCompletedData(_Data):
    task_id: str
    template_id: str
    channel: str
    bonus_minor: int
    currency: str


class CouponIssuedData(_Data):
    """One notification per task and UTC hour, counting the coupons issued in it (coalesced)."""

    task_id: str
    channel: str
    value_minor: int
    currency: str
    coupons: int = Field(ge=1, description="Coupons issued for the task in this hour so far.")
    hour: str = Field(description="The UTC hour, YYYY-MM-DDTHH.")
    remaining_transactions: int | None = Field(None, description="Sales still to go on the task.")


class LowPerformanceTask(_Data):
    product_id: str
    title: str
    transactions: int | None = None
    promotions: int | None = None


class LowPerformanceData(_Data):
    signal: Literal["low_transactions", "low_promotions"]
    measure: Literal["transactions", "promotions"]
    threshold: int
    window_days: int
    first_day: str
    last_day: str
    tasks: list[LowPerformanceTask]


class SuggestedRewardData(_Data):
    type: Literal["percent", "fixed"]
    value: int = Field(description="Basis points (percent) or minor units (fixed).")


class CurrentRewardData(SuggestedRewardData):
    source: Literal["promoter_override", "tag_rule"]


class RaiseRewardHintData(_Data):
    promoter_id: str
    promoter_name: str
    product_id: str
    title: str
    sales: int
    window_days: int
    first_category: str
    task_category: str
    relevance: str = Field(description="The relevance coefficient as decimal text, e.g. 0.3333.")
    currency: str
    current_reward: CurrentRewardData
    current_commission_minor: int
    suggested_reward: SuggestedRewardData
    suggested_commission_minor: int


class CompensationData(_Data):
    event_id: str
    type: str
    amount_minor: int
    currency: str
    occurred_at: str | None = Field(None, description="ISO 8601 UTC: when the held-back event happened.")


class PayoutData(_Data):
    """A payout that ended: paid, or failed (the provider's reason) with its money available again."""

    payout_id: str
    amount_minor: int
    currency: str
    reason: str | None = Field(None, description="payout_failed: the provider's code, e.g. PAYEE_NOT_EXIST.")


class CommissionUnderReviewData(_Data):
    """Only the amount and the day: never why (that would teach a fraudster which rule to avoid)."""

    commission_minor: int
    currency: str
    occurred_at: str = Field(description="ISO 8601 UTC: when the sale was paid.")


NotificationData = (
    DeadlineReminderData
    | ChannelBonusCompletedData
    | CouponIssuedData
    | LowPerformanceData
    | RaiseRewardHintData
    | CompensationData
    | PayoutData
    | CommissionUnderReviewData
)
DATA_MODELS: dict[str, type[NotificationData]] = {
    "deadline_reminder": DeadlineReminderData,
    "channel_bonus_completed": ChannelBonusCompletedData,
    "coupon_issued": CouponIssuedData,
    "low_performance": LowPerformanceData,
    "raise_reward_hint": RaiseRewardHintData,
    "compensation": CompensationData,
    "payout_paid": PayoutData,
    "payout_failed": PayoutData,
    "commission_under_review": CommissionUnderReviewData,
}


class Delivery(BaseModel):
    channel: DeliveryChannel
    status: DeliveryStatus
    at: str = Field(description="ISO 8601 UTC of the last status change.")
    reason: str | None = Field(None, description="Why it was skipped or failed, e.g. `quiet_hours`, `daily_cap`.")


class NotificationItem(BaseModel):
    notification_id: str
    kind: NotificationKind
    title: str = ""
    text: str
    created_at: str = Field(description="ISO 8601 UTC.")
    read: bool
    data: NotificationData | None = Field(None, description="Machine-readable details; the shape of `kind`.")
    deliveries: list[Delivery] = Field(
        default_factory=list, description="One entry per channel the notification was considered for."
    )


class NotificationPage(BaseModel):
    items: list[NotificationItem]
    next_cursor: str | None = None


def _unique(channels: list[DeliveryChannel]) -> list[DeliveryChannel]:
    if len(set(channels)) != len(channels):
        raise ValueError("channels must not repeat")
    return channels


class QuietHours(BaseModel):
    """No SMS or push from ``start`` to ``end`` (local time in the user's time zone; may wrap midnight)."""

    model_config = ConfigDict(extra="forbid")
    start: str = Field(pattern=HHMM)
    end: str = Field(pattern=HHMM)


class NotificationPreferences(BaseModel):
    channels: list[DeliveryChannel] = Field(
        min_length=1,
        max_length=4,
        description="Delivery channels. `inapp` (the inbox) is always on; `push` goes to registered devices; "
        "`sms` (opt-in) to the verified phone on the profile; `wechat` to the bound WeChat account.",
    )
    kinds: dict[NotificationKind, list[DeliveryChannel]] | None = Field(
        None, description="Per kind, the channels replacing `channels` for that kind (inapp stays on)."
    )
    quiet_hours: QuietHours | None = Field(None, description="Default 22:00-08:00 in the user's time zone.")

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, channels: list[DeliveryChannel]) -> list[DeliveryChannel]:
        return _unique(channels)

    @field_validator("kinds")
    @classmethod
    def _unique_per_kind(
        cls, kinds: dict[NotificationKind, list[DeliveryChannel]] | None
    ) -> dict[NotificationKind, list[DeliveryChannel]] | None:
        for channels in (kinds or {}).values():
            _unique(channels)
        return kinds


class NotificationPreferencesView(BaseModel):
    channels: list[DeliveryChannel] = Field(description="What the user chose (default inapp + push).")
    effective_channels: list[DeliveryChannel] = Field(
        description="Channels used now: inapp always; sms only with a verified phone on the profile."
    )
    kinds: dict[NotificationKind, list[DeliveryChannel]] = Field(
        default_factory=dict, description="Per-kind choices replacing `channels`."
    )
    quiet_hours: QuietHours


class MarkedRead(BaseModel):
    notification_id: str
    read: bool = True
