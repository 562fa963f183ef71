"""Compensation data access: scan runs, compensation records (per event, per user account, and the admin
index), user blocks, the grant-and-block lookup of a scan page, and the scan queue (SQS)."""

from __future__ import annotations

import json
from typing import Any

from tuishou import settings
from tuishou.dal import clients, dynamo, keys
from tuishou.dal.dynamo import Cancelled as Cancelled  # what ``write`` raises, for its callers
from tuishou.errors import BadRequest

_BATCH_KEYS = 100  # BatchGetItem's limit
COUNTS = ("examined", "already_granted", "compensated", "flagged", "errors", "nothing_owed")


# ---------------------------------------------------------------- scan runs
def create_scan(record: dict[str, Any]) -> None:
    pk, sk = keys.scan_run(record["scan_id"])
    dynamo.put(
        "ledger",
        {"pk": pk, "sk": sk, "page": 0, **{c: 0 for c in COUNTS}, **record},
        ConditionExpression="attribute_not_exists(pk)",
    )


def get_scan(scan_id: str) -> dict[str, Any] | None:
    return dynamo.get("ledger", keys.scan_run(scan_id), consistent=True)


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


def scan_count_update(scan_id: str, counter: str) -> dict[str, Any]:
    """+1 on a scan's counter, inside the transaction that made it true (so it is exact under retries)."""
    return {
        "Update": {
            "TableName": dynamo.table("ledger"),
            "Key": dynamo.key(*keys.scan_run(scan_id)),
            "UpdateExpression": f"ADD {counter} :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }


def enqueue(message: dict[str, Any]) -> None:
    queue_url = settings.compensation().required("queue_url")
    clients.sqs().send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))


# ---------------------------------------------------------------- compensation records
def record_puts(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The event's compensation record (the admin index) and the user's copy on their account. The record
    may replace a ``flagged`` one (an admin unblocked the user) but never a ``compensated`` one, and a
    scan records a flag at most once."""
    ledger = dynamo.table("ledger")
    pk, sk = keys.compensation(record["event_id"])
    user_pk, user_sk = keys.account_compensation(record["user_id"], record["occurred_at"], record["event_id"])
    index = {"gsi1pk": keys.COMPENSATIONS_INDEX, "gsi1sk": f"{record['created_at']}#{record['event_id']}"}
    if record["status"] == "compensated":
        condition = "attribute_not_exists(pk) OR #status = :flagged"
        values = {":flagged": {"S": "flagged"}}
    else:
        condition = "attribute_not_exists(pk) OR (#status = :flagged AND scan_id <> :scan)"
        values = {":flagged": {"S": "flagged"}, ":scan": {"S": record["scan_id"]}}
    return [
        {
            "Put": {
                "TableName": ledger,
                "Item": dynamo.to_item({"pk": pk, "sk": sk, **index, **record}),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values,
            }
        },
        {"Put": {"TableName": ledger, "Item": dynamo.to_item({"pk": user_pk, "sk": user_sk, **record})}},
    ]


def write(items: list[dict[str, Any]]) -> None:
    """One TransactWriteItems (``dynamo.transact``); a cancellation raises ``Cancelled``."""
    dynamo.transact(items)


def list_all(since: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
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
    if start:
        args["ExclusiveStartKey"] = start
    return dynamo.query_page(**args)


def list_for_user(user_id: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The user's compensation records, newest event first (their account partition)."""
    partition = keys.account_partition(user_id)
    start = dynamo.decode_cursor(cursor, allowed_keys={"pk", "sk"})
    if start and (start["pk"]["S"] != partition or not start["sk"]["S"].startswith(keys.COMPENSATION_PREFIX)):
        raise BadRequest("cursor belongs to another listing", field="cursor")
    args: dict[str, Any] = {
        "TableName": dynamo.table("ledger"),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": keys.COMPENSATION_PREFIX}},
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start:
        args["ExclusiveStartKey"] = start
    return dynamo.query_page(**args)


# ---------------------------------------------------------------- blocks
def put_block(user_id: str, blocked_at: str, admin_id: str) -> None:
    pk, sk = keys.user_block(user_id)
    dynamo.put("users", {"pk": pk, "sk": sk, "user_id": user_id, "blocked_at": blocked_at, "blocked_by": admin_id})


def delete_block(user_id: str) -> None:
    dynamo.call("delete_item", TableName=dynamo.table("users"), Key=dynamo.key(*keys.user_block(user_id)))


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
