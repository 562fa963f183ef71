"""Notifications data access: a recipient's settings (one BatchGetItem), the in-app inbox item (the fact)
with its per-channel ``deliveries`` (decisions, claims, outcomes), the SMS daily allowance and the
per-channel delivery queues."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from tuishou.dal import clients, dynamo, keys
from tuishou.errors import BadRequest, NotFound

_INBOX_CURSOR_KEYS = {"pk", "sk"}


@dataclass(frozen=True)
class InboxItem:
    """One notification in a user's in-app inbox; ``data`` has its kind's shape as it was checked when
    the notification was created; ``deliveries`` maps each channel considered to ``{status, at, reason}``."""

    notification_id: str
    kind: str
    text: str
    created_at: str
    read: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    deliveries: dict[str, dict[str, Any]] = field(default_factory=dict)


def _inbox_item(item: dict[str, Any]) -> InboxItem:
    return InboxItem(
        notification_id=item["notification_id"],
        kind=item["kind"],
        text=item["text"],
        created_at=item["created_at"],
        read=bool(item.get("read")),
        data=item.get("data") or {},
        title=item.get("title") or "",
        deliveries=item.get("deliveries") or {},
    )


@dataclass(frozen=True)
class RecipientSettings:
    """What deciding a notification's channels reads about its recipient (one BatchGetItem)."""

    channels: list[str] | None  # None: the default
    kinds: dict[str, list[str]]
    quiet_hours: tuple[str, str] | None  # (start, end) local "HH:MM"; None: the default
    phone: str | None
    time_zone: str | None  # None: the default
    locale: str | None  # None: the default


def recipient_settings(user_id: str) -> RecipientSettings:
    """Preferences, the profile's phone and the user's time zone in one BatchGetItem."""
    wanted = [keys.notification_preferences(user_id), keys.profile(user_id), keys.user_locale(user_id)]
    found = dynamo.batch_get(
        {"users": wanted},
        projection="pk, sk, channels, kinds, quiet_start, quiet_end, phone, time_zone, locale",
    )
    by_sk = {sk: item for (_, _, sk), item in found.items()}
    prefs = by_sk.get(wanted[0][1])
    profile = by_sk.get(wanted[1][1]) or {}
    locale = by_sk.get(wanted[2][1]) or {}
    quiet = (prefs["quiet_start"], prefs["quiet_end"]) if prefs and prefs.get("quiet_start") else None
    return RecipientSettings(
        channels=list(prefs["channels"]) if prefs else None,
        kinds={kind: list(chosen) for kind, chosen in ((prefs or {}).get("kinds") or {}).items()},
        quiet_hours=quiet,
        phone=profile.get("phone") or None,
        time_zone=locale.get("time_zone") or None,
        locale=locale.get("locale") or None,
    )


def put_preferences(
    user_id: str,
    channels: Sequence[str],
    kinds: Mapping[str, Sequence[str]],
    quiet_hours: tuple[str, str] | None,
    updated_at: str,
) -> None:
    pk, sk = keys.notification_preferences(user_id)
    item: dict[str, Any] = {"pk": pk, "sk": sk, "channels": list(channels), "updated_at": updated_at}
    if kinds:
        item["kinds"] = {kind: list(chosen) for kind, chosen in kinds.items()}
    if quiet_hours:
        item["quiet_start"], item["quiet_end"] = quiet_hours
    dynamo.put("users", item)


def put_inbox_item(user_id: str, item: InboxItem) -> None:
    pk, sk = keys.notification(user_id, item.notification_id)
    dynamo.put("users", {"pk": pk, "sk": sk, **asdict(item)}, ConditionExpression="attribute_not_exists(pk)")


@dataclass(frozen=True)
class CoalescingNotice:
    """Where one coalescing notification counts what it coalesces (built here from domain values)."""

    key: tuple[str, str]


def coupon_notice(promoter_id: str, task_id: str, hour_bucket: str) -> CoalescingNotice:
    """The one ``coupon_issued`` notice of a promoter's task in a UTC hour."""
    return CoalescingNotice(keys.coupon_notice(promoter_id, task_id, hour_bucket))


def count_into_notice(notice: CoalescingNotice, new_notification_id: str) -> tuple[int, str]:
    """+1 on a coalescing notice item (one UpdateItem): the count so far and the notification it names —
    ``new_notification_id`` when this call created it (count 1), the first caller's otherwise."""
    item = dynamo.update(
        "users",
        notice.key,
        UpdateExpression="ADD #count :one SET notification_id = if_not_exists(notification_id, :id)",
        ExpressionAttributeNames={"#count": "count"},
        ExpressionAttributeValues={":one": {"N": "1"}, ":id": {"S": new_notification_id}},
        ReturnValues="ALL_NEW",
    )
    return int(item["count"]), item["notification_id"]


def revise_inbox_item(user_id: str, notification_id: str, text: str, data: dict[str, Any], at: str) -> bool:
    """Replace an inbox item's text and data (it stays unread if it was). False when it does not exist
    (yet: its first writer has not put it)."""
    return (
        dynamo.conditional_update(
            TableName=dynamo.table("users"),
            Key=dynamo.key(*keys.notification(user_id, notification_id)),
            UpdateExpression="SET #text = :text, #data = :data, revised_at = :at",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#text": "text", "#data": "data"},
            ExpressionAttributeValues={":text": {"S": text}, ":data": dynamo.to_value(data), ":at": {"S": at}},
        )
        is not None
    )


def list_inbox(user_id: str, limit: int, cursor: str | None) -> tuple[list[InboxItem], str | None]:
    """Newest first, one Query."""
    start = dynamo.decode_cursor(cursor, allowed_keys=_INBOX_CURSOR_KEYS)
    pk = keys.notification(user_id, "")[0]
    if start and start["pk"]["S"] != pk:  # another user's cursor
        raise BadRequest("malformed cursor", field="cursor")
    args: dict[str, Any] = {
        "TableName": dynamo.table("users"),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": keys.NOTIFICATION_PREFIX}},
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start:
        args["ExclusiveStartKey"] = start
    items, next_cursor = dynamo.query_page(**args)
    return [_inbox_item(i) for i in items], next_cursor


def mark_read(user_id: str, notification_id: str, read_at: str) -> None:
    """One conditional UpdateItem; 404 when the user has no such notification."""
    marked = dynamo.conditional_update(
        TableName=dynamo.table("users"),
        Key=dynamo.key(*keys.notification(user_id, notification_id)),
        UpdateExpression="SET #read = :true, read_at = if_not_exists(read_at, :at)",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames={"#read": "read"},
        ExpressionAttributeValues={":true": {"BOOL": True}, ":at": {"S": read_at}},
    )
    if marked is None:
        raise NotFound("no such notification", field="notification_id")


def get_inbox_item(user_id: str, notification_id: str) -> InboxItem | None:
    """One consistent GetItem (a delivery reads what the stream saw, never an older copy)."""
    found = dynamo.get("users", keys.notification(user_id, notification_id), consistent=True)
    return _inbox_item(found) if found else None


def inserted_inbox_item(image: Mapping[str, Any]) -> tuple[str, InboxItem] | None:
    """(recipient, item) of a stream image when it is an inbox item, else None."""
    pk, sk = str(image.get("pk", "")), str(image.get("sk", ""))
    if not (pk.startswith(keys.USER_PREFIX) and sk.startswith(keys.NOTIFICATION_PREFIX)):
        return None
    return pk[len(keys.USER_PREFIX) :], _inbox_item(dict(image))


def _delivery(status: str, at: str, reason: str | None) -> dict[str, Any]:
    return {"status": status, "at": at, **({"reason": reason} if reason else {})}


def record_decisions(
    user_id: str, notification_id: str, decided: Mapping[str, tuple[str, str | None]], at: str
) -> bool:
    """Each channel's first status (``queued`` or ``skipped`` with its reason), unless it already has one:
    a replayed stream record leaves a delivered channel delivered. One conditional UpdateItem; False when
    the item is gone (nothing to deliver)."""
    if not decided:
        return True
    names: dict[str, str] = {"#deliveries": "deliveries"}
    values: dict[str, Any] = {}
    sets = []
    for n, (channel, (status, reason)) in enumerate(decided.items()):
        names[f"#c{n}"] = channel
        values[f":d{n}"] = dynamo.to_value(_delivery(status, at, reason))
        sets.append(f"#deliveries.#c{n} = if_not_exists(#deliveries.#c{n}, :d{n})")
    return (
        dynamo.conditional_update(
            TableName=dynamo.table("users"),
            Key=dynamo.key(*keys.notification(user_id, notification_id)),
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression="attribute_exists(#deliveries)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
        is not None
    )


def claim_delivery(user_id: str, notification_id: str, channel: str, at: str, stale_before: str) -> bool:
    """Take the channel's delivery (``queued`` -> ``sending``): one conditional UpdateItem, so of every
    copy of its queue message exactly one delivers. A ``sending`` claim older than ``stale_before`` (its
    deliverer died mid-way) may be taken again."""
    return (
        dynamo.conditional_update(
            TableName=dynamo.table("users"),
            Key=dynamo.key(*keys.notification(user_id, notification_id)),
            UpdateExpression="SET #d.#c.#status = :sending, #d.#c.#at = :at",
            ConditionExpression="#d.#c.#status = :queued OR (#d.#c.#status = :sending AND #d.#c.#at < :stale)",
            ExpressionAttributeNames={"#d": "deliveries", "#c": channel, "#status": "status", "#at": "at"},
            ExpressionAttributeValues={
                ":sending": {"S": "sending"},
                ":queued": {"S": "queued"},
                ":at": {"S": at},
                ":stale": {"S": stale_before},
            },
        )
        is not None
    )


def finish_delivery(
    user_id: str, notification_id: str, channel: str, status: str, at: str, reason: str | None = None
) -> None:
    """The claimed channel's outcome (``delivered``, ``skipped``, ``failed``, or ``queued`` again to let a
    retry claim it). One UpdateItem."""
    dynamo.update(
        "users",
        keys.notification(user_id, notification_id),
        UpdateExpression="SET #d.#c = :delivery",
        ExpressionAttributeNames={"#d": "deliveries", "#c": channel},
        ExpressionAttributeValues={":delivery": dynamo.to_value(_delivery(status, at, reason))},
    )


def take_sms_allowance(user_id: str, local_day: str, cap: int, expires_at: int) -> bool:
    """One SMS from the user's allowance of ``cap`` for ``local_day`` (their own calendar day): one
    conditional UpdateItem, so concurrent deliveries never exceed the cap."""
    return (
        dynamo.conditional_update(
            TableName=dynamo.table("users"),
            Key=dynamo.key(*keys.sms_allowance(user_id, local_day)),
            UpdateExpression="ADD sent :one SET expires_at = :expires",
            ConditionExpression="attribute_not_exists(sent) OR sent < :cap",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":cap": {"N": str(cap)},
                ":expires": {"N": str(expires_at)},
            },
        )
        is not None
    )


def enqueue_delivery(queue_url: str, user_id: str, notification_id: str, channel: str) -> None:
    """One message on the channel's delivery queue (ids only: the deliverer reads the inbox item)."""
    body = json.dumps({"user_id": user_id, "notification_id": notification_id, "channel": channel})
    clients.call(clients.sqs(), "send_message", QueueUrl=queue_url, MessageBody=body)


def delivery_request(body: str) -> tuple[str, str, str]:
    """(user_id, notification_id, channel) of a delivery queue message."""
    request = json.loads(body)
    return str(request["user_id"]), str(request["notification_id"]), str(request["channel"])
