"""Per-promoter reward overrides: one attribute per product on the promoter's profile (UsersTable)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from tuishou.dal import dynamo, keys
from tuishou.errors import NotFound


@dataclass(frozen=True)
class RewardOverrideRecord:
    """What a merchant pays one promoter on one product instead of the tag rule."""

    type: Literal["percent", "fixed"]
    value: int
    merchant_id: str
    updated_at: str


def put_override(promoter_id: str, product_id: str, override: RewardOverrideRecord) -> None:
    """Set the override on the promoter's profile (1 conditional UpdateItem; 404 unless a promoter)."""
    _change_override(
        promoter_id,
        "SET #override = :override",
        {":override": dynamo.to_value(asdict(override))},
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


def overrides_on(profile: Mapping[str, Any]) -> dict[str, RewardOverrideRecord]:
    """Every override on a promoter's profile item (as read), by product id."""
    prefix = keys.REWARD_OVERRIDE_ATTRIBUTE_PREFIX
    return {
        name[len(prefix) :]: RewardOverrideRecord(
            type=stored["type"],
            value=int(stored["value"]),
            merchant_id=stored.get("merchant_id", ""),
            updated_at=stored.get("updated_at", ""),
        )
        for name, stored in profile.items()
        if name.startswith(prefix)
    }
