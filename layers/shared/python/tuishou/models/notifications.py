"""Notifications: the fixed kinds, delivery channels, the in-app inbox and per-user preferences."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

NotificationKind = Literal["deadline_reminder", "channel_bonus_completed", "coupon_issued", "low_performance",
                           "raise_reward_hint", "compensation"]
DeliveryChannel = Literal["inapp", "push", "sms"]
DELIVERY_CHANNELS: tuple[str, ...] = ("inapp", "push", "sms")
DEFAULT_CHANNELS: tuple[str, ...] = ("inapp", "push")


class NotificationItem(BaseModel):
    notification_id: str
    kind: NotificationKind
    text: str
    created_at: str = Field(description="ISO 8601 UTC.")
    read: bool
    data: dict[str, str | int | None] = Field(default_factory=dict, description="Machine-readable details.")


class NotificationPage(BaseModel):
    items: list[NotificationItem]
    next_cursor: str | None = None


class NotificationPreferences(BaseModel):
    channels: list[DeliveryChannel] = Field(
        min_length=1, max_length=3,
        description="Delivery channels. `inapp` (the inbox) is always on; `push` goes to registered devices; "
                    "`sms` (opt-in) to the phone on the profile.")

    @field_validator("channels")
    @classmethod
    def _unique(cls, channels: list[str]) -> list[str]:
        if len(set(channels)) != len(channels):
            raise ValueError("channels must not repeat")
        return channels


class NotificationPreferencesView(BaseModel):
    channels: list[DeliveryChannel] = Field(description="What the user chose (default inapp + push).")
    effective_channels: list[DeliveryChannel] = Field(description="Channels used now: inapp always; sms only "
                                                                  "with a phone on the profile.")


class MarkedRead(BaseModel):
    notification_id: str
    read: bool = True
