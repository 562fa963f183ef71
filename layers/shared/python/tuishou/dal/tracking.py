"""TrackingTable: tracking links and their public codes, shares, clicks and per-promoter counters.

A request writes one fact (a click, a share: one PutItem); the tracking stream consumer derives the
rest. The link-code item is the one item a click reads: the stream consumers keep its copy of the
product's status and of the promoter's channel-task pointers current (``set_product_status``,
``set_code_pointer``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from tuishou.dal import keys
from tuishou.dal.catalog import active_product_check
from tuishou.dal.channel_tasks import ChannelPointer, pointer_of, template_of
from tuishou.dal.dynamo import (
    Cancelled,
    TransactItem,
    as_record,
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
from tuishou.dal.users import ProfileRecord, profile_record
from tuishou.errors import Gone
from tuishou.models.channel_tasks import ChannelTaskTemplate
from tuishou.models.rewards import RewardRule

if TYPE_CHECKING:
    from tuishou.dal.streams import Change


class LinkExists(Exception):
    """The promoter already has a link for this task (a concurrent request created it)."""


class CodeTaken(Exception):
    """The random public code collided with an existing one; draw another."""


@dataclass(frozen=True)
class LinkRecord:
    """A promoter's tracking link for one product, and the product's status as last copied onto it."""

    link_id: str
    code: str
    promoter_id: str
    product_id: str
    merchant_id: str
    created_at: str
    product_status: str = "active"


@dataclass(frozen=True)
class PointerSummary:
    """What a link-code item carries of the promoter's active task on one channel: its window and whether
    a quota-rescue coupon is open (with its value), so a click decides with no other read."""

    task_id: str
    accepted_at: str
    deadline_at: str
    coupon_open: bool
    coupon_value_minor: int
    currency: str


@dataclass(frozen=True)
class CodeTarget:
    """The link-code item, the one item a click reads: the link, where it lands, the product's status and
    the promoter's channel-task pointer summaries by channel (as ``set_code_pointer`` copies them)."""

    link_id: str
    code: str
    promoter_id: str
    product_id: str
    merchant_id: str
    landing_url: str
    product_status: str = "active"
    chtasks: Mapping[str, PointerSummary] = field(default_factory=dict)


@dataclass(frozen=True)
class ClickRecord:
    """A click as stored: who and what it is attributed to, its channel, the visitor hash (for counting
    once per visitor and hour), its TTL and, when its redirect drew one, the quota-rescue coupon."""

    click_id: str
    link_id: str
    promoter_id: str
    product_id: str
    channel: str
    created_at: str
    code: str | None = None
    merchant_id: str | None = None
    visitor: str | None = None
    expires_at: int | None = None
    coupon_code: str | None = None
    coupon_task_id: str | None = None
    coupon_value_minor: int | None = None
    coupon_currency: str | None = None


def click_record(item: Mapping[str, Any]) -> ClickRecord:
    """A click item (read by this module or by another read that fetches it) as a record."""
    return as_record(ClickRecord, item)


@dataclass(frozen=True)
class ShareRecord:
    """A share of a link on one channel."""

    share_id: str
    link_id: str
    promoter_id: str
    product_id: str
    channel: str
    created_at: str
    code: str | None = None
    merchant_id: str | None = None


@dataclass(frozen=True)
class LinkedProduct:
    """What creating a link reads of the product: whether it is a task for the promoter and where it lands."""

    product_id: str
    merchant_id: str
    status: str
    price_minor: int
    landing_url: str
    reward_rules: tuple[RewardRule, ...]


def _linked_product(item: Mapping[str, Any]) -> LinkedProduct:
    rules = tuple(RewardRule.model_validate(rule) for rule in item.get("reward_rules") or ())
    return as_record(LinkedProduct, {**item, "reward_rules": rules})


@dataclass(frozen=True)
class LinkContext:
    """What creating a link reads at once: the promoter's profile, the product, the promoter's existing link
    for it, and the promoter's active channel-task pointers by channel (a new link copies them)."""

    profile: ProfileRecord | None
    product: LinkedProduct | None
    existing: LinkRecord | None
    pointers: Mapping[str, ChannelPointer]


def _link(item: Mapping[str, Any] | None) -> LinkRecord | None:
    return None if item is None else as_record(LinkRecord, item)


def link_context(promoter_id: str, product_id: str, channels: Sequence[str]) -> LinkContext:
    """The promoter's profile, the product, the promoter's existing link for it and the promoter's channel
    counter items (for their task pointers) in ONE BatchGetItem over three tables."""
    profile, product = keys.profile(promoter_id), keys.product(product_id)
    link = keys.promoter_link(promoter_id, product_id)
    channel_keys = {channel: keys.promoter_channel(promoter_id, channel) for channel in channels}
    found = batch_get({"users": [profile], "catalog": [product], "tracking": [link, *channel_keys.values()]})
    pointers = {
        channel: pointer
        for channel, item_key in channel_keys.items()
        if (pointer := pointer_of(found.get(("tracking", *item_key))))
    }
    profile_item, product_item = found.get(("users", *profile)), found.get(("catalog", *product))
    return LinkContext(
        profile=None if profile_item is None else profile_record(profile_item),
        product=None if product_item is None else _linked_product(product_item),
        existing=_link(found.get(("tracking", *link))),
        pointers=pointers,
    )


def share_context(link_id: str, channel: str) -> tuple[LinkRecord | None, ChannelTaskTemplate | None]:
    """(the link — with its product's status —, the channel's bonus offer) in ONE BatchGetItem."""
    link, offer = keys.link(link_id), keys.channel_offer(channel)
    found = batch_get({"tracking": [link], "catalog": [offer]})
    offer_item = found.get(("catalog", *offer))
    return _link(found.get(("tracking", *link))), None if offer_item is None else template_of(offer_item)


def _pointer_attribute(channel: str) -> str:
    return f"{POINTER_ATTRIBUTE_PREFIX}{channel}"


POINTER_ATTRIBUTE_PREFIX = "chtask#"
"""Attribute of a link-code item carrying the promoter's active task on one channel (``chtask#wechat``)."""


def create_link(
    link: LinkRecord, landing_url: str, product_status: str, pointers: Mapping[str, PointerSummary]
) -> None:
    """The link, the promoter's one-link-per-task marker and the public code item (which carries what a
    click needs — landing URL, product status, the promoter's channel-task pointers — so a click reads one
    item; in GSI1 by product for the status fan-out), all or nothing, while the product is active."""
    not_exists = "attribute_not_exists(pk)"
    tracking = table("tracking")

    def put(item: dict[str, Any], item_key: tuple[str, str]) -> TransactItem:
        return {
            "Put": {
                "TableName": tracking,
                "ConditionExpression": not_exists,
                "Item": to_item({**item, "pk": item_key[0], "sk": item_key[1]}),
            }
        }

    fields = {k: v for k, v in asdict(link).items() if k != "product_status"}
    code_item = {
        **fields,
        "landing_url": landing_url,
        "product_status": product_status,
        **{_pointer_attribute(channel): asdict(summary) for channel, summary in pointers.items()},
        **_code_index(link.product_id, link.code),
    }
    items = [
        put(fields, keys.promoter_link(link.promoter_id, link.product_id)),
        put({**fields, "product_status": product_status}, keys.link(link.link_id)),
        put(code_item, keys.link_code(link.code)),
        active_product_check(link.product_id),
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


def _code_index(product_id: str, code: str) -> dict[str, str]:
    """The GSI1 attributes of a link-code item: listed under its product (the status fan-out's Query)."""
    return {"gsi1pk": keys.product_link_codes(product_id), "gsi1sk": code}


def index_code(code: str, product_id: str) -> bool:
    """Put a link-code item written without them into its product's GSI1 list (1 UpdateItem; False when the
    item is gone or already listed). For upgrading items written before the status fan-out existed."""
    index = _code_index(product_id, code)
    updated = conditional_update(
        TableName=table("tracking"),
        Key=key(*keys.link_code(code)),
        UpdateExpression="SET gsi1pk = :pk, gsi1sk = :sk",
        ConditionExpression="attribute_exists(pk) AND attribute_not_exists(gsi1pk)",
        ExpressionAttributeValues={":pk": {"S": index["gsi1pk"]}, ":sk": {"S": index["gsi1sk"]}},
    )
    return updated is not None


def replace_product_status(item_key: tuple[str, str], product_status: str, seen: str | None) -> bool:
    """Set the product status copied on a link-code or link item, only if it still holds ``seen`` (None:
    no copy yet), so a newer copy from the status fan-out is never overwritten (1 UpdateItem; False when
    the item changed or is gone). For upgrading items written before the copy existed."""
    values: dict[str, Any] = {":status": {"S": product_status}}
    if seen is None:
        condition = "attribute_exists(pk) AND attribute_not_exists(product_status)"
    else:
        condition, values[":seen"] = "product_status = :seen", {"S": seen}
    updated = conditional_update(
        TableName=table("tracking"),
        Key=key(*item_key),
        UpdateExpression="SET product_status = :status",
        ConditionExpression=condition,
        ExpressionAttributeValues=values,
    )
    return updated is not None


def get_promoter_link(promoter_id: str, product_id: str) -> LinkRecord | None:
    return _link(get("tracking", keys.promoter_link(promoter_id, product_id)))


def get_code(code: str) -> CodeTarget | None:
    """The link-code item (one GetItem), its channel-task pointers gathered under ``chtasks`` by channel."""
    item = get("tracking", keys.link_code(code))
    return None if item is None else code_target(item)


def code_target(item: Mapping[str, Any]) -> CodeTarget:
    """A link-code item (as read, or as a Scan returned it) as the record a click reads."""
    pointers = {
        name[len(POINTER_ATTRIBUTE_PREFIX) :]: as_record(PointerSummary, value)
        for name, value in item.items()
        if name.startswith(POINTER_ATTRIBUTE_PREFIX)
    }
    return as_record(CodeTarget, {**item, "chtasks": pointers})


def get_click(click_id: str) -> ClickRecord | None:
    item = get("tracking", keys.click(click_id))
    return None if item is None else click_record(item)


def put_click(click: ClickRecord) -> None:
    """The click: ONE PutItem (its counters, coupon and notice are derived from its stream record)."""
    pk, sk = keys.click(click.click_id)
    put("tracking", {**asdict(click), "pk": pk, "sk": sk})


def put_share(share: ShareRecord) -> None:
    """The share: ONE PutItem (its counters and channel-task progress are derived from its stream record)."""
    pk, sk = keys.share(share.link_id, share.share_id)
    put("tracking", {**asdict(share), "pk": pk, "sk": sk})


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


def set_code_pointer(code: str, channel: str, summary: PointerSummary | None) -> None:
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
        ExpressionAttributeValues={":summary": to_value(asdict(summary))},
    )


# ---------------------------------------------------------------- what a tracking stream record is
def inserted_click(change: Change) -> ClickRecord | None:
    """The click a stream record inserted, else None."""
    new = change.new or {}
    if change.name != "INSERT" or change.key != keys.click(str(new.get("click_id", ""))):
        return None
    return click_record(new)


def inserted_share(change: Change) -> ShareRecord | None:
    """The share a stream record inserted, else None."""
    new = change.new or {}
    if change.name != "INSERT" or change.key != keys.share(str(new.get("link_id", "")), str(new.get("share_id", ""))):
        return None
    return as_record(ShareRecord, new)


def promoter_channel_change(change: Change) -> tuple[str, str] | None:
    """(promoter id, channel) when the record changed a promoter's channel counter item (which carries the
    active channel-task pointer), else None."""
    return promoter_channel_of(change.key)


def promoter_channel_of(item_key: tuple[str, str]) -> tuple[str, str] | None:
    """(promoter id, channel) when ``item_key`` is a promoter's channel counter item's, else None."""
    pk, sk = item_key
    promoter_id, channel = pk.partition("#")[2], sk.partition("#")[2]
    if not promoter_id or not channel or keys.promoter_channel(promoter_id, channel) != (pk, sk):
        return None
    return promoter_id, channel


def promoter_task_counters(promoter_id: str, limit: int) -> dict[str, dict[str, int]]:
    """The promoter's per-task counters (history) by product id, at most ``limit`` items (1 Query): each
    item's numeric attributes (counter name → count)."""
    pk, _ = keys.promoter_task_history(promoter_id, "")
    items, _ = query_page(
        TableName=table("tracking"),
        Limit=limit,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": {"S": pk}, ":prefix": {"S": keys.PROMOTER_TASK_PREFIX}},
    )
    return {
        item["sk"][len(keys.PROMOTER_TASK_PREFIX) :]: {
            name: value for name, value in item.items() if isinstance(value, int) and not isinstance(value, bool)
        }
        for item in items
    }
