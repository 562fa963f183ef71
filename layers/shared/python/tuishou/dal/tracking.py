"""TrackingTable: tracking links and their public codes, shares, clicks and per-promoter counters."""

from __future__ import annotations

from typing import Any

from tuishou.dal import keys
from tuishou.dal.catalog import active_product_check
from tuishou.dal.dynamo import Cancelled, batch_get, get, query_page, table, to_item, transact
from tuishou.errors import Gone

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
    promoter_id: str, product_id: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, Any] | None]:
    """(promoter profile, product, the promoter's existing link for it) in ONE BatchGetItem over three
    tables."""
    profile, product = keys.profile(promoter_id), keys.product(product_id)
    link = keys.promoter_link(promoter_id, product_id)
    found = batch_get({"users": [profile], "catalog": [product], "tracking": [link]})
    return (
        _plain(found.get(("users", *profile))),
        _plain(found.get(("catalog", *product))),
        _plain(found.get(("tracking", *link))),
    )


def share_context(link_id: str, promoter_id: str, channel: str) -> tuple[dict[str, Any] | None, ...]:
    """(the link, the promoter's counter item on ``channel``, the channel's bonus offer) in ONE
    BatchGetItem: the counter item carries the active channel bonus task, if any, so neither progress nor
    the offer costs another read."""
    link, counter, offer = keys.link(link_id), keys.promoter_channel(promoter_id, channel), keys.channel_offer(channel)
    found = batch_get({"tracking": [link, counter], "catalog": [offer]})
    return (_plain(found.get(("tracking", *link))), found.get(("tracking", *counter)), found.get(("catalog", *offer)))


def create_link(link: dict[str, Any], landing_url: str) -> None:
    """The link, the promoter's one-link-per-task marker and the public code item (which carries what a
    click needs, so a click reads one item), all or nothing."""
    not_exists = "attribute_not_exists(pk)"
    tracking = table("tracking")
    items = [
        {
            "Put": {
                "TableName": tracking,
                "ConditionExpression": not_exists,
                "Item": to_item(
                    {
                        **link,
                        **dict(
                            zip(("pk", "sk"), keys.promoter_link(link["promoter_id"], link["product_id"]), strict=True)
                        ),
                    }
                ),
            }
        },
        {
            "Put": {
                "TableName": tracking,
                "ConditionExpression": not_exists,
                "Item": to_item({**link, **dict(zip(("pk", "sk"), keys.link(link["link_id"]), strict=True))}),
            }
        },
        {
            "Put": {
                "TableName": tracking,
                "ConditionExpression": not_exists,
                "Item": to_item(
                    {
                        **link,
                        "landing_url": landing_url,
                        **dict(zip(("pk", "sk"), keys.link_code(link["code"]), strict=True)),
                    }
                ),
            }
        },
    ]
    try:
        transact(items)
    except Cancelled as cancelled:
        if cancelled.failed(0):
            raise LinkExists() from cancelled
        if cancelled.any_failed:
            raise CodeTaken() from cancelled
        raise


def get_promoter_link(promoter_id: str, product_id: str) -> dict[str, Any] | None:
    return _get("tracking", keys.promoter_link(promoter_id, product_id))


def get_code(code: str) -> dict[str, Any] | None:
    return _get("tracking", keys.link_code(code))


def _record(
    event_pk_sk: tuple[str, str], event: dict[str, Any], product_id: str, counter_items: list[dict[str, Any]]
) -> None:
    """ConditionCheck(product active) + Put(event) + counter ADDs in ONE TransactWriteItems; 410 when
    the product is paused."""
    put = {
        "Put": {
            "TableName": table("tracking"),
            "ConditionExpression": "attribute_not_exists(pk)",
            "Item": to_item({**event, "pk": event_pk_sk[0], "sk": event_pk_sk[1]}),
        }
    }
    try:
        transact([active_product_check(product_id), put, *counter_items])
    except Cancelled as cancelled:
        if cancelled.failed(0):
            raise Gone("the product is paused") from cancelled
        raise


def record_share(share: dict[str, Any], counter_items: list[dict[str, Any]]) -> None:
    _record(keys.share(share["link_id"], share["share_id"]), share, share["product_id"], counter_items)


def record_click(click: dict[str, Any], counter_items: list[dict[str, Any]]) -> None:
    _record(keys.click(click["click_id"]), click, click["product_id"], counter_items)


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
