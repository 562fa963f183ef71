"""CatalogTable: products, their counter shards and the tag-partitioned, pre-ranked task index.

Item kinds in a product's partition ``PRODUCT#{id}``: ``PRODUCT`` (the product; GSI1 = its merchant's
list), ``COUNTERS#nn`` (counter shards, see ``tuishou.dal.counters``), ``TASK#{tag}`` (one task-index
entry per rule tag while the product is active; GSI1 = ``TAG#{tag}`` / ranking sort key) and ``ACTIVE``
(while active; GSI1 = ``ACTIVETASKS``, the merchant-insights job's task list, see ``tuishou.dal.insights``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuishou.dal import counters, insights, keys
from tuishou.dal.dynamo import (
    Cancelled,
    TransactItem,
    as_record,
    batch_get,
    conditional_update,
    decode_cursor,
    get,
    index_page,
    key,
    query_all,
    query_page,
    table,
    to_item,
    to_value,
    transact,
)
from tuishou.errors import BadRequest, Conflict
from tuishou.models.rewards import RewardRule
from tuishou.models.tasks import DEFAULT_ATTRIBUTION_DAYS, DEFAULT_HOLDING_DAYS, ProductStatus

if TYPE_CHECKING:
    from tuishou.dal.streams import Change

MERCHANT_CURSOR_KEYS = {"pk", "sk", "gsi1pk", "gsi1sk"}
_BATCH_GET_MAX = 100


@dataclass(frozen=True)
class ProductRecord:
    """A merchant's product as stored: the published body, its status and its optimistic-concurrency
    version (``None`` on products written before versions existed)."""

    product_id: str
    merchant_id: str
    title: str
    category: str
    price_minor: int
    currency: str
    landing_url: str
    status: ProductStatus
    reward_rules: tuple[RewardRule, ...]
    created_at: str
    updated_at: str
    image_url: str | None = None
    description: str | None = None
    version: int | None = None
    holding_days: int = DEFAULT_HOLDING_DAYS
    attribution_days: int = DEFAULT_ATTRIBUTION_DAYS


def as_product_record(product: ProductRecord | dict[str, Any]) -> ProductRecord:
    """``product`` as a record: a record as it is, a product item (or its plain fields) read into one."""
    if isinstance(product, ProductRecord):
        return product
    rules = tuple(RewardRule.model_validate(rule) for rule in product["reward_rules"])
    return as_record(ProductRecord, {**product, "reward_rules": rules})


@dataclass(frozen=True)
class TaskIndexEntry:
    """One task-index entry to write: the product's denormalised task fields for one rule tag, and where it
    ranks (``sort_key``, the entry's GSI1 sort key)."""

    product_id: str
    merchant_id: str
    title: str
    category: str
    price_minor: int
    currency: str
    image_url: str | None
    promoter_tag: str
    reward_rules: tuple[RewardRule, ...]
    estimated_commission_minor: int
    global_score_micros: int
    sort_key: str


def _fields(record: ProductRecord | TaskIndexEntry) -> dict[str, Any]:
    """A record's attributes as stored (reward rules as plain maps)."""
    return {**vars(record), "reward_rules": [rule.model_dump(mode="json") for rule in record.reward_rules]}


def _product_item(product: ProductRecord | dict[str, Any]) -> dict[str, Any]:
    """The product item; ``product`` is a record or its plain fields (as bulk seeding builds them)."""
    product = _fields(product) if isinstance(product, ProductRecord) else product
    pk, sk = keys.product(product["product_id"])
    return to_item(
        {
            **product,
            "pk": pk,
            "sk": sk,
            "gsi1pk": keys.merchant_products(product["merchant_id"]),
            "gsi1sk": f"PRODUCT#{product['created_at']}#{product['product_id']}",
        }
    )


def _entry_item(entry: TaskIndexEntry) -> dict[str, Any]:
    pk, sk = keys.task_entry(entry.product_id, entry.promoter_tag)
    fields = {k: v for k, v in _fields(entry).items() if k != "sort_key"}
    return to_item(
        {**fields, "pk": pk, "sk": sk, "gsi1pk": keys.tag_tasks(entry.promoter_tag), "gsi1sk": entry.sort_key}
    )


def _put_entry(entry: TaskIndexEntry) -> TransactItem:
    return {"Put": {"TableName": table("catalog"), "Item": _entry_item(entry)}}


def _delete_entry(product_id: str, tag: str) -> TransactItem:
    return {"Delete": {"TableName": table("catalog"), "Key": key(*keys.task_entry(product_id, tag))}}


def _transact(items: list[TransactItem], conflict_message: str) -> None:
    try:
        transact(items)
    except Cancelled as cancelled:
        if cancelled.any_failed:
            raise Conflict(conflict_message) from cancelled
        raise


def create_product(product: ProductRecord, entries: list[TaskIndexEntry]) -> None:
    """The product and its task-index entries, all or nothing (1 TransactWriteItems)."""
    put_product = {
        "Put": {
            "TableName": table("catalog"),
            "Item": _product_item(product),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    _transact(
        [put_product, *(_put_entry(e) for e in entries), insights.active_task_item(_fields(product))],
        "product already exists",
    )


def get_product(product_id: str, *, consistent: bool = False) -> ProductRecord | None:
    """The product (1 GetItem), or None."""
    item = get("catalog", keys.product(product_id), consistent=consistent)
    return None if item is None else as_product_record(item)


@dataclass(frozen=True)
class ProductPartition:
    """What a product's partition holds: the product (None when it is gone), its summed counter shards and
    the promoter tags of its task-index entries."""

    product: ProductRecord | None
    counters: dict[str, int]
    task_tags: frozenset[str]


def product_partition(product_id: str) -> ProductPartition:
    """The product, its summed counters and its task-index tags in one Query (bounded: 1 + shards + rules
    items)."""
    pk, _ = keys.product(product_id)
    items = list(
        query_all(
            TableName=table("catalog"), KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": pk}}
        )
    )
    product = next((as_product_record(i) for i in items if i["sk"] == keys.product(product_id)[1]), None)
    shard_items = [i for i in items if i["sk"].startswith(keys.COUNTERS_PREFIX)]
    tags = frozenset(i["promoter_tag"] for i in items if i["sk"].startswith(keys.TASK_PREFIX))
    return ProductPartition(product, counters.sum_counters(shard_items), tags)


def save_product(
    product: ProductRecord, expected_version: int | None, put_entries: list[TaskIndexEntry], delete_tags: list[str]
) -> None:
    """Replace the product (only if nobody changed it since it was read: optimistic concurrency) and
    adjust its task-index entries in the same transaction."""
    values = {":merchant": to_value(product.merchant_id)}
    if expected_version is None:  # written before versions existed
        version_condition = "attribute_not_exists(#version)"
    else:
        version_condition = "#version = :seen"
        values[":seen"] = to_value(expected_version)
    put_product = {
        "Put": {
            "TableName": table("catalog"),
            "Item": _product_item(product),
            "ConditionExpression": f"merchant_id = :merchant AND {version_condition}",
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": values,
        }
    }
    items = [
        put_product,
        *(_put_entry(e) for e in put_entries),
        *(_delete_entry(product.product_id, tag) for tag in delete_tags),
        insights.active_task_item(_fields(product)),
    ]
    _transact(items, "the product changed meanwhile; retry")


def list_merchant_products(merchant_id: str, limit: int, cursor: str | None) -> tuple[list[ProductRecord], str | None]:
    """A merchant's products, newest first (1 Query on GSI1)."""
    start = decode_cursor(cursor, allowed_keys=MERCHANT_CURSOR_KEYS)
    if start is not None and start["gsi1pk"]["S"] != keys.merchant_products(merchant_id):
        raise BadRequest("malformed cursor", field="cursor")
    request: dict[str, Any] = {
        "TableName": table("catalog"),
        "IndexName": "GSI1",
        "Limit": limit,
        "ScanIndexForward": False,
        "KeyConditionExpression": "gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": keys.merchant_products(merchant_id)}, ":prefix": {"S": "PRODUCT#"}},
    }
    if start:
        request["ExclusiveStartKey"] = start
    items, next_cursor = query_page(**request)
    return [as_product_record(i) for i in items], next_cursor


def counters_of(product_ids: list[str]) -> dict[str, dict[str, int]]:
    """Summed counters of several products: BatchGetItem over their shards (ceil(n x shards / 100) calls,
    plus retries of unprocessed keys)."""
    wanted = [(pid, shard_key) for pid in product_ids for shard_key in counters.shard_keys(pid)]
    totals = {pid: counters.zero() for pid in product_ids}
    owner = {shard_key: pid for pid, shard_key in wanted}
    for start in range(0, len(wanted), _BATCH_GET_MAX):
        chunk = wanted[start : start + _BATCH_GET_MAX]
        found = batch_get({"catalog": [shard_key for _, shard_key in chunk]})
        for (_, pk, sk), item in found.items():
            pid = owner[(pk, sk)]
            for field, value in counters.sum_counters([item]).items():
                totals[pid][field] += value
    return totals


@dataclass(frozen=True)
class TagTasks:
    """Task-index entries of one tag in ranking order, and the ranking position of the last one read."""

    entries: list[TaskIndexEntry]
    last_position: str | None


def _task_entry(item: dict[str, Any]) -> TaskIndexEntry:
    """A task-index entry as read: its ranking position is its GSI1 sort key."""
    rules = tuple(RewardRule.model_validate(rule) for rule in item["reward_rules"])
    return as_record(
        TaskIndexEntry,
        {**item, "image_url": item.get("image_url"), "reward_rules": rules, "sort_key": item["gsi1sk"]},
    )


def query_tag_tasks(tag: str, after: str | None, limit: int) -> TagTasks:
    """Up to ``limit`` task-index entries of one tag in ranking order, strictly after ranking position
    ``after`` (1 Query on GSI1; reads at most ``limit`` items whatever the catalogue size)."""
    items, _ = index_page("catalog", keys.tag_tasks(tag), limit, after=after)
    return TagTasks(entries=[_task_entry(i) for i in items], last_position=items[-1]["gsi1sk"] if items else None)


@dataclass(frozen=True)
class RankedEntry:
    """One task-index entry as the ranking recalculation sees it: where it ranks now (``sort_key``)."""

    product_id: str
    promoter_tag: str
    estimated_commission_minor: int
    global_score_micros: int | None
    sort_key: str


@dataclass(frozen=True)
class ProductRanking:
    """A product's summed counter shards and its task-index entries."""

    counters: dict[str, int]
    entries: tuple[RankedEntry, ...]


def product_ranking(product_id: str) -> ProductRanking:
    """A product's summed counter shards and its task-index entries: one Query of the product's partition
    from its counter shards to its entries (reads shards + 1 + tags items; none when the product is gone)."""
    pk, _ = keys.product(product_id)
    shards: list[dict[str, Any]] = []
    entries: list[RankedEntry] = []
    for item in query_all(
        TableName=table("catalog"),
        KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
        ExpressionAttributeValues={
            ":pk": {"S": pk},
            ":first": {"S": keys.COUNTERS_PREFIX},
            ":last": {"S": f"{keys.TASK_PREFIX}~"},
        },
    ):
        sk = item["sk"]
        if sk.startswith(keys.COUNTERS_PREFIX):
            shards.append(item)
        elif sk.startswith(keys.TASK_PREFIX):
            entries.append(
                RankedEntry(
                    product_id=item["product_id"],
                    promoter_tag=item["promoter_tag"],
                    estimated_commission_minor=item["estimated_commission_minor"],
                    global_score_micros=item.get("global_score_micros"),
                    sort_key=item["gsi1sk"],
                )
            )
    return ProductRanking(counters=counters.sum_counters(shards), entries=tuple(entries))


def rerank_entry(product_id: str, tag: str, seen_sort_key: str, new_sort_key: str, global_micros: int) -> bool:
    """Move one task-index entry to its new rank, unless it changed or vanished since it was read
    (paused, rules replaced): then the newer write wins and this returns False."""
    return (
        conditional_update(
            TableName=table("catalog"),
            Key=key(*keys.task_entry(product_id, tag)),
            UpdateExpression="SET gsi1sk = :new, global_score_micros = :score",
            ConditionExpression="attribute_exists(pk) AND gsi1sk = :seen",
            ExpressionAttributeValues={
                ":new": {"S": new_sort_key},
                ":seen": {"S": seen_sort_key},
                ":score": {"N": str(global_micros)},
            },
        )
        is not None
    )


def active_product_check(product_id: str) -> TransactItem:
    """A TransactWriteItems ``ConditionCheck`` that fails unless the product exists and is active."""
    return {
        "ConditionCheck": {
            "TableName": table("catalog"),
            "Key": key(*keys.product(product_id)),
            "ConditionExpression": "#status = :active",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":active": {"S": "active"}},
        }
    }


def restore_active_task(product: ProductRecord) -> bool:
    """Write the ``ACTIVE`` entry of an active product saved before the active-task index existed, in a
    transaction that checks the product is still active (a pause meanwhile deleted nothing to restore).
    False when the entry exists or the product is not active."""
    put = insights.active_task_item(_fields(product))
    put["Put"]["ConditionExpression"] = "attribute_not_exists(pk)"
    try:
        transact([active_product_check(product.product_id), put])
    except Cancelled as cancelled:
        if cancelled.any_failed:
            return False
        raise
    return True


def product_status_change(change: Change) -> tuple[str, str] | None:
    """(product id, new status) when a catalog stream record changed a product's status, else None."""
    new, old = change.new or {}, change.old or {}
    product_id = str(new.get("product_id", ""))
    if change.name != "MODIFY" or change.key != keys.product(product_id) or new.get("status") == old.get("status"):
        return None
    return product_id, str(new["status"])
