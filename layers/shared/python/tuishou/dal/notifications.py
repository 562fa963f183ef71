"""Notifications data access: preferences and phone (one BatchGetItem), the in-app inbox and the SNS
publish of one message per delivery channel."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from tuishou.config import setting
from tuishou.dal import dynamo, keys
from tuishou.errors import BadRequest, NotFound

_INBOX_CURSOR_KEYS = {"pk", "sk"}


@cache
def _sns() -> Any:
    return boto3.client("sns", config=Config(retries={"max_attempts": 3, "mode": "standard"}))


def reset() -> None:
    _sns.cache_clear()


def recipient_settings(user_id: str) -> tuple[list[str] | None, str | None]:
    """(chosen channels or None for the default, phone or None) in one BatchGetItem."""
    prefs_key, profile_key = keys.notification_preferences(user_id), keys.profile(user_id)
    found = dynamo.batch_get({"users": [prefs_key, profile_key]}, projection="pk, sk, channels, phone")
    by_sk = {sk: item for (_, _, sk), item in found.items()}
    prefs = by_sk.get(keys.notification_preferences(user_id)[1])
    profile = by_sk.get(keys.profile(user_id)[1]) or {}
    phone = profile.get("phone") or None
    return (list(prefs["channels"]) if prefs else None), phone


def put_preferences(user_id: str, channels: list[str], updated_at: str) -> None:
    item = {"pk": keys.notification_preferences(user_id)[0], "sk": keys.notification_preferences(user_id)[1],
            "channels": channels, "updated_at": updated_at}
    _write(lambda: dynamo.client().put_item(TableName=dynamo.table("users"), Item=dynamo.to_item(item)))


def put_inbox_item(user_id: str, record: dict[str, Any]) -> None:
    pk, sk = keys.notification(user_id, record["notification_id"])
    item = {"pk": pk, "sk": sk, **record}
    _write(lambda: dynamo.client().put_item(TableName=dynamo.table("users"), Item=dynamo.to_item(item),
                                            ConditionExpression="attribute_not_exists(pk)"))


def list_inbox(user_id: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first, one Query."""
    start = dynamo.decode_cursor(cursor, allowed_keys=_INBOX_CURSOR_KEYS)
    pk = keys.notification(user_id, "")[0]
    if start and start["pk"]["S"] != pk:  # another user's cursor
        raise BadRequest("malformed cursor", field="cursor")
    args: dict[str, Any] = {
        "TableName": dynamo.table("users"),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": keys.NOTIFICATION_PREFIX}},
        "ScanIndexForward": False, "Limit": limit,
    }
    if start:
        args["ExclusiveStartKey"] = start
    try:
        response = dynamo.client().query(**args)
    except ClientError as error:
        dynamo.raise_transient(error)
        raise
    items = [dynamo.from_item(i) for i in response.get("Items", [])]
    return items, dynamo.encode_cursor(response.get("LastEvaluatedKey"))


def mark_read(user_id: str, notification_id: str, read_at: str) -> None:
    """One conditional UpdateItem; 404 when the user has no such notification."""
    try:
        dynamo.client().update_item(
            TableName=dynamo.table("users"), Key=dynamo.key(*keys.notification(user_id, notification_id)),
            UpdateExpression="SET #read = :true, read_at = if_not_exists(read_at, :at)",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#read": "read"},
            ExpressionAttributeValues={":true": {"BOOL": True}, ":at": {"S": read_at}})
    except ClientError as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            raise NotFound("no such notification", field="notification_id") from error
        dynamo.raise_transient(error)
        raise


def publish(channel: str, recipient: str, kind: str, notification_id: str, text: str) -> str:
    """One SNS message on the notifications topic; subscribers filter on the ``channel`` attribute."""
    attributes = {"channel": channel, "recipient": recipient, "kind": kind, "notification_id": notification_id}
    response = _sns().publish(
        TopicArn=setting("TUISHOU_NOTIFICATIONS_TOPIC_ARN"), Message=text,
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()})
    return response["MessageId"]


def send_sms(phone: str, text: str) -> None:
    """Production SMS delivery through SNS (enabled by TUISHOU_SMS_DELIVERY=sns)."""
    _sns().publish(PhoneNumber=phone, Message=text,
                   MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}})


def _write(call: Any) -> None:
    try:
        call()
    except ClientError as error:
        dynamo.raise_transient(error)
        raise
