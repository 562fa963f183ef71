"""Notifications data access: preferences and phone (one BatchGetItem), the in-app inbox and the SNS
publish of one message per delivery channel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from tuishou import settings
from tuishou.dal import clients, dynamo, keys
from tuishou.errors import BadRequest, NotFound

_INBOX_CURSOR_KEYS = {"pk", "sk"}


@dataclass(frozen=True)
class InboxItem:
    """One notification in a user's in-app inbox; ``data`` has its kind's shape as it was checked when
    the notification was created."""

    notification_id: str
    kind: str
    text: str
    created_at: str
    read: bool = False
    data: dict[str, Any] = field(default_factory=dict)


def _inbox_item(item: dict[str, Any]) -> InboxItem:
    return InboxItem(
        notification_id=item["notification_id"],
        kind=item["kind"],
        text=item["text"],
        created_at=item["created_at"],
        read=bool(item.get("read")),
        data=item.get("data") or {},
    )


def recipient_settings(user_id: str) -> tuple[list[str] | None, str | None]:
    """(chosen channels or None for the default, phone or None) in one BatchGetItem."""
    prefs_key, profile_key = keys.notification_preferences(user_id), keys.profile(user_id)
    found = dynamo.batch_get({"users": [prefs_key, profile_key]}, projection="pk, sk, channels, phone")
    by_sk = {sk: item for (_, _, sk), item in found.items()}
    prefs = by_sk.get(keys.notification_preferences(user_id)[1])
    profile = by_sk.get(keys.profile(user_id)[1]) or {}
    phone = profile.get("phone") or None
    return (list(prefs["channels"]) if prefs else None), phone


def put_preferences(user_id: str, channels: Sequence[str], updated_at: str) -> None:
    item = {
        "pk": keys.notification_preferences(user_id)[0],
        "sk": keys.notification_preferences(user_id)[1],
        "channels": channels,
        "updated_at": updated_at,
    }
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


def publish(channel: str, recipient: str, kind: str, notification_id: str, text: str) -> str:
    """One SNS message on the notifications topic; subscribers filter on the ``channel`` attribute."""
    attributes = {"channel": channel, "recipient": recipient, "kind": kind, "notification_id": notification_id}
    response = clients.sns().publish(
        TopicArn=settings.notifications().required("topic_arn"),
        Message=text,
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )
    return response["MessageId"]


def send_sms(phone: str, text: str) -> None:
    """Production SMS delivery through SNS (enabled by TUISHOU_SMS_DELIVERY=sns)."""
    clients.sns().publish(
        PhoneNumber=phone,
        Message=text,
        MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
    )
