"""Counters of clicks, promotions and transactions: the one place that writes and reads them.

Three counter items move together for every event: a random shard of the product's counters
(CatalogTable), the promoter's history for that task and the promoter's channel (TrackingTable). Every
change is an atomic ``ADD`` inside the caller's ``TransactWriteItems`` (no read-modify-write), so a
click, a share or a settlement and its counters commit or fail as one.

Sharding: a product's counters are spread over ``PRODUCT_COUNTER_SHARDS`` items (``COUNTERS#00`` ..
``COUNTERS#09``) chosen at random per write, so a hot product spreads its writes over ten items
(DynamoDB splits a hot partition by sort-key range) instead of throttling on one; reads sum the shards.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any, Literal

from tuishou.dal import keys
from tuishou.dal.dynamo import Cancelled, key, table, to_item, transact

CounterField = Literal["clicks", "promotions", "transactions"]
COUNTER_FIELDS: tuple[CounterField, ...] = ("clicks", "promotions", "transactions")
PRODUCT_COUNTER_SHARDS = 10


def _add(table_short_name: str, pk: str, sk: str, field: CounterField, amount: int) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table(table_short_name),
            "Key": key(pk, sk),
            "UpdateExpression": "ADD #field :amount",
            "ExpressionAttributeNames": {"#field": field},
            "ExpressionAttributeValues": {":amount": {"N": str(amount)}},
        }
    }


def counter_updates(
    promoter_id: str, product_id: str, channel: str, field: CounterField, amount: int = 1, *, shard: int | None = None
) -> list[dict[str, Any]]:
    """TransactWriteItems ``Update`` items adding ``amount`` to ``field`` of the product (one random
    shard), the promoter's task history and the promoter's channel. Put them in the same transaction as
    the event they count (a click, a share, a settlement) so the count is exactly-once with it."""
    if field not in COUNTER_FIELDS:
        raise ValueError(f"unknown counter field {field!r}")
    chosen = secrets.randbelow(PRODUCT_COUNTER_SHARDS) if shard is None else shard
    return [
        _add("catalog", *keys.product_counters(product_id, chosen), field, amount),
        _add("tracking", *keys.promoter_task_history(promoter_id, product_id), field, amount),
        _add("tracking", *keys.promoter_channel(promoter_id, channel), field, amount),
    ]


def zero() -> dict[str, int]:
    return dict.fromkeys(COUNTER_FIELDS, 0)


def sum_counters(items: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Sum the counter attributes of plain items (shards of one product, or any counter items)."""
    totals = zero()
    for item in items:
        for field in COUNTER_FIELDS:
            totals[field] += int(item.get(field, 0))
    return totals


def shard_keys(product_id: str) -> list[tuple[str, str]]:
    return [keys.product_counters(product_id, shard) for shard in range(PRODUCT_COUNTER_SHARDS)]


def count_once(event_id: str, expires_at: int, updates: list[dict[str, Any]]) -> bool:
    """``updates`` (counter ADDs, aggregates, dirty marks) with the fact's ``counted`` marker, in ONE
    TransactWriteItems conditional on the marker being new. False when the fact was counted before (a
    replayed stream record): nothing is added twice."""
    pk, sk = keys.counted(event_id)
    marker = {
        "Put": {
            "TableName": table("tracking"),
            "ConditionExpression": "attribute_not_exists(pk)",
            "Item": to_item({"pk": pk, "sk": sk, "expires_at": expires_at}),
        }
    }
    try:
        transact([marker, *updates])
    except Cancelled as cancelled:
        if cancelled.failed(0):
            return False
        raise
    return True
