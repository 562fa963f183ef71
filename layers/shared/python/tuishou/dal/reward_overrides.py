"""Per-promoter reward overrides: one attribute per product on the promoter's profile (UsersTable)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuishou.dal import dynamo, keys
from tuishou.errors import NotFound


def put_override(promoter_id: str, product_id: str, override: dict[str, Any]) -> None:
    """Set the override on the promoter's profile (1 conditional UpdateItem; 404 unless a promoter)."""
    _change_override(
        promoter_id,
        "SET #override = :override",
        {":override": dynamo.to_value(override)},
        keys.reward_override_attribute(product_id),
    )


def remove_override(promoter_id: str, product_id: str) -> None:
    """Remove it (1 conditional UpdateItem; removing an absent override changes nothing)."""
    _change_override(promoter_id, "REMOVE #override", {}, keys.reward_override_attribute(product_id))


def _change_override(promoter_id: str, expression: str, values: dict[str, Any], attribute: str) -> None:
    changed = dynamo.conditional_update(
        TableName=dynamo.table("users"),
        Key=dynamo.key(*keys.profile(promoter_id)),
        UpdateExpression=expression,
        ConditionExpression="attribute_exists(pk) AND #role = :promoter",
        ExpressionAttributeNames={"#role": "role", "#override": attribute},
        ExpressionAttributeValues={":promoter": {"S": "promoter"}, **values},
    )
    if changed is None:
        raise NotFound("no such promoter")


def override_on(profile: Mapping[str, Any] | None, product_id: str) -> dict[str, Any] | None:
    """The override for ``product_id`` on a promoter's profile (as read), if any."""
    if not profile:
        return None
    return profile.get(keys.reward_override_attribute(product_id))


def overrides_on(profile: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Every override on a promoter's profile (as read), by product id."""
    prefix = keys.REWARD_OVERRIDE_ATTRIBUTE_PREFIX
    return {name[len(prefix) :]: value for name, value in (profile or {}).items() if name.startswith(prefix)}
