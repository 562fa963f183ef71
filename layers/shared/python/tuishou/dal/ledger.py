"""LedgerTable access for the double-entry ledger: entries, balances, rewardable events and grants, and
the one ``TransactWriteItems`` call every money movement goes through."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tuishou import clock
from tuishou.dal import dynamo, keys
from tuishou.dal.dynamo import Cancelled as Cancelled  # what ``write`` raises, for its callers
from tuishou.errors import BadRequest
from tuishou.ids import new_id
from tuishou.models.ledger import LedgerTransaction, RewardableEvent


def _ledger() -> str:
    return dynamo.table("ledger")


def write(items: list[dynamo.TransactItem]) -> None:
    """One atomic TransactWriteItems (``dynamo.transact``): cancellation raises ``Cancelled``. Every money
    movement goes through this one function, so a test can interpose on it."""
    dynamo.transact(items)


def posting_items(*transactions: LedgerTransaction) -> list[dynamo.TransactItem]:
    """Immutable entry Puts for every posting, and one ADD per touched balance (deltas of several
    transactions on the same account are netted: DynamoDB allows one operation per item per transaction)."""
    items: list[dynamo.TransactItem] = []
    deltas: dict[tuple[str, str], int] = defaultdict(int)
    for txn in transactions:
        for posting in txn.postings:
            entry_id = new_id("ent")
            pk, sk = keys.account_entry(posting.account_id, txn.created_at, entry_id)
            items.append(
                {
                    "Put": {
                        "TableName": _ledger(),
                        "Item": dynamo.to_item(
                            {
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
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
            deltas[(posting.account_id, txn.currency)] += posting.amount_minor
    now = clock.iso()
    for (account_id, currency), delta in sorted(deltas.items()):
        items.append(
            {
                "Update": {
                    "TableName": _ledger(),
                    "Key": dynamo.key(*keys.account_balance(account_id, currency)),
                    "UpdateExpression": "ADD balance_minor :delta SET account_id = :account, currency = :currency, "
                    "updated_at = :now",
                    "ExpressionAttributeValues": {
                        ":delta": dynamo.to_value(delta),
                        ":account": {"S": account_id},
                        ":currency": {"S": currency},
                        ":now": {"S": now},
                    },
                }
            }
        )
    return items


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


@dataclass(frozen=True)
class StatementEntry:
    """One immutable ledger entry as an account statement lists it."""

    entry_id: str
    transaction_id: str
    kind: str
    amount_minor: int
    currency: str
    created_at: str


@dataclass(frozen=True)
class BalanceRecord:
    """An account's balance in one currency."""

    account_id: str
    currency: str
    balance_minor: int


MoneyRecord = EntryRecord | BalanceRecord


def _balance(item: Mapping[str, Any]) -> BalanceRecord:
    return BalanceRecord(item["account_id"], item["currency"], int(item["balance_minor"]))


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
    start = dynamo.decode_cursor(cursor, allowed_keys={"pk", "sk"})
    if start and (start["pk"]["S"] != partition or not start["sk"]["S"].startswith(keys.ENTRY_PREFIX)):
        raise BadRequest("cursor belongs to another listing", field="cursor")
    args: dict[str, Any] = {
        "TableName": _ledger(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": keys.ENTRY_PREFIX}},
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start:
        args["ExclusiveStartKey"] = start
    items, next_cursor = dynamo.query_page(**args)
    return [dynamo.as_record(StatementEntry, item) for item in items], next_cursor


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
