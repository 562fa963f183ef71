"""Fixed-window request counters per user (UsersTable): one item per user and UTC hour
(``keys.rate_window``) holding, per scope, the hour's count and each minute's count. A request is admitted
by ONE conditional UpdateItem that adds 1 to every counter it counts in, on the condition that none is at
its limit; a refused request adds nothing. The item expires after its hour (TTL ``expires_at``)."""

from __future__ import annotations

from collections.abc import Mapping

from tuishou.dal import dynamo, keys


def take(user_id: str, hour_bucket: str, limits: Mapping[str, int], expires_at: int) -> dict[str, int] | None:
    """Add 1 to each counter named in ``limits`` (attribute -> limit) unless one has reached its limit. None
    when admitted; else the counts stored (every counter of ``limits``, 0 when absent), to tell which limit
    refused it. One UpdateItem either way."""
    names = {f"#c{i}": attribute for i, attribute in enumerate(limits)}
    values = {":one": {"N": "1"}, ":expires": {"N": str(expires_at)}}
    values |= {f":l{i}": {"N": str(limit)} for i, limit in enumerate(limits.values())}
    update = "ADD " + ", ".join(f"#c{i} :one" for i in range(len(limits))) + " SET expires_at = :expires"
    condition = " AND ".join(f"(attribute_not_exists(#c{i}) OR #c{i} < :l{i})" for i in range(len(limits)))
    try:
        dynamo.call(
            "update_item",
            TableName=dynamo.table("users"),
            Key=dynamo.key(*keys.rate_window(user_id, hour_bucket)),
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except dynamo.ConditionFailed as failed:
        stored = dynamo.from_item(failed.stored) or {}
        return {attribute: int(stored.get(attribute, 0)) for attribute in limits}
    return None
