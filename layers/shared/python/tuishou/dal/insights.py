"""Merchant insights storage: per-day aggregates, the active-task index, the promoters' category counts,
per-promoter reward overrides and the dedup markers of the daily job.

Per-day aggregates live in TrackingTable partition ``STATS#{product_id}``, written by the counting stream
consumers (``tuishou.dal.counters``) exactly once with their event:

- ``{day}#P#{promoter_id}`` promoter x product x day: clicks, promotions, transactions, revenue_minor,
  commission_minor, and the same per channel (``clicks@wechat``); the product's day and channel totals are
  their sums;
- and, for a settlement only, ``PROMOTER#{id}`` / ``CATEGORIES`` (``ADD cat#{category} 1``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tuishou import settings
from tuishou.dal import clients, keys
from tuishou.dal.dynamo import (
    ConditionFailed,
    TransactItem,
    as_record,
    batch_get,
    conditional_update,
    delete,
    index_page,
    key,
    put,
    query_all,
    query_page,
    table,
    to_item,
    update,
)
from tuishou.dal.users import ProfileRecord, profile_record
from tuishou.models.rewards import RewardRule

AGGREGATE_FIELDS = ("clicks", "promotions", "transactions", "revenue_minor", "commission_minor")
_BATCH_KEYS = 100


# ---------------------------------------------------------------- active-task index (CatalogTable)
def active_task_item(product: dict[str, Any]) -> TransactItem:
    """``Put`` of the product's ``ACTIVETASKS`` entry while active, ``Delete`` otherwise; written in the
    same transaction as the product so the index never disagrees with the product's status."""
    pk, sk = keys.active_task(product["product_id"])
    if product["status"] != "active":
        return {"Delete": {"TableName": table("catalog"), "Key": key(pk, sk)}}
    fields = {
        name: product.get(name)
        for name in (
            "product_id",
            "merchant_id",
            "title",
            "category",
            "price_minor",
            "currency",
            "reward_rules",
            "created_at",
        )
    }
    return {
        "Put": {
            "TableName": table("catalog"),
            "Item": to_item(
                {
                    **fields,
                    "pk": pk,
                    "sk": sk,
                    "gsi1pk": active_task_partition(product["merchant_id"]),
                    "gsi1sk": f"{product['merchant_id']}#{product['product_id']}",
                }
            ),
        }
    }


def active_task_partition(merchant_id: str) -> str:
    """The GSI1 partition of the merchant's active-task entries: its merchant shard's."""
    return keys.active_tasks_index(keys.merchant_shard(merchant_id))


def move_active_task(product_id: str, merchant_id: str, seen_partition: str) -> bool:
    """Move an ``ACTIVE`` entry still in ``seen_partition`` (an unsharded entry written before the index
    had merchant shards) to its merchant's shard (1 UpdateItem; False when the entry moved or is gone)."""
    updated = conditional_update(
        TableName=table("catalog"),
        Key=key(*keys.active_task(product_id)),
        UpdateExpression="SET gsi1pk = :partition",
        ConditionExpression="gsi1pk = :seen",
        ExpressionAttributeValues={
            ":partition": {"S": active_task_partition(merchant_id)},
            ":seen": {"S": seen_partition},
        },
    )
    return updated is not None


def active_task_shards() -> range:
    """The merchant shards of the active-task index (the daily job's unit of fan-out)."""
    return range(keys.ACTIVE_TASK_SHARDS)


@dataclass(frozen=True)
class ActiveTaskEntry:
    """One active product as its ``ACTIVETASKS`` entry holds it: what the insights and re-rank jobs read."""

    product_id: str
    merchant_id: str
    title: str
    category: str
    price_minor: int
    currency: str
    reward_rules: tuple[RewardRule, ...]
    created_at: str


def _active_task_entry(item: dict[str, Any]) -> ActiveTaskEntry:
    rules = tuple(RewardRule.model_validate(rule) for rule in item["reward_rules"])
    return as_record(ActiveTaskEntry, {**item, "reward_rules": rules})


@dataclass(frozen=True)
class ActiveTasksPage:
    """Active products of one merchant shard, whole merchants only, and where the next page starts
    (None: the shard is done)."""

    tasks: list[ActiveTaskEntry]
    next_from: str | None


def active_tasks_page(shard: int, start: str | None, limit: int, *, whole_merchants: bool = True) -> ActiveTasksPage:
    """Up to about ``limit`` active products of one merchant shard (GSI1 ``ACTIVETASKS#{shard}``), in merchant
    order from position ``start``. With ``whole_merchants`` a page never splits a merchant: the last merchant
    of a full page is left for the next page, unless it fills the page alone, when the rest of its tasks are
    read too (one more Query per ``limit`` tasks). Without, exactly ``limit`` (1 Query)."""
    index = keys.active_tasks_index(shard)
    items, more = index_page("catalog", index, limit, after=start, inclusive=True)
    tasks = [_active_task_entry(i) for i in items]
    if not more:
        return ActiveTasksPage(tasks, None)
    if not whole_merchants:
        return ActiveTasksPage(tasks, f"{items[-1]['gsi1sk']}#")  # strictly after the last item read
    last = tasks[-1].merchant_id
    whole = [t for t in tasks if t.merchant_id != last]
    if whole:
        return ActiveTasksPage(whole, f"{last}#")
    return _rest_of_merchant(index, last, tasks, items[-1]["gsi1sk"], limit)


def _rest_of_merchant(
    index: str, merchant_id: str, tasks: list[ActiveTaskEntry], after: str, limit: int
) -> ActiveTasksPage:
    """A merchant filling a whole page: the rest of its tasks, stopping at the first task of the next
    merchant (read again by the next page: one item more than needed, no empty continuation)."""
    while True:
        items, more = query_page(
            TableName=table("catalog"),
            IndexName="GSI1",
            Limit=limit,
            KeyConditionExpression="gsi1pk = :pk AND gsi1sk > :after",
            ExpressionAttributeValues={":pk": {"S": index}, ":after": {"S": after}},
        )
        for item in items:
            if item["merchant_id"] != merchant_id:
                return ActiveTasksPage(tasks, f"{item['merchant_id']}#")
            tasks.append(_active_task_entry(item))
        if not more:
            return ActiveTasksPage(tasks, None)
        after = items[-1]["gsi1sk"]


def enqueue(messages: list[dict[str, Any]]) -> None:
    """Messages for the insights queue (SendMessageBatch, ten a request): one per shard, or a continuation."""
    queue_url = settings.insights().required("queue_url")
    for start in range(0, len(messages), 10):
        chunk = messages[start : start + 10]
        clients.sqs().send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(n), "MessageBody": json.dumps(m)} for n, m in enumerate(chunk)],
        )


# ---------------------------------------------------------------- reading aggregates
@dataclass(frozen=True)
class DayAggregate:
    """A promoter's or a channel's counts for one product on one UTC ``day``."""

    day: str
    scope: Literal["promoter", "channel"]
    name: str  # the promoter id or the channel
    counts: Mapping[str, int]


def _day_aggregates(item: dict[str, Any]) -> list[DayAggregate]:
    """A promoter x day item: the promoter's counts and one aggregate per channel it holds counts of. A
    channel x day item from before channel counts moved onto promoter items: that channel's counts."""
    sk = item["sk"]
    day, mark, name = sk[:10], sk[10:13], sk[13:]
    if mark == keys.DAY_CHANNEL_MARK:
        return [DayAggregate(day, "channel", name, {f: int(item.get(f, 0)) for f in AGGREGATE_FIELDS})]
    if mark != keys.DAY_PROMOTER_MARK:
        return []
    by_channel: dict[str, dict[str, int]] = {}
    for attribute, value in item.items():
        field, at, channel = attribute.partition("@")
        if at and field in AGGREGATE_FIELDS:
            by_channel.setdefault(channel, {})[field] = int(value)
    return [
        DayAggregate(day, "promoter", name, {f: int(item.get(f, 0)) for f in AGGREGATE_FIELDS}),
        *(DayAggregate(day, "channel", channel, counts) for channel, counts in by_channel.items()),
    ]


def window_aggregates(product_id: str, first_day: str, last_day: str) -> list[DayAggregate]:
    """Every per-day aggregate of the product from ``first_day`` to ``last_day`` (UTC days, inclusive):
    one Query; items read = days x promoters active that day."""
    items = query_all(
        **{
            "TableName": table("tracking"),
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": keys.product_stats(product_id)},
                ":first": {"S": first_day},
                ":last": {"S": f"{last_day}#~"},
            },
        }
    )
    return [aggregate for item in items for aggregate in _day_aggregates(item)]


def promoters_context(promoter_ids: list[str]) -> dict[str, tuple[ProfileRecord | None, dict[str, int]]]:
    """{promoter: (profile, {category: transactions})}: BatchGetItem over profiles and category counts,
    ceil(2n / 100) requests."""
    wanted = sorted(set(promoter_ids))
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    per_request = _BATCH_KEYS // 2
    for start in range(0, len(wanted), per_request):
        chunk = wanted[start : start + per_request]
        found.update(
            batch_get(
                {"users": [keys.profile(p) for p in chunk], "tracking": [keys.promoter_categories(p) for p in chunk]}
            )
        )
    result = {}
    for promoter_id in wanted:
        profile = found.get(("users", *keys.profile(promoter_id)))
        counts_item = found.get(("tracking", *keys.promoter_categories(promoter_id))) or {}
        counts = {
            name[len(keys.CATEGORY_ATTRIBUTE_PREFIX) :]: int(value)
            for name, value in counts_item.items()
            if name.startswith(keys.CATEGORY_ATTRIBUTE_PREFIX)
        }
        result[promoter_id] = (None if profile is None else profile_record(profile), counts)
    return result


# ---------------------------------------------------------------- dedup markers (UsersTable)
def claim_marker(merchant_id: str, period: str, signal: str, subject: str, now: str, stale_before: str) -> bool:
    """Claim the right to send this signal this period (1 conditional PutItem). True for the first claim,
    and for a claim left unconfirmed since before ``stale_before`` (a run that died before sending);
    False when it was sent, or another run holds a fresh claim."""
    pk, sk = keys.insight_marker(merchant_id, period, signal, subject)
    try:
        put(
            "users",
            {
                "pk": pk,
                "sk": sk,
                "status": "claimed",
                "claimed_at": now,
                "signal": signal,
                "subject": subject,
                "period": period,
            },
            ConditionExpression="attribute_not_exists(pk) OR (#status = :claimed AND claimed_at < :stale)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":claimed": {"S": "claimed"}, ":stale": {"S": stale_before}},
        )
    except ConditionFailed:
        return False
    return True


def confirm_marker(merchant_id: str, period: str, signal: str, subject: str, notification_id: str, now: str) -> None:
    pk, sk = keys.insight_marker(merchant_id, period, signal, subject)
    update(
        "users",
        (pk, sk),
        UpdateExpression="SET #status = :sent, sent_at = :now, notification_id = :nid",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":sent": {"S": "sent"}, ":now": {"S": now}, ":nid": {"S": notification_id}},
    )


def release_marker(merchant_id: str, period: str, signal: str, subject: str) -> None:
    """Drop a claim whose notification failed, so a retried run sends it (never drops a sent marker)."""
    pk, sk = keys.insight_marker(merchant_id, period, signal, subject)
    with contextlib.suppress(ConditionFailed):  # already sent (or already released): nothing to undo
        delete(
            "users",
            (pk, sk),
            ConditionExpression="#status = :claimed",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":claimed": {"S": "claimed"}},
        )
