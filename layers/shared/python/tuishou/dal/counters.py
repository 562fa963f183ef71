"""Counters of clicks, promotions and transactions: the one place that writes and reads them.

What an event adds (``event_additions``): a random shard of the product's lifetime counters (CatalogTable),
the promoter's history for that task (not for a click), and one per-day aggregate item, promoter x product x
day, that also holds the per-channel counts. Every change is an atomic ``ADD`` (no read-modify-write).

Exactly once, by group commit (``count_group``): each fact is first *claimed* by a conditional PutItem of
its marker naming the chunk that counts it (1 write unit, outside any transaction); then ONE transaction
writes the chunk's record (``state: committed``) and the chunk's ADDs merged per item. A fact whose marker
already exists was counted (its chunk committed), is a repeat visit, or was claimed by a chunk that died
before committing: that last one is taken over (the dead chunk is marked abandoned, so it can never commit
late, and the marker moves to the new chunk). Markers cost one unit
instead of the two a transaction item costs, and a chunk of n facts costs one transaction item more.

Sharding: a product's counters are spread over ``PRODUCT_COUNTER_SHARDS`` items (``COUNTERS#00`` ..
``COUNTERS#09``), one chosen at random per chunk, so a hot product spreads its writes over ten items
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
from tuishou.dal.dynamo import (
    ConditionFailed,
    TransactItem,
    conditional_update,
    from_item,
    key,
    put,
    table,
    to_item,
    transact,
)

CounterField = Literal["clicks", "promotions", "transactions"]
COUNTER_FIELDS: tuple[CounterField, ...] = ("clicks", "promotions", "transactions")
PRODUCT_COUNTER_SHARDS = 10
MAX_TRANSACTION_ITEMS = 100


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


def random_shard() -> int:
    return secrets.randbelow(PRODUCT_COUNTER_SHARDS)


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
    """What one counted event adds: the product's counters (shard ``shard``: one per chunk, so a chunk's ADDs
    merge), the promoter's task history (not for a click), the promoter x product x day aggregate of ``at``'s
    UTC day with the same counts per channel (a sale adds its revenue and commission) and, for a sale of a
    categorised product, the promoter's category count."""
    if field not in COUNTER_FIELDS:
        raise ValueError(f"unknown counter field {field!r}")
    day = clock.day_bucket(at)
    day_amounts: dict[str, int] = {field: 1} | ({"revenue_minor": revenue_minor} if revenue_minor else {})
    day_amounts |= {"commission_minor": commission_minor} if commission_minor else {}
    day_amounts |= {keys.day_channel_attribute(name, channel): amount for name, amount in day_amounts.items()}
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
        Addition("tracking", keys.day_promoter(product_id, day, promoter_id), day_amounts, aggregate_expires_at),
    ]
    if category:
        additions.append(
            Addition(
                "tracking", keys.promoter_categories(promoter_id), {f"{keys.CATEGORY_ATTRIBUTE_PREFIX}{category}": 1}
            )
        )
    return additions


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


def updates(additions: Iterable[Addition]) -> list[TransactItem]:
    """TransactWriteItems ``Update`` items adding ``additions``, merged per item."""
    return [_update(addition) for addition in merged(additions)]


def _update(addition: Addition) -> TransactItem:
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

    def item_keys(self) -> set[tuple[str, str, str]]:
        return {(a.table, *a.key) for a in self.additions} | {_put_key(p) for p in self.puts}


def _put_key(put: dict[str, Any]) -> tuple[str, str, str]:
    item = put["Put"]["Item"]
    return put["Put"]["TableName"], item["pk"]["S"], item["sk"]["S"]


def pack(facts: Sequence[Fact]) -> list[list[Fact]]:
    """Facts in groups, in order, whose transaction fits ``MAX_TRANSACTION_ITEMS`` (the chunk record and the
    distinct items the facts touch; markers are claimed outside it). Two facts with the same marker (a
    visitor clicking twice, a fact delivered twice) go to different groups, in order, so that each group
    owns the markers it claims and the second sees the first's as committed."""
    groups: list[list[Fact]] = []
    current: list[Fact] = []
    touched: set[tuple[str, str, str]] = set()
    markers: set[tuple[str, str]] = set()
    for fact in facts:
        more = touched | fact.item_keys()
        if current and (fact.marker_key in markers or 1 + len(more) > MAX_TRANSACTION_ITEMS):
            groups.append(current)
            current, more, markers = [], fact.item_keys(), set()
        current.append(fact)
        touched = more
        markers.add(fact.marker_key)
    return [*groups, current] if current else groups


COMMITTED, ABANDONED = "committed", "abandoned"


def count_group(facts: list[Fact]) -> list[Fact]:
    """Count ``facts`` as one chunk: claim each (a conditional PutItem of its marker), then ONE
    TransactWriteItems of the chunk record and the merged ADDs and puts of the facts claimed. Returns the facts
    counted now (not those counted before, nor repeat visits). A cancelled transaction raises: the stream
    retries the records, and the retry takes their claims over."""
    chunk = secrets.token_hex(8)
    claimed = [fact for fact in facts if _claim(fact, chunk)]
    if not claimed:
        return []
    puts = {_put_key(p): p for fact in claimed for p in fact.puts}
    transact(
        [
            _chunk_put(chunk, max(fact.marker_expires_at for fact in claimed)),
            *updates(a for fact in claimed for a in fact.additions),
            *puts.values(),
        ]
    )
    return claimed


def _claim(fact: Fact, chunk: str) -> bool:
    """Write the fact's marker naming ``chunk``; when it exists, take it over if it is the fact's own claim by
    a chunk that never committed. False when the fact was counted before or is a repeat visit."""
    pk, sk = fact.marker_key
    item: dict[str, Any] = {
        "pk": pk,
        "sk": sk,
        "expires_at": fact.marker_expires_at,
        "chunk": chunk,
        "event_id": fact.event_id,
    }
    condition, values = "attribute_not_exists(pk)", {}
    if fact.visit:
        # a visit counts unless this visitor's last counted click on the link is within the window; the click
        # itself (replayed) is never "more than the window" after its own counted_at
        item |= {"counted_at": clock.iso(fact.at), "click_id": fact.event_id}
        condition += " OR counted_at <= :since"
        values = {":since": {"S": clock.iso(fact.at - fact.repeat_window)}}
    try:
        put(
            "tracking",
            item,
            ConditionExpression=condition,
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
            **({"ExpressionAttributeValues": values} if values else {}),
        )
    except ConditionFailed as failed:
        stored = from_item(failed.stored) or {}
        # Another click's marker is a repeat visit; a marker without a chunk predates group commit and was
        # written in the transaction of its counts.
        if stored.get("event_id", stored.get("click_id")) != fact.event_id or "chunk" not in stored:
            return False
        return _take_over(fact, stored["chunk"], chunk)
    return True


def _take_over(fact: Fact, dead: str, chunk: str) -> bool:
    """Mark chunk ``dead`` abandoned unless it committed (then it can never commit late: its record exists),
    and move the fact's marker from it to ``chunk``. False when ``dead`` had committed: the fact was counted."""
    try:
        put(
            "tracking",
            _chunk_item(dead, ABANDONED, fact.marker_expires_at),
            ConditionExpression="attribute_not_exists(pk) OR #state = :abandoned",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":abandoned": {"S": ABANDONED}},
        )
    except ConditionFailed:
        return False
    moved = conditional_update(
        TableName=table("tracking"),
        Key=key(*fact.marker_key),
        UpdateExpression="SET chunk = :chunk",
        ConditionExpression="chunk = :dead",
        ExpressionAttributeValues={":chunk": {"S": chunk}, ":dead": {"S": dead}},
    )
    return moved is not None


def _chunk_item(chunk: str, state: str, expires_at: int) -> dict[str, Any]:
    pk, sk = keys.counting_chunk(chunk)
    return {"pk": pk, "sk": sk, "state": state, "expires_at": expires_at}


def _chunk_put(chunk: str, expires_at: int) -> TransactItem:
    """The chunk's commit: fails (cancelling its counts) if a takeover marked the chunk abandoned first."""
    return {
        "Put": {
            "TableName": table("tracking"),
            "Item": to_item(_chunk_item(chunk, COMMITTED, expires_at)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
