"""CatalogTable: the ranking job's "dirty products" set and its checkpoint.

Whatever changes a product's counters (the counting stream consumer) marks the product dirty in the hour
it changed; the ranking job reads only the hours since its checkpoint, never the catalogue.

The checkpoint (``keys.ranking_state``) is one item with two independently versioned halves, so the hourly
pass and a full re-rank never overwrite each other's progress:

- ``next_hour``: the first hour the next pass reads; ``dirty``: a running pass's position (the hour being
  read, the last product finished in it, the last hour of the pass); ``dirty_version``.
- ``weights``: the fingerprint of the ranking weights the index reflects; ``rerank``: a running full
  re-rank's position (target fingerprint, merchant shard of the active-task index, start of the next page);
  ``rerank_version``.

Each save is conditional on the version its invocation read: of two invocations holding the same position
(a duplicated continuation message, or the schedule meeting a continuation), the first save wins and the
other stops; the work both did is idempotent (an entry is moved only when its rank changed)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tuishou import clock, settings
from tuishou.dal import clients, keys
from tuishou.dal.dynamo import TransactItem, conditional_update, get, key, query_page, table, to_item, to_value

DIRTY_MARK_TTL = timedelta(days=2)


def dirty_marks(product_ids: Iterable[str], at: datetime) -> list[TransactItem]:
    """TransactWriteItems ``Put`` items marking each product dirty in the hour it is counted (idempotent: a
    repeat writes the same item). That hour is the later of ``at`` (the fact's time) and now: a fact counted
    late (a stream retry an hour on) must land in an hour the job has not finished, never behind its
    checkpoint."""
    marked_at = max(at, clock.now())
    hour = clock.hour_bucket(marked_at)
    expires = int((marked_at + DIRTY_MARK_TTL).timestamp())
    puts = []
    for product_id in sorted(set(product_ids)):
        pk, sk = keys.ranking_dirty(hour, product_id)
        item = {"pk": pk, "sk": sk, "product_id": product_id, "expires_at": expires}
        puts.append({"Put": {"TableName": table("catalog"), "Item": to_item(item)}})
    return puts


@dataclass(frozen=True)
class DirtyPage:
    product_ids: list[str]
    more: bool  # the hour may hold products after the last one returned


def dirty_products(hour: str, after: str | None, limit: int) -> DirtyPage:
    """Up to ``limit`` products marked dirty in ``hour``, in product-id order, strictly after ``after``
    (1 Query reading one item per product)."""
    pk = keys.ranking_dirty_hour(hour)
    request: dict[str, Any] = {
        "TableName": table("catalog"),
        "Limit": limit,
        "ConsistentRead": True,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": pk}},
    }
    if after is not None:
        request["ExclusiveStartKey"] = key(*keys.ranking_dirty(hour, after))
    items, cursor = query_page(**request)
    return DirtyPage([i["product_id"] for i in items], cursor is not None)


# ---------------------------------------------------------------- the checkpoint
@dataclass(frozen=True)
class DirtyPass:
    """A pass over the dirty hours that has not finished: reading ``hour``, products up to ``after`` done,
    through hour ``until``."""

    hour: str
    after: str | None
    until: str


@dataclass(frozen=True)
class Rerank:
    """A full re-rank that has not finished: to weights ``weights``, at merchant shard ``shard`` of the
    active-task index, the next page starting at ``start`` (None: the shard's beginning)."""

    weights: str
    shard: int
    start: str | None


@dataclass(frozen=True)
class RankingState:
    next_hour: str | None = None
    dirty: DirtyPass | None = None
    dirty_version: int = 0
    weights: str | None = None
    rerank: Rerank | None = None
    rerank_version: int = 0


def state() -> RankingState:
    """The checkpoint (1 strongly consistent GetItem); all empty before the job's first run."""
    item = get("catalog", keys.ranking_state(), consistent=True)
    if item is None:
        return RankingState()
    dirty, rerank = item.get("dirty"), item.get("rerank")
    return RankingState(
        next_hour=item.get("next_hour"),
        dirty=DirtyPass(dirty["hour"], dirty.get("after"), dirty["until"]) if dirty else None,
        dirty_version=int(item.get("dirty_version", 0)),
        weights=item.get("weights"),
        rerank=Rerank(rerank["weights"], int(rerank["shard"]), rerank.get("start")) if rerank else None,
        rerank_version=int(item.get("rerank_version", 0)),
    )


def save_dirty(seen_version: int, position: DirtyPass | None, next_hour: str) -> bool:
    """Record the pass's progress (``position``), or its end (None: ``next_hour`` is where the next pass
    starts). False when another invocation saved since ``seen_version`` was read: stop, it carries on."""
    values: dict[str, Any] = {":next": {"N": str(seen_version + 1)}, ":hour": {"S": next_hour}}
    update = "SET dirty_version = :next, next_hour = :hour"
    if position is None:
        update += " REMOVE dirty"
    else:
        update += ", dirty = :position"
        values[":position"] = to_value({"hour": position.hour, "after": position.after, "until": position.until})
    return _save("dirty_version", seen_version, update, values)


def save_rerank(seen_version: int, position: Rerank | None, weights: str | None) -> bool:
    """Record a full re-rank's progress (``position``), or its end (None: the index reflects ``weights``).
    False when another invocation saved since ``seen_version`` was read."""
    values: dict[str, Any] = {":next": {"N": str(seen_version + 1)}}
    update = "SET rerank_version = :next"
    if weights is not None:
        update += ", weights = :weights"
        values[":weights"] = {"S": weights}
    if position is None:
        update += " REMOVE rerank"
    else:
        update += ", rerank = :position"
        values[":position"] = to_value({"weights": position.weights, "shard": position.shard, "start": position.start})
    return _save("rerank_version", seen_version, update, values)


def _save(version_attribute: str, seen_version: int, update: str, values: dict[str, Any]) -> bool:
    if seen_version:
        condition = f"{version_attribute} = :seen"
        values = {**values, ":seen": {"N": str(seen_version)}}
    else:
        condition = f"attribute_not_exists({version_attribute})"
    return (
        conditional_update(
            TableName=table("catalog"),
            Key=key(*keys.ranking_state()),
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
        )
        is not None
    )


def enqueue(message: dict[str, Any]) -> None:
    """A continuation for the ranking queue: the same job, a fresh invocation and time budget."""
    queue_url = settings.ranking_job().required("queue_url")
    clients.sqs().send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))
