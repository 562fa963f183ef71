"""The one notifications module every feature uses: ``notify(user_id, kind, data)``; the text is rendered
from the kind's template in the recipient's locale and time zone (``logic.notification_texts``).

``notify`` writes the notification into the user's in-app inbox, and that item is the fact: delivery to
push, SMS and WeChat is derived from it (``logic.notification_delivery``: the UsersTable stream decides the
channels and queues one message per channel; one delivery function per channel sends it, exactly once).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, get_args

from pydantic import ValidationError

from tuishou import clock, ids
from tuishou.dal import notifications as store
from tuishou.dal import users
from tuishou.errors import Unprocessable
from tuishou.logic import notification_texts
from tuishou.models.notifications import (
    DATA_MODELS,
    DEFAULT_CHANNELS,
    DELIVERY_CHANNELS,
    Delivery,
    DeliveryChannel,
    NotificationItem,
    NotificationKind,
    NotificationPage,
    NotificationPreferencesView,
    QuietHours,
)
from tuishou.observability import logger

KINDS: frozenset[str] = frozenset(get_args(NotificationKind))
# Kinds an anonymous visitor can cause (a click on a share URL issues a coupon): never by SMS, whatever the
# preferences — SMS costs money per message and a reload loop must not be able to send them.
NO_SMS_KINDS: frozenset[str] = frozenset({"coupon_issued"})
# No push or SMS from 22:00 to 08:00 in the user's time zone unless they choose other hours.
DEFAULT_QUIET_HOURS = ("22:00", "08:00")


@dataclass(frozen=True)
class Sent:
    notification_id: str
    channels: list[DeliveryChannel]
    created_at: str
    data: dict[str, Any] = field(default_factory=dict)


# A phone SMS can be sent to: E.164, as the profile stores it.
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def verified_phone(phone: str | None) -> str | None:
    return phone if phone and E164.match(phone) else None


def delivery_channels(chosen: list[str] | None, phone: str | None) -> list[DeliveryChannel]:
    """inapp always; push, sms and wechat as chosen (default inapp + push); sms only with a verified phone."""
    wanted = set(chosen if chosen is not None else DEFAULT_CHANNELS) | {"inapp"}
    if not verified_phone(phone):
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
    """Write the inbox item, nothing else: 1 GetItem (the recipient's locale) and 1 PutItem. Its stream record
    delivers it on the other channels. The title and text are the kind's template in the recipient's locale
    and time zone. ``data`` must have its kind's shape (``models.notifications.DATA_MODELS``): a bad one fails
    here, in the feature that creates it, never in a later inbox read or delivery."""
    details = typed_data(kind, data)
    rendered = notification_texts.render(kind, details, *users.locale_of(user_id))
    title, body = rendered.title, rendered.body
    notification_id, created_at = notification_id or ids.new_id("ntf"), clock.iso()
    inapp = {"inapp": {"status": "delivered", "at": created_at}}
    item = store.InboxItem(notification_id, kind, body, created_at, False, details, title, inapp)
    store.put_inbox_item(user_id, item)
    logger.info("notification written", extra={"recipient": user_id, "kind": kind, "notification_id": notification_id})
    return Sent(notification_id, ["inapp"], created_at, details)


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
    deliveries = [
        Delivery.model_validate({"channel": channel, **item.deliveries[channel]})
        for channel in DELIVERY_CHANNELS
        if channel in item.deliveries
    ]
    return NotificationItem.model_validate({**asdict(item), "data": data, "deliveries": deliveries})


def mark_read(user_id: str, notification_id: str) -> None:
    if not ids.is_id(notification_id, "ntf"):
        raise Unprocessable("not a notification id", field="notification_id")
    store.mark_read(user_id, notification_id, clock.iso())


def preferences(user_id: str) -> NotificationPreferencesView:
    recipient = store.recipient_settings(user_id)
    quiet = recipient.quiet_hours or DEFAULT_QUIET_HOURS
    # The stored choice is plain strings: validated into the view's channel literals like any input.
    return NotificationPreferencesView.model_validate(
        {
            "channels": list(recipient.channels if recipient.channels is not None else DEFAULT_CHANNELS),
            "effective_channels": delivery_channels(recipient.channels, recipient.phone),
            "kinds": {kind: _with_inapp(chosen) for kind, chosen in recipient.kinds.items()},
            "quiet_hours": {"start": quiet[0], "end": quiet[1]},
        }
    )


def _with_inapp(channels: list[str]) -> list[str]:
    return [c for c in DELIVERY_CHANNELS if c in set(channels) | {"inapp"}]


def set_preferences(
    user_id: str,
    channels: list[str],
    kinds: Mapping[NotificationKind, Sequence[DeliveryChannel]] | None = None,
    quiet_hours: QuietHours | None = None,
) -> NotificationPreferencesView:
    per_kind = {str(kind): _with_inapp(list(chosen)) for kind, chosen in (kinds or {}).items()}
    quiet = (quiet_hours.start, quiet_hours.end) if quiet_hours else None
    store.put_preferences(user_id, _with_inapp(list(channels)), per_kind, quiet, clock.iso())
    return preferences(user_id)
