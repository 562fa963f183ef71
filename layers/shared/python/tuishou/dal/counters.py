"""Counters of clicks, promotions and transactions: the one place that writes and reads them.

Three counter items move together for every event: a random shard of the product's counters
(CatalogTable), the promoter's history for that task and the promoter's channel (TrackingTable), with the
per-day aggregates. Every change is an atomic ``ADD`` (no read-modify-write). The stream consumers count
a chunk of facts at once (``pack`` / ``count_group``): one conditional marker per fact and the chunk's
ADDs merged per item, in as few ``TransactWriteItems`` as the 100-item limit allows; a fact counted
before (a replayed record) fails its marker and is dropped, the rest commit.

Sharding: a product's counters are spread over ``PRODUCT_COUNTER_SHARDS`` items (``COUNTERS#00`` ..
``COUNTERS#09``) chosen at random per write, so a hot product spreads its writes over ten items
(DynamoDB splits a hot partition by sort-key range) instead of throttling on one; reads sum the shards.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from tuishou import clock
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


@dataclass(frozen=True)
class Addition:
    """Numbers to ADD to one counter or aggregate item (and when it may expire, for per-day aggregates)."""

    table: str
    key: tuple[str, str]
    amounts: dict[str, int]
    expires_at: int | None = None


def event_additions(
    promoter_id: str,
    product_id: str,
    channel: str,
    field: CounterField,
    at: datetime,
    *,
    aggregate_expires_at: int,
    shard: int,
    revenue_minor: int = 0,
    commission_minor: int = 0,
    category: str | None = None,
) -> list[Addition]:
    """What one counted event adds: the product's counters (a random shard), the promoter's task history
    (not for a click), the per-day aggregates of ``at``'s UTC day (product shard, channel, promoter; a sale adds
    its revenue and commission) and, for a sale of a categorised product, the promoter's category count.
    ``shard``: the product's counter and day-total shard (one per chunk, so a chunk's ADDs merge)."""
    if field not in COUNTER_FIELDS:
        raise ValueError(f"unknown counter field {field!r}")
    day = clock.day_bucket(at)
    day_amounts: dict[str, int] = {field: 1} | ({"revenue_minor": revenue_minor} if revenue_minor else {})
    day_amounts |= {"commission_minor": commission_minor} if commission_minor else {}
    one: dict[str, int] = {field: 1}
    # The promoter's task history feeds the personal score, which reads promotions and transactions only: a
    # click does not write it. Nothing reads per-promoter channel counts, so none are kept (the channel item
    # holds the channel-task pointer, and a counter ADD there would also wake the tracking stream).
    history = (
        [] if field == "clicks" else [Addition("tracking", keys.promoter_task_history(promoter_id, product_id), one)]
    )
    additions = [
        Addition("catalog", keys.product_counters(product_id, shard), one),
        *history,
        *(
            Addition("tracking", aggregate, day_amounts, aggregate_expires_at)
            for aggregate in (
                keys.day_totals(product_id, day, shard),
                keys.day_channel(product_id, day, channel),
                keys.day_promoter(product_id, day, promoter_id),
            )
        ),
    ]
    if category:
        additions.append(
            Addition(
                "tracking", keys.promoter_categories(promoter_id), {f"{keys.CATEGORY_ATTRIBUTE_PREFIX}{category}": 1}
            )
        )
    return additions


@dataclass(frozen=True)
class Fact:
    """One fact to count once: its marker (``keys.counted`` by its id, or ``keys.visit`` for a click with a
    visitor: then a repeat of that visitor on that link within ``repeat_window`` is not counted), what it
    adds, and the idempotent ``Put`` items that go with it (ranking dirty marks)."""

    event_id: str
    at: datetime
    marker_expires_at: int
    additions: list[Addition]
    puts: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    visit: tuple[str, str] | None = None  # (link id, visitor)
    repeat_window: timedelta = timedelta(0)

    @property
    def marker_key(self) -> tuple[str, str]:
        return keys.visit(*self.visit) if self.visit else keys.counted(self.event_id)

    def marker(self) -> dict[str, Any]:
        pk, sk = self.marker_key
        item: dict[str, Any] = {"pk": pk, "sk": sk, "expires_at": self.marker_expires_at}
        put: dict[str, Any] = {"TableName": table("tracking"), "ConditionExpression": "attribute_not_exists(pk)"}
        if self.visit:
            # a visit counts unless this visitor's last counted click on the link is within the window; the
            # click itself (replayed) is never "more than the window" after its own counted_at
            item |= {"counted_at": clock.iso(self.at), "click_id": self.event_id}
            put["ConditionExpression"] = "attribute_not_exists(pk) OR counted_at <= :since"
            put["ExpressionAttributeValues"] = {":since": {"S": clock.iso(self.at - self.repeat_window)}}
        return {"Put": put | {"Item": to_item(item)}}

    def item_keys(self) -> set[tuple[str, str, str]]:
        return {(a.table, *a.key) for a in self.additions} | {_put_key(p) for p in self.puts}


MAX_TRANSACTION_ITEMS = 100


def _put_key(put: dict[str, Any]) -> tuple[str, str, str]:
    item = put["Put"]["Item"]
    return put["Put"]["TableName"], item["pk"]["S"], item["sk"]["S"]


def random_shard() -> int:
    return secrets.randbelow(PRODUCT_COUNTER_SHARDS)


def merged(additions: Iterable[Addition]) -> list[Addition]:
    """One ``Addition`` per item: the sums of everything added to it (a transaction touches an item once)."""
    by_item: dict[tuple[str, str, str], Addition] = {}
    for addition in additions:
        ident = (addition.table, *addition.key)
        found = by_item.get(ident)
        if found is None:
            by_item[ident] = Addition(addition.table, addition.key, dict(addition.amounts), addition.expires_at)
            continue
        for name, amount in addition.amounts.items():
            found.amounts[name] = found.amounts.get(name, 0) + amount
        if addition.expires_at is not None:
            by_item[ident] = Addition(
                found.table, found.key, found.amounts, max(addition.expires_at, found.expires_at or 0)
            )
    return list(by_item.values())


def update(addition: Addition) -> dict[str, Any]:
    """The TransactWriteItems ``Update`` adding ``addition.amounts`` (and setting ``expires_at``)."""
    names = {f"#a{i}": name for i, name in enumerate(addition.amounts)}
    values = {f":a{i}": {"N": str(amount)} for i, amount in enumerate(addition.amounts.values())}
    expression = "ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(names)))
    if addition.expires_at is not None:
        expression += " SET expires_at = :expires"
        values[":expires"] = {"N": str(addition.expires_at)}
    return {
        "Update": {
            "TableName": table(addition.table),
            "Key": key(*addition.key),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def pack(facts: Sequence[Fact]) -> list[list[Fact]]:
    """Facts in groups that fit one transaction each (a marker per fact plus the distinct items they
    touch, at most ``MAX_TRANSACTION_ITEMS``); two facts with the same marker (a visitor clicking twice)
    go to different groups, in order, so the second sees the first's marker."""
    groups: list[list[Fact]] = []
    current: list[Fact] = []
    touched: set[tuple[str, str, str]] = set()
    markers: set[tuple[str, str]] = set()
    for fact in facts:
        more = touched | fact.item_keys()
        if current and (fact.marker_key in markers or len(current) + 1 + len(more) > MAX_TRANSACTION_ITEMS):
            groups.append(current)
            current, touched, markers = [], set(), set()
            more = fact.item_keys()
        current.append(fact)
        touched = more
        markers.add(fact.marker_key)
    return [*groups, current] if current else groups


def count_group(facts: list[Fact]) -> list[Fact]:
    """Count ``facts`` in ONE TransactWriteItems: their markers (conditional), the merged ADDs and the
    puts. A fact whose marker condition fails (counted before, or a repeat visit) is dropped and the
    rest retried. Returns the facts counted now."""
    pending = list(facts)
    while pending:
        puts = {_put_key(p): p for fact in pending for p in fact.puts}
        items = [
            *(fact.marker() for fact in pending),
            *(update(a) for a in merged(a for fact in pending for a in fact.additions)),
            *puts.values(),
        ]
        try:
            transact(items)
        except Cancelled as cancelled:
            kept = [fact for index, fact in enumerate(pending) if not cancelled.failed(index)]
            if len(kept) == len(pending):
                raise  # not a marker: a conflict or throttling, the stream retries the chunk
            pending = kept
            continue
        return pending
    return []
