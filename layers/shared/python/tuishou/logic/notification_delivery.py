"""Delivery of inbox items to push, SMS and WeChat: derived from the item (the fact), never from the call
that wrote it, so a crash between a feature's transaction and the delivery delays a notice, never loses it.

1. ``derive`` (NotificationStreamFunction, on the UsersTable stream's new inbox items) decides each
   channel (``decide``: preferences per kind, quiet hours, the SMS rules), records the decisions on the
   item (``queued`` or ``skipped`` with a reason) and sends one message per queued channel to its queue.
2. ``deliver`` (one DeliveryFunction per channel, on its queue) claims the (notification, channel) with a
   conditional update (``queued`` -> ``sending``), sends, and records the outcome: of every copy of a queue
   message and every replay of a stream record, exactly one delivers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tuishou import clock, settings
from tuishou.dal import devices, push, sms, wechat
from tuishou.dal import notifications as store
from tuishou.dal.streams import Change
from tuishou.logic.notifications import DEFAULT_QUIET_HOURS, NO_SMS_KINDS, verified_phone
from tuishou.models.notifications import DEFAULT_CHANNELS
from tuishou.observability import logger

DEFAULT_TIME_ZONE = "Asia/Shanghai"
# Channels that ring a phone: held back in quiet hours unless the notification is urgent.
QUIET_CHANNELS = frozenset({"push", "sms"})
URGENT_WITHIN = timedelta(hours=1)
QUEUED_CHANNELS = ("push", "sms", "wechat")
Decision = tuple[str, str | None]  # (status, reason)


# ---------------------------------------------------------------- deciding (pure)
def is_urgent(kind: str, data: Mapping[str, Any], now: datetime) -> bool:
    """A deadline reminder whose deadline is within the hour (and not past)."""
    if kind != "deadline_reminder" or not data.get("deadline"):
        return False
    return timedelta(0) <= clock.parse_iso(str(data["deadline"])) - now <= URGENT_WITHIN


def zone(time_zone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone or DEFAULT_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)


def in_quiet_hours(now: datetime, time_zone: str | None, quiet: tuple[str, str]) -> bool:
    """Whether ``now`` is within [start, end) local time; a window that wraps midnight (22:00-08:00) is
    the union of [start, 24:00) and [00:00, end). start == end: no quiet hours."""
    local = now.astimezone(zone(time_zone)).time()
    start, end = time.fromisoformat(quiet[0]), time.fromisoformat(quiet[1])
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def decide(
    kind: str, data: Mapping[str, Any], recipient: store.RecipientSettings, now: datetime
) -> dict[str, Decision]:
    """Per channel the recipient wants for ``kind`` (inapp aside: it is the item itself), ``queued`` or
    ``skipped`` with the rule that held it back."""
    chosen = recipient.kinds.get(kind)
    if chosen is None:
        chosen = recipient.channels if recipient.channels is not None else list(DEFAULT_CHANNELS)
    quiet = in_quiet_hours(now, recipient.time_zone, recipient.quiet_hours or DEFAULT_QUIET_HOURS)
    urgent = is_urgent(kind, data, now)
    decided: dict[str, Decision] = {}
    for channel in (c for c in QUEUED_CHANNELS if c in chosen):
        if channel == "sms" and settings.notifications().sms_delivery != "sns":
            decided[channel] = ("skipped", "sms_off")  # the deployment sends no SMS (SmsDelivery=off)
        elif channel == "sms" and kind in NO_SMS_KINDS:
            decided[channel] = ("skipped", "anonymous_traffic")
        elif channel == "sms" and not verified_phone(recipient.phone):
            decided[channel] = ("skipped", "no_verified_phone")
        elif channel in QUIET_CHANNELS and quiet and not urgent:
            decided[channel] = ("skipped", "quiet_hours")
        else:
            decided[channel] = ("queued", None)
    return decided


# ---------------------------------------------------------------- the stream consumer
def derive(changes: Sequence[Change]) -> None:
    """Route every new inbox item of ``changes``. Idempotent by notification and channel: a replayed
    record keeps the recorded decisions and its queue messages find their channel claimed."""
    for change in changes:
        if change.name != "INSERT" or change.new is None:
            continue
        found = store.inserted_inbox_item(change.new)
        if found is not None:
            route(*found)


def route(user_id: str, item: store.InboxItem) -> None:
    decided = decide(item.kind, item.data, store.recipient_settings(user_id), clock.now())
    if not store.record_decisions(user_id, item.notification_id, decided, clock.iso()):
        return  # the item is gone
    for channel, (status, _) in decided.items():
        if status == "queued":
            store.enqueue_delivery(queue_url(channel), user_id, item.notification_id, channel)
    logger.info("notification routed", extra={"notification_id": item.notification_id, "decided": decided})


def queue_url(channel: str) -> str:
    config = settings.notifications()
    return config.required({"push": "push_queue_url", "sms": "sms_queue_url", "wechat": "wechat_queue_url"}[channel])


# ---------------------------------------------------------------- the delivery functions
Sender = Callable[[str, store.InboxItem, datetime], Decision]


def deliver(user_id: str, notification_id: str, channel: str, expected_channel: str) -> None:
    """Claim, send, record. A send that raises puts the channel back to ``queued`` and re-raises, so the
    queue retries it (then dead-letters it); a deliverer that dies after claiming leaves a ``sending``
    claim that a retry takes over once its lease has passed."""
    if channel != expected_channel:  # a message on the wrong queue: this function may not send it
        raise ValueError(f"a {channel} delivery on the {expected_channel} queue")
    now = clock.now()
    stale_before = clock.iso(now - timedelta(seconds=settings.notifications().claim_lease_seconds))
    if not store.claim_delivery(user_id, notification_id, channel, clock.iso(now), stale_before):
        logger.info("delivery already claimed", extra={"notification_id": notification_id, "channel": channel})
        return
    item = store.get_inbox_item(user_id, notification_id)
    if item is None:  # the claim found it: only a deletion since then
        return
    try:
        status, reason = SENDERS[channel](user_id, item, now)
    except Exception:
        store.finish_delivery(user_id, notification_id, channel, "queued", clock.iso(), "retrying")
        raise
    store.finish_delivery(user_id, notification_id, channel, status, clock.iso(), reason)
    logger.info(
        "notification delivered",
        extra={"notification_id": notification_id, "channel": channel, "status": status, "reason": reason},
    )


def send_sms(user_id: str, item: store.InboxItem, now: datetime) -> Decision:
    recipient = store.recipient_settings(user_id)
    phone = verified_phone(recipient.phone)
    if phone is None:
        return "skipped", "no_verified_phone"
    local_day = now.astimezone(zone(recipient.time_zone)).date()
    expires_at = int((now + timedelta(days=2)).timestamp())
    cap = settings.notifications().sms_daily_cap
    if not store.take_sms_allowance(user_id, local_day.isoformat(), cap, expires_at):
        return "skipped", "daily_cap"
    sms.send_sms(phone, item.text)
    return "delivered", None


def send_push(user_id: str, item: store.InboxItem, _now: datetime) -> Decision:
    sent = 0
    for device in devices.devices_of(user_id):
        data = {"notification_id": item.notification_id, "kind": item.kind}
        if push.push(device, item.title, item.text, data):
            sent += 1
        else:  # SNS disabled the endpoint (the app was uninstalled or the token expired)
            devices.forget_device(user_id, device.device_id)
    return ("delivered", None) if sent else ("skipped", "no_device")


# WeChat answers that retrying cannot fix (docs/notifications.md): the user refused, a bad openid, bad data.
WECHAT_FINAL_ERRORS = {43101: "refused", 40003: "bad_openid", 47003: "bad_data"}


def send_wechat(user_id: str, item: store.InboxItem, _now: datetime) -> Decision:
    openid = wechat.openid_of(user_id)
    if openid is None:
        return "skipped", "not_bound"
    locale = store.recipient_settings(user_id).locale or "zh-CN"
    result = wechat.send(openid, item.kind, item.title, item.text, item.created_at, locale)
    if result.ok:
        return "delivered", None
    if result.errcode in WECHAT_FINAL_ERRORS:
        return "failed", WECHAT_FINAL_ERRORS[result.errcode]
    raise RuntimeError(f"wechat errcode {result.errcode}: {result.errmsg}")  # transient: the queue retries


SENDERS: dict[str, Sender] = {"sms": send_sms, "push": send_push, "wechat": send_wechat}


def handle_messages(event: Mapping[str, Any], channel: str) -> dict[str, list[dict[str, str]]]:
    """An SQS event of ``channel``'s queue: each message delivered; the ones that failed reported."""
    failures = []
    for record in event.get("Records") or []:
        try:
            deliver(*store.delivery_request(record["body"]), expected_channel=channel)
        except Exception:  # this message is retried by the queue (then dead-lettered); the others are done
            logger.exception("delivery failed", extra={"channel": channel, "message_id": record.get("messageId")})
            failures.append({"itemIdentifier": str(record.get("messageId", ""))})
    return {"batchItemFailures": failures}
