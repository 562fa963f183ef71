"""UsersTable: promoter profiles and their tags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tuishou.dal import dynamo, keys
from tuishou.dal.reward_overrides import RewardOverrideRecord, overrides_on
from tuishou.errors import Conflict, NotFound
from tuishou.models.common import DEFAULT_LOCALE, DEFAULT_TIME_ZONE


@dataclass(frozen=True)
class ProfileRecord:
    """A user's profile as stored: who they are, their promoter tags and the merchants' per-product reward
    overrides for them (by product id)."""

    user_id: str
    role: str
    display_name: str
    phone: str | None
    tags: tuple[str, ...]
    created_at: str
    invite_code: str | None = None
    email: str | None = None
    overrides: Mapping[str, RewardOverrideRecord] = field(default_factory=dict)


def profile_record(item: Mapping[str, Any]) -> ProfileRecord:
    """A profile item as read (by this module or by another read that fetches the profile with its own
    request) as a typed record."""
    return ProfileRecord(
        user_id=item.get("user_id", ""),
        role=item.get("role", ""),
        display_name=item.get("display_name", ""),
        phone=item.get("phone"),
        tags=tuple(item.get("tags") or ()),
        created_at=item.get("created_at", ""),
        invite_code=item.get("invite_code"),
        email=item.get("email"),
        overrides=overrides_on(item),
    )


def as_profile_record(profile: ProfileRecord | Mapping[str, Any] | None) -> ProfileRecord | None:
    """The record itself, or a profile item another read returned as read (the attribution and link
    reads fetch the profile in their own BatchGetItem) as a record."""
    if profile is None or isinstance(profile, ProfileRecord):
        return profile
    return profile_record(profile) if profile else None


def create_profile(profile: ProfileRecord, also: list[dynamo.TransactItem] | None = None) -> None:
    """Put the profile unless the user already has one (1 conditional PutItem; 409 if it exists). With
    ``also`` (transaction items, e.g. rewardable events) all are written in one TransactWriteItems."""
    pk, sk = keys.profile(profile.user_id)
    stored = {
        "user_id": profile.user_id,
        "role": profile.role,
        "display_name": profile.display_name,
        "phone": profile.phone,
        "tags": list(profile.tags),
        "invite_code": profile.invite_code,
        "created_at": profile.created_at,
        "email": profile.email,
    }
    put = {
        "TableName": dynamo.table("users"),
        "Item": dynamo.to_item({**stored, "pk": pk, "sk": sk}),
        "ConditionExpression": "attribute_not_exists(pk)",
    }
    try:
        if also:
            dynamo.transact([{"Put": put}, *also])
        else:
            dynamo.put("users", {**stored, "pk": pk, "sk": sk}, ConditionExpression=put["ConditionExpression"])
    except dynamo.ConditionFailed as failed:
        raise Conflict("the profile already exists") from failed
    except dynamo.Cancelled as cancelled:
        if cancelled.any_failed:
            raise Conflict("the profile already exists") from cancelled
        raise


def get_profile(user_id: str) -> ProfileRecord | None:
    item = dynamo.get("users", keys.profile(user_id))
    return None if item is None else profile_record(item)


def set_promoter_tags(promoter_id: str, tags: list[str], updated_at: str) -> ProfileRecord:
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
    return profile_record(item)


def locale_of(user_id: str) -> tuple[str, str]:
    """(locale, time_zone) of the user, the defaults for what they never set (1 GetItem)."""
    item = dynamo.get("users", keys.user_locale(user_id)) or {}
    return item.get("locale") or DEFAULT_LOCALE, item.get("time_zone") or DEFAULT_TIME_ZONE


def locale_put(user_id: str, locale: str, time_zone: str, updated_at: str) -> dynamo.TransactItem:
    """The Put of a user's locale settings, for a transaction (e.g. with the profile it is registered with)."""
    pk, sk = keys.user_locale(user_id)
    stored = {"pk": pk, "sk": sk, "locale": locale, "time_zone": time_zone, "updated_at": updated_at}
    return {"Put": {"TableName": dynamo.table("users"), "Item": dynamo.to_item(stored)}}


def set_locale(user_id: str, locale: str | None, time_zone: str | None, updated_at: str) -> tuple[str, str]:
    """Change what is given, keep the rest (1 UpdateItem); the resulting (locale, time_zone)."""
    changes = {"locale": locale, "time_zone": time_zone, "updated_at": updated_at}
    given = {name: value for name, value in changes.items() if value is not None}
    item = dynamo.update(
        "users",
        keys.user_locale(user_id),
        UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in given),
        ExpressionAttributeNames={f"#{name}": name for name in given},
        ExpressionAttributeValues={f":{name}": dynamo.to_value(value) for name, value in given.items()},
        ReturnValues="ALL_NEW",
    )
    return item.get("locale") or DEFAULT_LOCALE, item.get("time_zone") or DEFAULT_TIME_ZONE
