"""UsersTable: promoter profiles and their tags."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from tuishou.dal import keys
from tuishou.dal.dynamo import (
    cancellation_codes,
    client,
    error_code,
    from_item,
    key,
    raise_transient,
    table,
    to_item,
    to_value,
)
from tuishou.errors import Conflict, NotFound


def create_profile(profile: dict[str, Any], also: list[dict[str, Any]] | None = None) -> None:
    """Put the profile unless the user already has one (1 conditional PutItem; 409 if it exists). With
    ``also`` (transaction items, e.g. rewardable events) all are written in one TransactWriteItems."""
    pk, sk = keys.profile(profile["user_id"])
    put = {"TableName": table("users"), "Item": to_item({**profile, "pk": pk, "sk": sk}),
           "ConditionExpression": "attribute_not_exists(pk)"}
    try:
        if also:
            client().transact_write_items(TransactItems=[{"Put": put}, *also])
        else:
            client().put_item(**put)
    except ClientError as error:
        raise_transient(error)
        if error_code(error) == "ConditionalCheckFailedException" or "ConditionalCheckFailed" in \
                cancellation_codes(error):
            raise Conflict("the profile already exists") from error
        raise


def get_profile(user_id: str) -> dict[str, Any] | None:
    try:
        response = client().get_item(TableName=table("users"), Key=key(*keys.profile(user_id)))
    except ClientError as error:
        raise_transient(error)
        raise
    item = from_item(response.get("Item"))
    return None if item is None else {k: v for k, v in item.items() if k not in {"pk", "sk"}}


def set_promoter_tags(promoter_id: str, tags: list[str], updated_at: str) -> dict[str, Any]:
    """Replace a promoter's tags (1 conditional UpdateItem; 404 when there is no promoter profile)."""
    try:
        response = client().update_item(
            TableName=table("users"), Key=key(*keys.profile(promoter_id)),
            UpdateExpression="SET tags = :tags, updated_at = :now",
            ConditionExpression="attribute_exists(pk) AND #role = :promoter",
            ExpressionAttributeNames={"#role": "role"},
            ExpressionAttributeValues={":tags": to_value(tags), ":now": to_value(updated_at),
                                       ":promoter": to_value("promoter")},
            ReturnValues="ALL_NEW")
    except ClientError as error:
        raise_transient(error)
        if error_code(error) == "ConditionalCheckFailedException":
            raise NotFound("no such promoter") from error
        raise
    item = from_item(response["Attributes"])
    return {k: v for k, v in item.items() if k not in {"pk", "sk"}}
