"""The one notifications module every feature uses: ``notify(user_id, kind, text, data)``.

Each notification lands in the user's in-app inbox and is published to the SNS notifications topic once
per delivery channel, with message attributes ``channel`` (inapp | push | sms), ``recipient`` (the user
id, never a phone number) and ``kind``. Channel-filtered subscribers deliver push and SMS.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, get_args

from tuishou import clock, ids
from tuishou.dal import notifications as store
from tuishou.errors import Unprocessable
from tuishou.models.notifications import (
    DEFAULT_CHANNELS,
    DELIVERY_CHANNELS,
    NotificationItem,
    NotificationKind,
    NotificationPage,
    NotificationPreferencesView,
)
from tuishou.observability import logger

KINDS: frozenset[str] = frozenset(get_args(NotificationKind))


@dataclass(frozen=True)
class Sent:
    notification_id: str
    channels: list[str]
    created_at: str
    data: dict[str, Any] = field(default_factory=dict)


def delivery_channels(chosen: list[str] | None, phone: str | None) -> list[str]:
    """inapp always; push and sms as chosen (default inapp + push); sms only with a phone on the profile."""
    wanted = set(chosen if chosen is not None else DEFAULT_CHANNELS) | {"inapp"}
    if not phone:
        wanted.discard("sms")
    return [c for c in DELIVERY_CHANNELS if c in wanted]


def notify(user_id: str, kind: str, text: str, data: dict[str, Any] | None = None) -> Sent:
    """Write the inbox item, then publish one message per channel. Requests: 1 BatchGetItem, 1 PutItem,
    one SNS Publish per channel (plus a direct SMS publish when TUISHOU_SMS_DELIVERY=sns)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    chosen, phone = store.recipient_settings(user_id)
    channels = delivery_channels(chosen, phone)
    notification_id, created_at = ids.new_id("ntf"), clock.iso()
    details = {k: v for k, v in (data or {}).items() if v is not None}
    store.put_inbox_item(user_id, {"notification_id": notification_id, "kind": kind, "text": text,
                                   "created_at": created_at, "read": False, "data": details})
    for channel in channels:
        store.publish(channel, user_id, kind, notification_id, text)
    if "sms" in channels and phone and os.environ.get("TUISHOU_SMS_DELIVERY") == "sns":
        store.send_sms(phone, text)
    logger.info("notification sent", extra={"recipient": user_id, "kind": kind, "channels": channels,
                                            "notification_id": notification_id})
    return Sent(notification_id, channels, created_at, details)


def inbox(user_id: str, limit: int, cursor: str | None) -> NotificationPage:
    items, next_cursor = store.list_inbox(user_id, limit, cursor)
    return NotificationPage(items=[NotificationItem(
        notification_id=i["notification_id"], kind=i["kind"], text=i["text"], created_at=i["created_at"],
        read=bool(i.get("read")), data=i.get("data") or {}) for i in items], next_cursor=next_cursor)


def mark_read(user_id: str, notification_id: str) -> None:
    if not ids.is_id(notification_id, "ntf"):
        raise Unprocessable("not a notification id", field="notification_id")
    store.mark_read(user_id, notification_id, clock.iso())


def preferences(user_id: str) -> NotificationPreferencesView:
    chosen, phone = store.recipient_settings(user_id)
    return NotificationPreferencesView(channels=list(chosen if chosen is not None else DEFAULT_CHANNELS),
                                       effective_channels=delivery_channels(chosen, phone))


def set_preferences(user_id: str, channels: list[str]) -> NotificationPreferencesView:
    ordered = [c for c in DELIVERY_CHANNELS if c in set(channels) | {"inapp"}]
    store.put_preferences(user_id, ordered, clock.iso())
    return preferences(user_id)
