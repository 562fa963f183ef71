"""Compensation data access: scan runs, the rewardable events a scan reads, compensation records (per
event, per user account, and the admin index), user blocks, the grant-and-block lookup of a scan page,
and the scan queue (SQS)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from tuishou import settings
from tuishou.dal import clients, dynamo, keys, ledger
from tuishou.dal.dynamo import Cancelled as Cancelled  # what ``write`` raises, for its callers
from tuishou.errors import BadRequest
from tuishou.models.ledger import RewardableEvent

_BATCH_KEYS = 100  # BatchGetItem's limit


# ---------------------------------------------------------------- scan runs
@dataclass(frozen=True)
class ScanRecord:
    """A compensation scan run: its window, where it has got to (``page``, ``next_bucket``) and what it
    has counted so far."""

    scan_id: str
    kind: str
    status: str
    window_start: str
    window_end: str
    reason: str
    requested_by: str
    created_at: str
    updated_at: str
    page: int = 0
    next_bucket: int = 0
    examined: int = 0
    already_granted: int = 0
    compensated: int = 0
    flagged: int = 0
    errors: int = 0
    nothing_owed: int = 0
    failure_reason: str | None = None


def create_scan(scan: ScanRecord) -> None:
    pk, sk = keys.scan_run(scan.scan_id)
    dynamo.put("ledger", {"pk": pk, "sk": sk, **asdict(scan)}, ConditionExpression="attribute_not_exists(pk)")


def get_scan(scan_id: str) -> ScanRecord | None:
    item = dynamo.get("ledger", keys.scan_run(scan_id), consistent=True)
    return None if item is None else dynamo.as_record(ScanRecord, item)


def commit_page(scan_id: str, page: int, next_bucket: int, done: bool, counts: dict[str, int], now: str) -> bool:
    """Advance the run from ``page`` (conditional: a duplicate runner of the same page loses) and add the
    page's counts. False when another runner committed this page first."""
    values: dict[str, Any] = {
        ":page": {"N": str(page)},
        ":next": {"N": str(page + 1)},
        ":bucket": {"N": str(next_bucket)},
        ":now": {"S": now},
        ":status": {"S": "done" if done else "running"},
    }
    adds = []
    for name, value in counts.items():
        adds.append(f"{name} :{name}")
        values[f":{name}"] = {"N": str(value)}
    update = "SET page = :next, next_bucket = :bucket, updated_at = :now, #status = :status"
    if adds:
        update += " ADD " + ", ".join(adds)
    return (
        dynamo.conditional_update(
            TableName=dynamo.table("ledger"),
            Key=dynamo.key(*keys.scan_run(scan_id)),
            UpdateExpression=update,
            ConditionExpression="page = :page",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )
        is not None
    )


def fail_scan(scan_id: str, reason: str, now: str) -> bool:
    """``running`` -> ``failed`` with the reason (conditional: a run that finished stays done)."""
    return (
        dynamo.conditional_update(
            TableName=dynamo.table("ledger"),
            Key=dynamo.key(*keys.scan_run(scan_id)),
            UpdateExpression="SET #status = :failed, failure_reason = :reason, updated_at = :now",
            ConditionExpression="#status = :running",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":failed": {"S": "failed"},
                ":running": {"S": "running"},
                ":reason": {"S": reason[:500]},
                ":now": {"S": now},
            },
        )
        is not None
    )


def scan_count_update(scan_id: str, counter: str) -> dynamo.TransactItem:
    """+1 on a scan's counter, inside the transaction that made it true (so it is exact under retries)."""
    return {
        "Update": {
            "TableName": dynamo.table("ledger"),
            "Key": dynamo.key(*keys.scan_run(scan_id)),
            "UpdateExpression": f"ADD {counter} :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }


def enqueue(scan_id: str) -> None:
    """Queue (the next part of) run ``scan_id`` for the scan function."""
    queue_url = settings.compensation().required("queue_url")
    clients.sqs().send_message(QueueUrl=queue_url, MessageBody=json.dumps({"scan_id": scan_id}))


# ---------------------------------------------------------------- the events a scan reads
@dataclass(frozen=True)
class ScannedEvent:
    """A rewardable event as a scan finds it: whether it is stamped granted, and how much of a sale was
    refunded before its money was posted."""

    event: RewardableEvent
    granted: bool
    refunded_minor: int


def events_to_scan(hour_bucket: str, start: str, end: str) -> list[ScannedEvent]:
    """Every event of one UTC hour bucket with ``start <= occurred_at < end`` (the ledger's window Query)."""
    return [
        ScannedEvent(
            ledger.rewardable_event(item),
            granted=bool(item.get("granted_at")),
            refunded_minor=int(item.get("refunded_minor", 0)),
        )
        for item in ledger.events_in_window(hour_bucket, start, end)
    ]


# ---------------------------------------------------------------- compensation records
@dataclass(frozen=True)
class CompensationRecord:
    """What a scan did about one event it found ungranted: ``compensated`` (granted, with the window's
    reason) or ``flagged`` (held back, with the fraud reason)."""

    event_id: str
    user_id: str
    type: str
    amount_minor: int
    currency: str
    status: str
    reason: str
    occurred_at: str
    created_at: str
    scan_id: str | None = None
    window_start: str | None = None
    window_end: str | None = None


def record_puts(record: CompensationRecord) -> list[dynamo.TransactItem]:
    """The event's compensation record (the admin index) and the user's copy on their account. The record
    may replace a ``flagged`` one (an admin unblocked the user) but never a ``compensated`` one, and a
    scan records a flag at most once."""
    table = dynamo.table("ledger")
    pk, sk = keys.compensation(record.event_id)
    user_pk, user_sk = keys.account_compensation(record.user_id, record.occurred_at, record.event_id)
    index = {"gsi1pk": keys.COMPENSATIONS_INDEX, "gsi1sk": f"{record.created_at}#{record.event_id}"}
    if record.status == "compensated":
        condition = "attribute_not_exists(pk) OR #status = :flagged"
        values = {":flagged": {"S": "flagged"}}
    else:
        condition = "attribute_not_exists(pk) OR (#status = :flagged AND scan_id <> :scan)"
        values = {":flagged": {"S": "flagged"}, ":scan": {"S": record.scan_id or ""}}
    stored = asdict(record)
    return [
        {
            "Put": {
                "TableName": table,
                "Item": dynamo.to_item({"pk": pk, "sk": sk, **index, **stored}),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values,
            }
        },
        {"Put": {"TableName": table, "Item": dynamo.to_item({"pk": user_pk, "sk": user_sk, **stored})}},
    ]


def write(items: list[dynamo.TransactItem]) -> None:
    """One TransactWriteItems (``dynamo.transact``); a cancellation raises ``Cancelled``."""
    dynamo.transact(items)


def list_all(since: str, limit: int, cursor: str | None) -> tuple[list[CompensationRecord], str | None]:
    """Compensation records created at or after ``since``, oldest first (GSI1 ``COMPENSATIONS``)."""
    start = dynamo.decode_cursor(cursor, allowed_keys={"pk", "sk", "gsi1pk", "gsi1sk"})
    if start and start["gsi1pk"]["S"] != keys.COMPENSATIONS_INDEX:
        raise BadRequest("cursor belongs to another listing", field="cursor")
    args: dict[str, Any] = {
        "TableName": dynamo.table("ledger"),
        "IndexName": "GSI1",
        "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk >= :since",
        "ExpressionAttributeValues": {":pk": {"S": keys.COMPENSATIONS_INDEX}, ":since": {"S": since}},
        "Limit": limit,
    }
    return _records_page(args, start)


def list_for_user(user_id: str, limit: int, cursor: str | None) -> tuple[list[CompensationRecord], str | None]:
    """The user's compensation records, newest event first (their account partition)."""
    items, next_cursor = dynamo.prefix_newest_first(
        "ledger", keys.account_partition(user_id), keys.COMPENSATION_PREFIX, limit, cursor
    )
    return [dynamo.as_record(CompensationRecord, i) for i in items], next_cursor


def _records_page(args: dict[str, Any], start: dict[str, Any] | None) -> tuple[list[CompensationRecord], str | None]:
    items, next_cursor = dynamo.query_page(**args, **({"ExclusiveStartKey": start} if start else {}))
    return [dynamo.as_record(CompensationRecord, i) for i in items], next_cursor


# ---------------------------------------------------------------- blocks
def put_block(user_id: str, blocked_at: str, admin_id: str) -> None:
    pk, sk = keys.user_block(user_id)
    dynamo.put("users", {"pk": pk, "sk": sk, "user_id": user_id, "blocked_at": blocked_at, "blocked_by": admin_id})


def delete_block(user_id: str) -> None:
    dynamo.delete("users", keys.user_block(user_id))


def granted_and_blocked(event_ids: list[str], user_ids: list[str]) -> tuple[set[str], set[str]]:
    """Which of the events have a grant record, and which of the users are blocked: BatchGetItem of at most
    100 keys each (only existing items come back, so items read ≈ the few that exist)."""
    granted_by_pk = {keys.grant(e)[0]: e for e in event_ids}
    blocked_by_pk = {keys.user_block(u)[0]: u for u in user_ids}
    wanted = [("ledger", keys.grant(e)) for e in event_ids] + [("users", keys.user_block(u)) for u in user_ids]
    granted, blocked = set(), set()
    for start in range(0, len(wanted), _BATCH_KEYS):
        requests: dict[str, list[tuple[str, str]]] = {}
        for table, item_key in wanted[start : start + _BATCH_KEYS]:
            requests.setdefault(table, []).append(item_key)
        for (table, pk, _sk), _item in dynamo.batch_get(requests, projection="pk, sk").items():
            if table == "ledger":
                granted.add(granted_by_pk[pk])
            else:
                blocked.add(blocked_by_pk[pk])
    return granted, blocked
