"""UsersTable: promoter profiles and their tags."""

from __future__ import annotations

from typing import Any

from tuishou.dal import dynamo, keys
from tuishou.errors import Conflict, NotFound

_STORAGE_KEYS = {"pk", "sk"}


def create_profile(profile: dict[str, Any], also: list[dict[str, Any]] | None = None) -> None:
    """Put the profile unless the user already has one (1 conditional PutItem; 409 if it exists). With
    ``also`` (transaction items, e.g. rewardable events) all are written in one TransactWriteItems."""
    pk, sk = keys.profile(profile["user_id"])
    put = {
        "TableName": dynamo.table("users"),
        "Item": dynamo.to_item({**profile, "pk": pk, "sk": sk}),
        "ConditionExpression": "attribute_not_exists(pk)",
    }
    try:
        if also:
            dynamo.transact([{"Put": put}, *also])
        else:
            dynamo.call("put_item", **put)
    except dynamo.ConditionFailed as failed:
        raise Conflict("the profile already exists") from failed
    except dynamo.Cancelled as cancelled:
        if cancelled.any_failed:
            raise Conflict("the profile already exists") from cancelled
        raise


def get_profile(user_id: str) -> dict[str, Any] | None:
    item = dynamo.get("users", keys.profile(user_id))
    return None if item is None else _without_keys(item)


def set_promoter_tags(promoter_id: str, tags: list[str], updated_at: str) -> dict[str, Any]:
    """Replace a promoter's tags (1 conditional UpdateItem; 404 when there is no promoter profile)."""
    item = dynamo.conditional_update(
        TableName=dynamo.table("users"),
        Key=dynamo.key(*keys.profile(promoter_id)),
        UpdateExpression="SET tags = :tags, updated_at = :now",
        ConditionExpression="attribute_exists(pk) AND #role = :promoter",
        ExpressionAttributeNames={"#role": "role"},
        ExpressionAttributeValues={
            ":tags": dynamo.to_value(tags),
            ":now": dynamo.to_value(updated_at),
            ":promoter": dynamo.to_value("promoter"),
        },
        ReturnValues="ALL_NEW",
    )
    if item is None:
        raise NotFound("no such promoter")
    return _without_keys(item)


def _without_keys(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in _STORAGE_KEYS}
