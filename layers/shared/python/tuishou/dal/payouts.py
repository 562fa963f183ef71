"""Payout methods (UsersTable) and payouts (LedgerTable, next to the account's balances and entries): the
items, the transaction items of a payout's request and settlement, the lists, the sweep's index reads and
the payout queue's messages."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from tuishou.dal import clients, dynamo, keys
from tuishou.dal.streams import Change


def _ledger() -> str:
    return dynamo.table("ledger")


# ---------------------------------------------------------------- payout methods (UsersTable)
@dataclass(frozen=True)
class MethodRecord:
    """A user's one payout method. ``account``: the Alipay logon or user id, or the Stripe connected account."""

    user_id: str
    role: str
    type: str
    account: str
    auto_payout: bool
    updated_at: str
    real_name: str | None = None


def put_method(method: MethodRecord) -> None:
    """Replace the user's method (one PutItem); in the auto-payout index only while ``auto_payout``."""
    pk, sk = keys.payout_method(method.user_id)
    index = (
        {"gsi1pk": keys.auto_payouts(keys.auto_payout_shard(method.user_id)), "gsi1sk": method.user_id}
        if method.auto_payout
        else {}
    )
    dynamo.put("users", {"pk": pk, "sk": sk, **asdict(method), **index})


def get_method(user_id: str) -> MethodRecord | None:
    found = dynamo.get("users", keys.payout_method(user_id), consistent=True)
    return dynamo.as_record(MethodRecord, found) if found else None


def auto_payout_methods(shard: int, limit: int, after: str | None) -> tuple[list[MethodRecord], str | None]:
    """One page of the opted-in users of a shard, in user-id order from ``after`` (excluded): their methods,
    and the last user id read when more may follow."""
    items, more = dynamo.index_page("users", keys.auto_payouts(shard), limit, after=after)
    methods = [dynamo.as_record(MethodRecord, item) for item in items]
    return methods, (methods[-1].user_id if more and methods else None)


# ---------------------------------------------------------------- payouts (LedgerTable)
@dataclass(frozen=True)
class PayoutRecord:
    """A payout: where it goes (a copy of the method when it was requested) and how far it got."""

    payout_id: str
    user_id: str
    role: str
    currency: str
    amount_minor: int
    status: str
    method_type: str
    account: str
    requested_at: str
    updated_at: str
    real_name: str | None = None
    attempts: int = 0
    paid_at: str | None = None
    failure_reason: str | None = None
    provider_reference: str | None = None


def _index(status: str, updated_at: str, payout_id: str) -> dict[str, str]:
    return {"gsi1pk": keys.payouts_with_status(status), "gsi1sk": f"{updated_at}#{payout_id}"}


def payout_put(payout: PayoutRecord) -> dynamo.TransactItem:
    """The payout record, once (its stream INSERT enqueues the payout for sending)."""
    pk, sk = keys.payout(payout.user_id, payout.payout_id)
    item = {"pk": pk, "sk": sk, **asdict(payout), **_index(payout.status, payout.updated_at, payout.payout_id)}
    return {
        "Put": {
            "TableName": _ledger(),
            "Item": dynamo.to_item(item),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def open_payout_put(user_id: str, currency: str, payout_id: str) -> dynamo.TransactItem:
    """The open-payout guard: a second payout of the user in the currency fails on it while this one is open."""
    pk, sk = keys.open_payout(user_id, currency)
    return {
        "Put": {
            "TableName": _ledger(),
            "Item": dynamo.to_item({"pk": pk, "sk": sk, "payout_id": payout_id}),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def open_payout_delete(user_id: str, currency: str, payout_id: str) -> dynamo.TransactItem:
    """The guard removed when its payout ends (only its own: the condition names the payout)."""
    return {
        "Delete": {
            "TableName": _ledger(),
            "Key": dynamo.key(*keys.open_payout(user_id, currency)),
            "ConditionExpression": "payout_id = :payout",
            "ExpressionAttributeValues": {":payout": {"S": payout_id}},
        }
    }


def payout_end_update(
    payout: PayoutRecord, status: str, at: str, provider_reference: str | None, failure_reason: str | None
) -> dynamo.TransactItem:
    """The payout ``paid`` or ``failed``, only from ``sending``: of two workers settling one payout, one does."""
    values: dict[str, Any] = {
        ":status": {"S": status},
        ":sending": {"S": "sending"},
        ":at": {"S": at},
        ":gsi1pk": {"S": keys.payouts_with_status(status)},
        ":gsi1sk": {"S": f"{at}#{payout.payout_id}"},
    }
    assignments = ["#status = :status", "updated_at = :at", "gsi1pk = :gsi1pk", "gsi1sk = :gsi1sk"]
    if status == "paid":
        assignments.append("paid_at = :at")
    if provider_reference:
        assignments.append("provider_reference = :reference")
        values[":reference"] = {"S": provider_reference}
    if failure_reason:
        assignments.append("failure_reason = :reason")
        values[":reason"] = {"S": failure_reason}
    return {
        "Update": {
            "TableName": _ledger(),
            "Key": dynamo.key(*keys.payout(payout.user_id, payout.payout_id)),
            "UpdateExpression": "SET " + ", ".join(assignments),
            "ConditionExpression": "#status = :sending",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values,
        }
    }


def balance_update_index(items: Sequence[dynamo.TransactItem], account_id: str, currency: str) -> int:
    """Where the balance update of (account, currency) is among ``items`` (to read a cancellation)."""
    wanted = dynamo.key(*keys.account_balance(account_id, currency))
    return next(i for i, item in enumerate(items) if "Update" in item and item["Update"]["Key"] == wanted)


def get_payout(user_id: str, payout_id: str) -> PayoutRecord | None:
    found = dynamo.get("ledger", keys.payout(user_id, payout_id), consistent=True)
    return dynamo.as_record(PayoutRecord, found) if found else None


def start_sending(payout: PayoutRecord, at: str) -> bool:
    """``requested`` (or ``sending``, a retry) -> ``sending``, one more attempt: one conditional UpdateItem on
    the status read, so of two workers holding the same read one goes on."""
    done = dynamo.conditional_update(
        TableName=_ledger(),
        Key=dynamo.key(*keys.payout(payout.user_id, payout.payout_id)),
        UpdateExpression="SET #status = :sending, updated_at = :at, gsi1pk = :gsi1pk, gsi1sk = :gsi1sk "
        "ADD attempts :one",
        ConditionExpression="#status = :read AND attempts = :attempts",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={
            ":sending": {"S": "sending"},
            ":read": {"S": payout.status},
            ":attempts": dynamo.to_value(payout.attempts),
            ":at": {"S": at},
            ":one": {"N": "1"},
            ":gsi1pk": {"S": keys.payouts_with_status("sending")},
            ":gsi1sk": {"S": f"{at}#{payout.payout_id}"},
        },
    )
    return done is not None


def available_minor(user_id: str, currency: str) -> int:
    """The account's available money in ``currency`` now (a consistent GetItem; 0 without a balance)."""
    found = dynamo.get("ledger", keys.account_balance(user_id, currency), consistent=True)
    return int((found or {}).get("available_minor", 0))


def user_payouts(user_id: str, limit: int, cursor: str | None) -> tuple[list[PayoutRecord], str | None]:
    """A page of the user's payouts, newest first (payout ids sort by time)."""
    partition = keys.account_partition(user_id)
    items, next_cursor = dynamo.prefix_newest_first("ledger", partition, keys.PAYOUT_PREFIX, limit, cursor)
    return [dynamo.as_record(PayoutRecord, item) for item in items], next_cursor


def payouts_with_status(status: str, limit: int, cursor: str | None) -> tuple[list[PayoutRecord], str | None]:
    """A page of the payouts in ``status``, most recently changed first (Query GSI1)."""
    items, next_cursor = dynamo.index_newest_first("ledger", keys.payouts_with_status(status), limit, cursor)
    return [dynamo.as_record(PayoutRecord, item) for item in items], next_cursor


def unchanged_since(status: str, before: str) -> Iterator[tuple[str, str]]:
    """(user_id, payout_id) of every payout in ``status`` not changed since ``before`` (Query GSI1: only the
    stale end of the partition; open payouts are few)."""
    for item in dynamo.query_all(
        TableName=_ledger(),
        IndexName="GSI1",
        KeyConditionExpression="gsi1pk = :pk AND gsi1sk < :before",
        ExpressionAttributeValues={":pk": {"S": keys.payouts_with_status(status)}, ":before": {"S": before}},
        ProjectionExpression="user_id, payout_id",
    ):
        yield item["user_id"], item["payout_id"]


# ---------------------------------------------------------------- the payout queue
def enqueue(queue_url: str, user_id: str, payout_id: str) -> None:
    """One message on the payout queue (ids only: the worker reads the payout)."""
    body = json.dumps({"user_id": user_id, "payout_id": payout_id})
    clients.call(clients.sqs(), "send_message", QueueUrl=queue_url, MessageBody=body)


def payout_message(body: str) -> tuple[str, str]:
    """(user_id, payout_id) of a payout queue message."""
    data = json.loads(body)
    return str(data["user_id"]), str(data["payout_id"])


# ---------------------------------------------------------------- the ledger stream's payout records
def _is_payout(image: Mapping[str, Any]) -> bool:
    return str(image.get("pk", "")).startswith(keys.ACCOUNT_PREFIX) and str(image.get("sk", "")).startswith(
        keys.PAYOUT_PREFIX
    )


def requested_payout(change: Change) -> tuple[str, str] | None:
    """(user_id, payout_id) of a payout record's INSERT: a payout to send."""
    if change.name != "INSERT" or change.new is None or not _is_payout(change.new):
        return None
    return str(change.new["user_id"]), str(change.new["payout_id"])


def ended_payout(change: Change) -> PayoutRecord | None:
    """The payout of a MODIFY that made it ``paid`` or ``failed``: what its user is told."""
    if change.name != "MODIFY" or change.new is None or not _is_payout(change.new):
        return None
    before = (change.old or {}).get("status")
    if change.new.get("status") not in {"paid", "failed"} or before == change.new.get("status"):
        return None
    return dynamo.as_record(PayoutRecord, change.new)
