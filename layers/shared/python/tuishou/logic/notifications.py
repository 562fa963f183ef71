"""The one notifications module every feature uses: ``notify(user_id, kind, data)``; the text is rendered
from the kind's template in the recipient's locale and time zone (``logic.notification_texts``).

Each notification lands in the user's in-app inbox and is published to the SNS notifications topic once
per delivery channel, with message attributes ``channel`` (inapp | push | sms), ``recipient`` (the user
id, never a phone number) and ``kind``. Channel-filtered subscribers deliver push and SMS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, get_args

from pydantic import ValidationError

from tuishou import clock, ids, settings
from tuishou.dal import notifications as store
from tuishou.dal import users
from tuishou.errors import Unprocessable
from tuishou.logic import notification_texts
from tuishou.models.notifications import (
    DATA_MODELS,
    DEFAULT_CHANNELS,
    DELIVERY_CHANNELS,
    DeliveryChannel,
    NotificationItem,
    NotificationKind,
    NotificationPage,
    NotificationPreferencesView,
)
from tuishou.observability import logger

KINDS: frozenset[str] = frozenset(get_args(NotificationKind))
# Kinds an anonymous visitor can cause (a click on a share URL issues a coupon): never by SMS, whatever the
# preferences — SMS costs money per message and a reload loop must not be able to send them.
NO_SMS_KINDS: frozenset[str] = frozenset({"coupon_issued"})


@dataclass(frozen=True)
class Sent:
    notification_id: str
    channels: list[DeliveryChannel]
    created_at: str
    data: dict[str, Any] = field(default_factory=dict)


def delivery_channels(chosen: list[str] | None, phone: str | None) -> list[DeliveryChannel]:
    """inapp always; push and sms as chosen (default inapp + push); sms only with a phone on the profile."""
    wanted = set(chosen if chosen is not None else DEFAULT_CHANNELS) | {"inapp"}
    if not phone:
        wanted.discard("sms")
    return [c for c in DELIVERY_CHANNELS if c in wanted]


def typed_data(kind: str, data: dict[str, Any] | None) -> dict[str, Any]:
    """``data`` checked against its kind's model (ValueError otherwise), as stored: None values dropped."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if not data:
        return {}
    return DATA_MODELS[kind].model_validate(data).model_dump(mode="json", exclude_none=True)


def notify(user_id: str, kind: str, data: dict[str, Any] | None = None, *, notification_id: str | None = None) -> Sent:
    """Write the inbox item, then publish one message per channel. Requests: 1 BatchGetItem, 1 GetItem (the
    locale), 1 PutItem,
    one SNS Publish per channel (plus a direct SMS publish when TUISHOU_SMS_DELIVERY=sns). ``data`` must
    have its kind's shape (``models.notifications.DATA_MODELS``): a bad one fails here, in the feature
    that creates it, never in a later inbox read."""
    details = typed_data(kind, data)
    text = notification_texts.render(kind, details, *users.locale_of(user_id)).body
    chosen, phone = store.recipient_settings(user_id)
    channels = [c for c in delivery_channels(chosen, phone) if not (c == "sms" and kind in NO_SMS_KINDS)]
    notification_id, created_at = notification_id or ids.new_id("ntf"), clock.iso()
    store.put_inbox_item(user_id, store.InboxItem(notification_id, kind, text, created_at, read=False, data=details))
    for channel in channels:
        store.publish(channel, user_id, kind, notification_id, text)
    if "sms" in channels and phone and settings.notifications().sms_delivery == "sns":
        store.send_sms(phone, text)
    logger.info(
        "notification sent",
        extra={"recipient": user_id, "kind": kind, "channels": channels, "notification_id": notification_id},
    )
    return Sent(notification_id, channels, created_at, details)


def notify_coalesced(
    user_id: str, kind: str, notice: store.CoalescingNotice, data_for: Callable[[int], dict[str, Any]]
) -> Sent | None:
    """One notification per ``notice`` (e.g. per task and hour), counting what it coalesces: the
    first occurrence notifies as usual, every later one only raises the count and rewrites the inbox
    item's text and data from ``data_for(count)`` — no new publish, so a burst is told once. Requests: 1
    UpdateItem, then ``notify``'s (first) or 1 GetItem and 1 UpdateItem (later)."""
    count, notification_id = store.count_into_notice(notice, ids.new_id("ntf"))
    data = data_for(count)
    if count == 1:
        return notify(user_id, kind, data, notification_id=notification_id)
    details = typed_data(kind, data)
    text = notification_texts.render(kind, details, *users.locale_of(user_id)).body
    store.revise_inbox_item(user_id, notification_id, text, details, clock.iso())
    return None


def inbox(user_id: str, limit: int, cursor: str | None) -> NotificationPage:
    items, next_cursor = store.list_inbox(user_id, limit, cursor)
    return NotificationPage(items=[_inbox_item(i) for i in items], next_cursor=next_cursor)


def _inbox_item(item: store.InboxItem) -> NotificationItem:
    """Data was checked when created; one stored before that check that does not fit its kind is shown
    without its data (logged) rather than failing the whole page."""
    data = None
    if item.data:
        try:
            data = DATA_MODELS[item.kind].model_validate(item.data)
        except ValidationError:
            logger.warning(
                "notification data does not fit its kind",
                extra={"notification_id": item.notification_id, "kind": item.kind},
            )
    return NotificationItem.model_validate({**asdict(item), "data": data})


def mark_read(user_id: str, notification_id: str) -> None:
    if not ids.is_id(notification_id, "ntf"):
        raise Unprocessable("not a notification id", field="notification_id")
    store.mark_read(user_id, notification_id, clock.iso())


def preferences(user_id: str) -> NotificationPreferencesView:
    chosen, phone = store.recipient_settings(user_id)
    # The stored choice is plain strings: validated into the view's channel literals like any input.
    return NotificationPreferencesView.model_validate(
        {
            "channels": list(chosen if chosen is not None else DEFAULT_CHANNELS),
            "effective_channels": delivery_channels(chosen, phone),
        }
    )


def set_preferences(user_id: str, channels: list[str]) -> NotificationPreferencesView:
    ordered = [c for c in DELIVERY_CHANNELS if c in set(channels) | {"inapp"}]
    store.put_preferences(user_id, ordered, clock.iso())
    return preferences(user_id)
