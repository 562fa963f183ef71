"""LedgerTable access for the double-entry ledger: entries, balances, rewardable events and grants, and
the one ``TransactWriteItems`` call every money movement goes through."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tuishou import clock
from tuishou.dal import dynamo, keys
from tuishou.dal.dynamo import Cancelled as Cancelled  # what ``write`` raises, for its callers
from tuishou.ids import new_id
from tuishou.models.ledger import SYSTEM_PREFIX, LedgerState, LedgerTransaction, Posting, RewardableEvent


def _ledger() -> str:
    return dynamo.table("ledger")


def write(items: list[dynamo.TransactItem]) -> None:
    """One atomic TransactWriteItems (``dynamo.transact``): cancellation raises ``Cancelled``. Every money
    movement goes through this one function, so a test can interpose on it."""
    dynamo.transact(items)


def posting_items(
    *transactions: LedgerTransaction, available_at_least: Mapping[tuple[str, str], int] | None = None
) -> list[dynamo.TransactItem]:
    """Immutable entry Puts for every posting, and one update per touched balance: ``balance_minor`` and the
    posting's state bucket (``pending_minor``...) are ADDed, deltas of several transactions on the same
    account netted (DynamoDB allows one operation per item per transaction). The balance of each
    ``(account_id, currency)`` in ``available_at_least`` must hold at least that much ``available_minor``
    before the update (a payout's guard), or the transaction is cancelled on that item."""
    items: list[dynamo.TransactItem] = []
    deltas: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for txn in transactions:
        for posting in txn.postings:
            items.append(_entry_put(txn, posting))
            account = deltas[(posting.account_id, txn.currency)]
            account["balance_minor"] += posting.amount_minor
            if posting.state:
                account[f"{posting.state}_minor"] += posting.amount_minor
    now = clock.iso()
    guards = available_at_least or {}
    for (account_id, currency), delta in sorted(deltas.items()):
        names = sorted(delta)
        values = {f":{name}": dynamo.to_value(delta[name]) for name in names}
        update: dict[str, Any] = {
            "TableName": _ledger(),
            "Key": dynamo.key(*keys.account_balance(account_id, currency)),
            "UpdateExpression": "ADD "
            + ", ".join(f"{name} :{name}" for name in names)
            + " SET account_id = :account, currency = :currency, updated_at = :now",
            "ExpressionAttributeValues": {
                **values,
                ":account": {"S": account_id},
                ":currency": {"S": currency},
                ":now": {"S": now},
            },
        }
        if (account_id, currency) in guards:
            update["ConditionExpression"] = "available_minor >= :need"
            update["ExpressionAttributeValues"][":need"] = dynamo.to_value(guards[(account_id, currency)])
        items.append({"Update": update})
    return items


def _entry_put(txn: LedgerTransaction, posting: Posting) -> dynamo.TransactItem:
    entry_id = new_id("ent")
    pk, sk = keys.account_entry(posting.account_id, txn.created_at, entry_id)
    entry = {
        "pk": pk,
        "sk": sk,
        "entry_id": entry_id,
        "transaction_id": txn.transaction_id,
        "account_id": posting.account_id,
        "kind": posting.kind,
        "amount_minor": posting.amount_minor,
        "side": "credit" if posting.amount_minor > 0 else "debit",
        "currency": txn.currency,
        "created_at": txn.created_at,
        "reference": txn.reference,
        **({"state": posting.state} if posting.state else {}),
    }
    return {
        "Put": {
            "TableName": _ledger(),
            "Item": dynamo.to_item(entry),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def grant_put(event_id: str, transaction_id: str) -> dynamo.TransactItem:
    """The grant record: present iff the event's money is in the ledger. Its condition is the exactly-once."""
    pk, sk = keys.grant(event_id)
    return {
        "Put": {
            "TableName": _ledger(),
            "Item": dynamo.to_item(
                {"pk": pk, "sk": sk, "event_id": event_id, "transaction_id": transaction_id, "granted_at": clock.iso()}
            ),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def event_item(event: RewardableEvent) -> dict[str, Any]:
    """The one shape of a rewardable event in the one store: ``EVENT#{id}`` / ``EVENT``, indexed by its UTC
    hour on GSI1 (``EVENTS#{hour}`` / ``{occurred_at}#{event_id}``) for window scans."""
    pk, sk = keys.rewardable_event(event.event_id)
    occurred_at = clock.iso(event.occurred_at)
    return {
        "pk": pk,
        "sk": sk,
        "event_id": event.event_id,
        "kind": event.kind,
        "user_id": event.user_id,
        "amount_minor": event.amount_minor,
        "currency": event.currency,
        "occurred_at": occurred_at,
        "recorded_at": clock.iso(),
        "details": event.details,
        "gsi1pk": keys.events_in_hour(clock.hour_bucket(event.occurred_at)),
        "gsi1sk": f"{occurred_at}#{event.event_id}",
    }


def event_put(event: RewardableEvent) -> dynamo.TransactItem:
    """The event as a transaction item (first version wins), for flows that record it atomically with
    their own state (a channel task's completion, a promoter's registration)."""
    return {
        "Put": {
            "TableName": _ledger(),
            "Item": dynamo.to_item(event_item(event)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def put_event_if_absent(event: RewardableEvent) -> RewardableEvent:
    """Record a rewardable event; a redelivery finds it there and keeps the first version. Returns the
    version stored either way (the old one comes back with the failed condition: still one request)."""
    item = event_item(event)
    try:
        dynamo.put(
            "ledger",
            item,
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except dynamo.ConditionFailed as failed:
        return rewardable_event(dynamo.from_item(failed.stored) or item)
    return rewardable_event(item)


def rewardable_event(item: Mapping[str, Any]) -> RewardableEvent:
    """A stored event item (or a stream image of one) as the domain's ``RewardableEvent``."""
    return RewardableEvent(
        event_id=item["event_id"],
        kind=item["kind"],
        user_id=item["user_id"],
        amount_minor=int(item["amount_minor"]),
        currency=item["currency"],
        occurred_at=clock.parse_iso(item["occurred_at"]),
        details=item.get("details") or {},
    )


def event_granted_update(event_id: str, transaction_id: str, granted_at: str) -> dynamo.TransactItem:
    """Stamp the event as granted, in the grant's transaction. ``attribute_exists`` enforces that every
    grant has its event recorded first; the stamp lets a scan skip granted events without a read."""
    return {
        "Update": {
            "TableName": _ledger(),
            "Key": dynamo.key(*keys.rewardable_event(event_id)),
            "UpdateExpression": "SET granted_at = :at, grant_transaction_id = :txn",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":at": {"S": granted_at}, ":txn": {"S": transaction_id}},
        }
    }


def event_refunded_update(event_id: str, refunded_minor: int) -> dynamo.TransactItem:
    """Mark an ungranted event refunded up to ``refunded_minor`` (cumulative), in the refund's transaction
    (which also checks the grant is still absent): a later grant posts only what was not refunded."""
    return {
        "Update": {
            "TableName": _ledger(),
            "Key": dynamo.key(*keys.rewardable_event(event_id)),
            "UpdateExpression": "SET refunded_minor = :refunded",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":refunded": dynamo.to_value(refunded_minor)},
        }
    }


def grant_absent_check(event_id: str) -> dynamo.TransactItem:
    """A transaction item that fails once the event's grant record exists (its money is posted)."""
    return {
        "ConditionCheck": {
            "TableName": _ledger(),
            "Key": dynamo.key(*keys.grant(event_id)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def get_event(event_id: str) -> dict[str, Any] | None:
    return dynamo.get("ledger", keys.rewardable_event(event_id), consistent=True)


def events_in_window(hour_bucket: str, start: str, end: str) -> list[dict[str, Any]]:
    """Every event of one hour bucket with ``start <= occurred_at < end`` (Query GSI1, all pages)."""
    found = dynamo.query_all(
        TableName=_ledger(),
        IndexName="GSI1",
        KeyConditionExpression="gsi1pk = :pk AND gsi1sk BETWEEN :start AND :end",
        ExpressionAttributeValues={
            ":pk": {"S": keys.events_in_hour(hour_bucket)},
            ":start": {"S": start},
            ":end": {"S": f"{end}#"},
        },
    )
    return [item for item in found if item["occurred_at"] < end]


@dataclass(frozen=True)
class EntryRecord:
    """One immutable ledger entry as the audit checks it: an amount posted to an account by a transaction."""

    account_id: str
    currency: str
    amount_minor: int
    transaction_id: str
    reference: str | None
    state: LedgerState | None = None


@dataclass(frozen=True)
class StatementEntry:
    """One immutable ledger entry as an account statement lists it."""

    entry_id: str
    transaction_id: str
    kind: str
    amount_minor: int
    currency: str
    created_at: str
    reference: str | None = None
    state: LedgerState | None = None


@dataclass(frozen=True)
class BalanceRecord:
    """An account's balance in one currency: the sum of its entries, and for a user account the same money by
    lifecycle state (the four buckets sum to ``balance_minor``)."""

    account_id: str
    currency: str
    balance_minor: int
    pending_minor: int = 0
    available_minor: int = 0
    in_payout_minor: int = 0
    paid_minor: int = 0

    def in_state(self, state: LedgerState) -> int:
        return int(getattr(self, f"{state}_minor"))


MoneyRecord = EntryRecord | BalanceRecord


def _balance(item: Mapping[str, Any]) -> BalanceRecord:
    record = dynamo.as_record(BalanceRecord, item)
    buckets = ("pending_minor", "available_minor", "in_payout_minor", "paid_minor")
    if not any(name in item for name in buckets) and not record.account_id.startswith(SYSTEM_PREFIX):
        # A balance written before lifecycle states: all of it was credited at once, so it is available.
        return dataclasses.replace(record, available_minor=record.balance_minor)
    return record


def balances(account_id: str) -> list[BalanceRecord]:
    """Every currency balance of an account (one Query; an account holds a handful of currencies)."""
    items, _ = dynamo.query_page(
        TableName=_ledger(),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={
            ":pk": {"S": keys.account_partition(account_id)},
            ":prefix": {"S": keys.BALANCE_PREFIX},
        },
    )
    return [_balance(item) for item in items]


def entries(account_id: str, limit: int, cursor: str | None = None) -> tuple[list[StatementEntry], str | None]:
    """A page of the account's entries, newest first, and the cursor of the next page."""
    partition = keys.account_partition(account_id)
    items, next_cursor = dynamo.prefix_newest_first("ledger", partition, keys.ENTRY_PREFIX, limit, cursor)
    return [dynamo.as_record(StatementEntry, item) for item in items], next_cursor


def entries_from(account_id: str, start: str, end: str | None = None) -> Iterator[StatementEntry]:
    """The account's entries with ``start <= created_at < end`` (or to now), oldest first: a Query, every page.
    For statements: it reads the account's activity since ``start``, never the whole history."""
    bounds = {":start": {"S": f"{keys.ENTRY_PREFIX}{start}"}, ":end": {"S": f"{keys.ENTRY_PREFIX}{end or '~'}"}}
    for item in dynamo.query_all(
        TableName=_ledger(),
        KeyConditionExpression="pk = :pk AND sk BETWEEN :start AND :end",
        ExpressionAttributeValues={":pk": {"S": keys.account_partition(account_id)}, **bounds},
    ):
        if end is None or item["created_at"] < end:
            yield dynamo.as_record(StatementEntry, item)


def money_records(items: Iterable[Mapping[str, Any]]) -> Iterator[MoneyRecord]:
    """The entry and balance items among ``items`` (ledger items as stored), as typed records; any other
    item is left out."""
    for item in items:
        sk = item["sk"]
        if sk.startswith(keys.BALANCE_PREFIX):
            yield _balance(item)
        elif sk.startswith(keys.ENTRY_PREFIX):
            yield EntryRecord(
                item["account_id"],
                item["currency"],
                int(item["amount_minor"]),
                item["transaction_id"],
                item.get("reference"),
                item.get("state"),
            )


def scan_money_records() -> Iterator[MoneyRecord]:
    """Every entry and balance of the ledger: a full-table Scan (filtered server-side, consistent reads,
    page after page). Only for the admin audit and soak checks, never on a request path: it reads the
    whole table."""
    return money_records(
        dynamo.scan_all(
            TableName=_ledger(),
            ConsistentRead=True,
            FilterExpression="begins_with(sk, :entry) OR begins_with(sk, :balance)",
            ExpressionAttributeValues={":entry": {"S": keys.ENTRY_PREFIX}, ":balance": {"S": keys.BALANCE_PREFIX}},
        )
    )
