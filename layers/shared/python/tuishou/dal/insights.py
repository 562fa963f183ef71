"""Merchant insights storage: per-day aggregates, the active-task index, the promoters' category counts,
per-promoter reward overrides and the dedup markers of the daily job.

Per-day aggregates live in TrackingTable partition ``STATS#{product_id}`` (see ``keys.day_*``); each
hot-path transaction that already counts (click, share, settlement) carries their ``ADD`` items, so an
aggregate is exactly-once with its event and costs no extra request:

- ``{day}#D#{shard}`` product x day, one of ``PRODUCT_COUNTER_SHARDS`` random shards (a hot product
  spreads its writes like the lifetime counters do): clicks, promotions, transactions, revenue_minor,
  commission_minor;
- ``{day}#C#{channel}`` channel x product x day, same fields;
- ``{day}#P#{promoter_id}`` promoter x product x day, same fields;
- and, for a settlement only, ``PROMOTER#{id}`` / ``CATEGORIES`` (``ADD cat#{category} 1``).
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from tuishou import clock, settings
from tuishou.dal import clients, keys
from tuishou.dal.counters import PRODUCT_COUNTER_SHARDS
from tuishou.dal.dynamo import (
    ConditionFailed,
    batch_get,
    call,
    index_page,
    key,
    put,
    query_all,
    query_page,
    table,
    to_item,
)

AGGREGATE_FIELDS = ("clicks", "promotions", "transactions", "revenue_minor", "commission_minor")
_BATCH_KEYS = 100


# ---------------------------------------------------------------- hot-path transaction items
def _add(table_short_name: str, pk_sk: tuple[str, str], amounts: dict[str, int]) -> dict[str, Any]:
    names = {f"#f{i}": name for i, name in enumerate(amounts)}
    values = {f":v{i}": {"N": str(amount)} for i, amount in enumerate(amounts.values())}
    return {
        "Update": {
            "TableName": table(table_short_name),
            "Key": key(*pk_sk),
            "UpdateExpression": "ADD " + ", ".join(f"#f{i} :v{i}" for i in range(len(amounts))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def window_updates(
    promoter_id: str,
    product_id: str,
    channel: str,
    field: str,
    at: datetime,
    *,
    shard: int | None = None,
    revenue_minor: int = 0,
    commission_minor: int = 0,
) -> list[dict[str, Any]]:
    """TransactWriteItems ``Update`` items adding one ``field`` event (clicks | promotions | transactions)
    on ``at``'s UTC day to the product x day shard, channel x product x day and promoter x product x day
    aggregates (+3 items). A sale also adds its revenue and commission."""
    if field not in AGGREGATE_FIELDS[:3]:
        raise ValueError(f"unknown aggregate field {field!r}")
    day = clock.day_bucket(at)
    amounts = {field: 1}
    if revenue_minor:
        amounts["revenue_minor"] = revenue_minor
    if commission_minor:
        amounts["commission_minor"] = commission_minor
    chosen = secrets.randbelow(PRODUCT_COUNTER_SHARDS) if shard is None else shard
    return [
        _add("tracking", keys.day_totals(product_id, day, chosen), amounts),
        _add("tracking", keys.day_channel(product_id, day, channel), amounts),
        _add("tracking", keys.day_promoter(product_id, day, promoter_id), amounts),
    ]


def sale_updates(
    promoter_id: str, product: dict[str, Any], channel: str, at: datetime, amount_minor: int, commission_minor: int
) -> list[dict[str, Any]]:
    """What a settlement adds for insights (+4 items): the three per-day aggregates with the sale's
    revenue and commission, and one more transaction in the promoter's count for the product's category."""
    category = category_update(promoter_id, product["category"])
    return [
        *window_updates(
            promoter_id,
            product["product_id"],
            channel,
            "transactions",
            at,
            revenue_minor=amount_minor,
            commission_minor=commission_minor,
        ),
        category,
    ]


def category_update(promoter_id: str, category: str) -> dict[str, Any]:
    """One more sale in the promoter's count for ``category`` (the outside-usual-category hint)."""
    return _add("tracking", keys.promoter_categories(promoter_id), {f"{keys.CATEGORY_ATTRIBUTE_PREFIX}{category}": 1})


# ---------------------------------------------------------------- active-task index (CatalogTable)
def active_task_item(product: dict[str, Any]) -> dict[str, Any]:
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
                    "gsi1pk": keys.active_tasks_index(keys.merchant_shard(product["merchant_id"])),
                    "gsi1sk": f"{product['merchant_id']}#{product['product_id']}",
                }
            ),
        }
    }


def active_task_shards() -> range:
    """The merchant shards of the active-task index (the daily job's unit of fan-out)."""
    return range(keys.ACTIVE_TASK_SHARDS)


@dataclass(frozen=True)
class ActiveTasksPage:
    """Active products of one merchant shard, whole merchants only, and where the next page starts
    (None: the shard is done)."""

    tasks: list[dict[str, Any]]
    next_from: str | None


def active_tasks_page(shard: int, start: str | None, limit: int, *, whole_merchants: bool = True) -> ActiveTasksPage:
    """Up to about ``limit`` active products of one merchant shard (GSI1 ``ACTIVETASKS#{shard}``), in merchant
    order from position ``start``. With ``whole_merchants`` a page never splits a merchant: the last merchant
    of a full page is left for the next page, unless it fills the page alone, when the rest of its tasks are
    read too (one more Query per ``limit`` tasks). Without, exactly ``limit`` (1 Query)."""
    index = keys.active_tasks_index(shard)
    items, more = index_page("catalog", index, limit, after=start, inclusive=True)
    tasks = [_strip_index(i) for i in items]
    if not more:
        return ActiveTasksPage(tasks, None)
    if not whole_merchants:
        return ActiveTasksPage(tasks, f"{items[-1]['gsi1sk']}#")  # strictly after the last item read
    last = tasks[-1]["merchant_id"]
    whole = [t for t in tasks if t["merchant_id"] != last]
    if whole:
        return ActiveTasksPage(whole, f"{last}#")
    return _rest_of_merchant(index, last, tasks, items[-1]["gsi1sk"], limit)


def _rest_of_merchant(
    index: str, merchant_id: str, tasks: list[dict[str, Any]], after: str, limit: int
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
            tasks.append(_strip_index(item))
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


def _strip_index(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in {"pk", "sk", "gsi1pk", "gsi1sk"}}


# ---------------------------------------------------------------- reading aggregates
DayScope = Literal["totals", "channel", "promoter"]
_SCOPES: dict[str, DayScope] = {
    keys.DAY_TOTALS_MARK: "totals",
    keys.DAY_CHANNEL_MARK: "channel",
    keys.DAY_PROMOTER_MARK: "promoter",
}


@dataclass(frozen=True)
class DayAggregate:
    """One per-day aggregate of a product: a totals shard (``name`` = the shard), a channel's or a
    promoter's counts for one UTC ``day``."""

    day: str
    scope: DayScope
    name: str
    counts: Mapping[str, int]


def _day_aggregate(item: dict[str, Any]) -> DayAggregate | None:
    sk = item["sk"]
    scope = _SCOPES.get(sk[10:13])
    if scope is None:
        return None
    return DayAggregate(
        day=sk[:10], scope=scope, name=sk[13:], counts={f: int(item.get(f, 0)) for f in AGGREGATE_FIELDS}
    )


def window_aggregates(product_id: str, first_day: str, last_day: str) -> list[DayAggregate]:
    """Every per-day aggregate of the product from ``first_day`` to ``last_day`` (UTC days, inclusive):
    one Query; items read = days x (shards + channels + promoters active that day)."""
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
    return [a for a in map(_day_aggregate, items) if a is not None]


def promoters_context(promoter_ids: list[str]) -> dict[str, tuple[dict[str, Any] | None, dict[str, int]]]:
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
        result[promoter_id] = (profile, counts)
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
    call(
        "update_item",
        TableName=table("users"),
        Key=key(pk, sk),
        UpdateExpression="SET #status = :sent, sent_at = :now, notification_id = :nid",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":sent": {"S": "sent"}, ":now": {"S": now}, ":nid": {"S": notification_id}},
    )


def release_marker(merchant_id: str, period: str, signal: str, subject: str) -> None:
    """Drop a claim whose notification failed, so a retried run sends it (never drops a sent marker)."""
    pk, sk = keys.insight_marker(merchant_id, period, signal, subject)
    with contextlib.suppress(ConditionFailed):  # already sent (or already released): nothing to undo
        call(
            "delete_item",
            TableName=table("users"),
            Key=key(pk, sk),
            ConditionExpression="#status = :claimed",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":claimed": {"S": "claimed"}},
        )
