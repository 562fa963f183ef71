"""TrackingTable: tracking links and their public codes, shares, clicks and per-promoter counters.

A request writes one fact (a click, a share: one PutItem); the tracking stream consumer derives the
rest. The link-code item is the one item a click reads: the stream consumers keep its copy of the
product's status and of the promoter's channel-task pointers current (``set_product_status``,
``set_code_pointer``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tuishou.dal import keys
from tuishou.dal.catalog import active_product_check
from tuishou.dal.dynamo import (
    Cancelled,
    batch_get,
    conditional_update,
    get,
    key,
    put,
    query_all,
    query_page,
    table,
    to_item,
    to_value,
    transact,
)
from tuishou.errors import Gone

if TYPE_CHECKING:
    from tuishou.dal.streams import Change

_STORAGE_KEYS = {"pk", "sk", "gsi1pk", "gsi1sk"}


class LinkExists(Exception):
    """The promoter already has a link for this task (a concurrent request created it)."""


class CodeTaken(Exception):
    """The random public code collided with an existing one; draw another."""


def _plain(item: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if item is None else {k: v for k, v in item.items() if k not in _STORAGE_KEYS}


def _get(table_short_name: str, pk_sk: tuple[str, str]) -> dict[str, Any] | None:
    return _plain(get(table_short_name, pk_sk))


def link_context(
    promoter_id: str, product_id: str, channels: Sequence[str]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, Any] | None, dict[str, dict[str, Any]]]:
    """(promoter profile, product, the promoter's existing link for it, the promoter's counter items per
    channel — they carry the active channel-task pointers a new link copies) in ONE BatchGetItem over
    three tables."""
    profile, product = keys.profile(promoter_id), keys.product(product_id)
    link = keys.promoter_link(promoter_id, product_id)
    channel_keys = {channel: keys.promoter_channel(promoter_id, channel) for channel in channels}
    found = batch_get({"users": [profile], "catalog": [product], "tracking": [link, *channel_keys.values()]})
    channel_items = {
        channel: item for channel, item_key in channel_keys.items() if (item := found.get(("tracking", *item_key)))
    }
    return (
        _plain(found.get(("users", *profile))),
        _plain(found.get(("catalog", *product))),
        _plain(found.get(("tracking", *link))),
        channel_items,
    )


def share_context(link_id: str, channel: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the link — with its product's status —, the channel's bonus offer) in ONE BatchGetItem."""
    link, offer = keys.link(link_id), keys.channel_offer(channel)
    found = batch_get({"tracking": [link], "catalog": [offer]})
    return _plain(found.get(("tracking", *link))), found.get(("catalog", *offer))


def _pointer_attribute(channel: str) -> str:
    return f"{POINTER_ATTRIBUTE_PREFIX}{channel}"


POINTER_ATTRIBUTE_PREFIX = "chtask#"
"""Attribute of a link-code item carrying the promoter's active task on one channel (``chtask#wechat``)."""


def create_link(
    link: dict[str, Any], landing_url: str, product_status: str, pointers: dict[str, dict[str, Any]]
) -> None:
    """The link, the promoter's one-link-per-task marker and the public code item (which carries what a
    click needs — landing URL, product status, the promoter's channel-task pointers — so a click reads one
    item; in GSI1 by product for the status fan-out), all or nothing, while the product is active."""
    not_exists = "attribute_not_exists(pk)"
    tracking = table("tracking")

    def put(item: dict[str, Any], item_key: tuple[str, str]) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": tracking,
                "ConditionExpression": not_exists,
                "Item": to_item({**item, "pk": item_key[0], "sk": item_key[1]}),
            }
        }

    code_item = {
        **link,
        "landing_url": landing_url,
        "product_status": product_status,
        **{_pointer_attribute(channel): summary for channel, summary in pointers.items()},
        "gsi1pk": keys.product_link_codes(link["product_id"]),
        "gsi1sk": link["code"],
    }
    items = [
        put(link, keys.promoter_link(link["promoter_id"], link["product_id"])),
        put({**link, "product_status": product_status}, keys.link(link["link_id"])),
        put(code_item, keys.link_code(link["code"])),
        active_product_check(link["product_id"]),
    ]
    try:
        transact(items)
    except Cancelled as cancelled:
        if cancelled.failed(0):
            raise LinkExists() from cancelled
        if cancelled.failed(3):
            raise Gone("the product is paused") from cancelled
        if cancelled.any_failed:
            raise CodeTaken() from cancelled
        raise


def get_promoter_link(promoter_id: str, product_id: str) -> dict[str, Any] | None:
    return _get("tracking", keys.promoter_link(promoter_id, product_id))


def get_code(code: str) -> dict[str, Any] | None:
    """The link-code item (one GetItem), its channel-task pointers gathered under ``chtasks`` by channel."""
    item = _get("tracking", keys.link_code(code))
    if item is None:
        return None
    pointers = {name: item.pop(name) for name in [n for n in item if n.startswith(POINTER_ATTRIBUTE_PREFIX)]}
    item["chtasks"] = {name[len(POINTER_ATTRIBUTE_PREFIX) :]: value for name, value in pointers.items()}
    return item


def get_click(click_id: str) -> dict[str, Any] | None:
    return _get("tracking", keys.click(click_id))


def put_click(click: dict[str, Any]) -> None:
    """The click: ONE PutItem (its counters, coupon and notice are derived from its stream record)."""
    put("tracking", {**click, **dict(zip(("pk", "sk"), keys.click(click["click_id"]), strict=True))})


def put_share(share: dict[str, Any]) -> None:
    """The share: ONE PutItem (its counters and channel-task progress are derived from its stream record)."""
    put("tracking", {**share, **dict(zip(("pk", "sk"), keys.share(share["link_id"], share["share_id"]), strict=True))})


# ---------------------------------------------------------------- link-code fan-out (stream consumers)
def product_links(product_id: str) -> list[tuple[str, str]]:
    """(code, link id) of every link to the product: Query GSI1 ``CODES#{product_id}`` (page after page)."""
    return [
        (item["code"], item["link_id"])
        for item in query_all(
            TableName=table("tracking"),
            IndexName="GSI1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.product_link_codes(product_id)}},
            ProjectionExpression="code, link_id",
        )
    ]


def promoter_codes(promoter_id: str) -> list[str]:
    """Codes of every link of the promoter: Query of the promoter's one-link-per-task markers."""
    pk, _ = keys.promoter_link(promoter_id, "")
    return [
        item["code"]
        for item in query_all(
            TableName=table("tracking"),
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":prefix": {"S": keys.PROMOTER_LINK_PREFIX}},
            ProjectionExpression="code",
            ConsistentRead=True,
        )
    ]


def set_product_status(code: str, link_id: str, product_status: str) -> None:
    """Copy the product's status onto one link's code item (clicks) and link item (shares): 2 UpdateItem,
    never creating an item."""
    for item_key in (keys.link_code(code), keys.link(link_id)):
        conditional_update(
            TableName=table("tracking"),
            Key=key(*item_key),
            UpdateExpression="SET product_status = :status",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":status": {"S": product_status}},
        )


def set_code_pointer(code: str, channel: str, summary: dict[str, Any] | None) -> None:
    """Copy the promoter's task pointer on ``channel`` onto one link-code item, or remove it (1 UpdateItem)."""
    names = {"#pointer": _pointer_attribute(channel)}
    if summary is None:
        conditional_update(
            TableName=table("tracking"),
            Key=key(*keys.link_code(code)),
            UpdateExpression="REMOVE #pointer",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
        )
        return
    conditional_update(
        TableName=table("tracking"),
        Key=key(*keys.link_code(code)),
        UpdateExpression="SET #pointer = :summary",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues={":summary": to_value(summary)},
    )


# ---------------------------------------------------------------- what a tracking stream record is
def inserted_click(change: Change) -> dict[str, Any] | None:
    """The click a stream record inserted (plain), else None."""
    new = change.new or {}
    if change.name != "INSERT" or change.key != keys.click(str(new.get("click_id", ""))):
        return None
    return _plain(new)


def inserted_share(change: Change) -> dict[str, Any] | None:
    """The share a stream record inserted (plain), else None."""
    new = change.new or {}
    if change.name != "INSERT" or change.key != keys.share(str(new.get("link_id", "")), str(new.get("share_id", ""))):
        return None
    return _plain(new)


def promoter_channel_change(change: Change) -> tuple[str, str] | None:
    """(promoter id, channel) when the record changed a promoter's channel counter item (which carries the
    active channel-task pointer), else None."""
    pk, sk = change.key
    promoter_id, channel = pk.partition("#")[2], sk.partition("#")[2]
    if not promoter_id or not channel or keys.promoter_channel(promoter_id, channel) != (pk, sk):
        return None
    return promoter_id, channel


def promoter_task_counters(promoter_id: str, limit: int) -> dict[str, dict[str, Any]]:
    """The promoter's per-task counters (history), at most ``limit`` items (1 Query)."""
    pk, _ = keys.promoter_task_history(promoter_id, "")
    items, _ = query_page(
        TableName=table("tracking"),
        Limit=limit,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": {"S": pk}, ":prefix": {"S": keys.PROMOTER_TASK_PREFIX}},
    )
    return {item["sk"][len(keys.PROMOTER_TASK_PREFIX) :]: item for item in items}
