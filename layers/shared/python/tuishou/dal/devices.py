"""A user's push devices: one item per device (``keys.device``) holding its platform and SNS endpoint. The
device id is derived from the platform and token, so the same token registered twice is one device; a
device belongs to one user at a time (``keys.device_owner``): when another user signs in on the phone and
registers its token, the previous user's device item goes, so their notifications stop reaching it."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

from tuishou.dal import clients, dynamo, keys, push

_DEVICE_ID_HEX = 24


@dataclass(frozen=True)
class DeviceRecord:
    device_id: str
    platform: str
    endpoint_arn: str
    created_at: str


def device_id_for(platform: str, token: str) -> str:
    """Stable per (platform, token); reveals nothing of the token."""
    return hashlib.sha256(f"{platform}:{token}".encode()).hexdigest()[:_DEVICE_ID_HEX]


def register_device(user_id: str, platform: str, token: str, at: str) -> tuple[DeviceRecord, bool]:
    """The device of ``token`` for this user and whether it is new: its endpoint on the platform's
    application, stored once (a second registration of the same token keeps the first item)."""
    record = DeviceRecord(device_id_for(platform, token), platform, push.endpoint_for(platform, token), at)
    pk, sk = keys.device(user_id, record.device_id)
    try:
        dynamo.put(
            "users",
            {"pk": pk, "sk": sk, **asdict(record)},
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except clients.ConditionFailed as exists:
        stored = dynamo.as_record(DeviceRecord, dynamo.from_item(exists.stored)) if exists.stored else record
        return stored, False
    _take_ownership(user_id, record.device_id)
    return record, True


def _take_ownership(user_id: str, device_id: str) -> None:
    owner_pk, owner_sk = keys.device_owner(device_id)
    previous = dynamo.call(
        "put_item",
        TableName=dynamo.table("users"),
        Item=dynamo.to_item({"pk": owner_pk, "sk": owner_sk, "user_id": user_id}),
        ReturnValues="ALL_OLD",
    ).get("Attributes")
    previous_user = dynamo.from_item(previous).get("user_id") if previous else None
    if previous_user and previous_user != user_id:
        dynamo.delete("users", keys.device(str(previous_user), device_id))


def devices_of(user_id: str) -> list[DeviceRecord]:
    """Every device of the user (one Query of the user's partition, device items only)."""
    pk, _ = keys.device(user_id, "")
    items = dynamo.query_all(
        TableName=dynamo.table("users"),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": {"S": pk}, ":prefix": {"S": keys.DEVICE_PREFIX}},
    )
    return [dynamo.as_record(DeviceRecord, item) for item in items]


def forget_device(user_id: str, device_id: str) -> None:
    """Delete the device item, its ownership and its SNS endpoint; forgetting an unknown device (or one that
    has moved to another user) does nothing."""
    removed = dynamo.call(
        "delete_item",
        TableName=dynamo.table("users"),
        Key=dynamo.key(*keys.device(user_id, device_id)),
        ReturnValues="ALL_OLD",
    ).get("Attributes")
    if not removed:
        return
    try:
        dynamo.delete(
            "users",
            keys.device_owner(device_id),
            ConditionExpression="user_id = :user",
            ExpressionAttributeValues={":user": {"S": user_id}},
        )
    except clients.ConditionFailed:
        return  # the token is another user's now: their endpoint stays
    push.delete_endpoint(dynamo.from_item(removed)["endpoint_arn"])
