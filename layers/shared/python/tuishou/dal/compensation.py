"""Compensation data access: scan runs, compensation records (per event, per user account, and the admin
index), user blocks, invite codes, and the scan queue (SQS)."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import ClientError

from tuishou.dal import dynamo, keys
from tuishou.errors import BadRequest, Forbidden

QUEUE_URL_ENV = "TUISHOU_COMPENSATION_QUEUE_URL"
COUNTS = ("examined", "already_granted", "compensated", "flagged", "errors", "nothing_owed")


# ---------------------------------------------------------------- scan runs
def create_scan(record: dict[str, Any]) -> None:
    pk, sk = keys.scan_run(record["scan_id"])
    dynamo.call("put_item", TableName=dynamo.table("ledger"),
          Item=dynamo.to_item({"pk": pk, "sk": sk, "page": 0, **{c: 0 for c in COUNTS}, **record}),
          ConditionExpression="attribute_not_exists(pk)")


def get_scan(scan_id: str) -> dict[str, Any] | None:
    found = dynamo.call("get_item", TableName=dynamo.table("ledger"), Key=dynamo.key(*keys.scan_run(scan_id)),
                  ConsistentRead=True)
    return dynamo.from_item(found.get("Item"))


def commit_page(scan_id: str, page: int, next_bucket: int, done: bool, counts: dict[str, int], now: str) -> bool:
    """Advance the run from ``page`` (conditional: a duplicate runner of the same page loses) and add the
    page's counts. False when another runner committed this page first."""
    values: dict[str, Any] = {":page": {"N": str(page)}, ":next": {"N": str(page + 1)},
                              ":bucket": {"N": str(next_bucket)}, ":now": {"S": now},
                              ":status": {"S": "done" if done else "running"}}
    adds = []
    for name, value in counts.items():
        adds.append(f"{name} :{name}")
        values[f":{name}"] = {"N": str(value)}
    update = "SET page = :next, next_bucket = :bucket, updated_at = :now, #status = :status"
    if adds:
        update += " ADD " + ", ".join(adds)
    return dynamo.conditional_update(
        TableName=dynamo.table("ledger"), Key=dynamo.key(*keys.scan_run(scan_id)), UpdateExpression=update,
        ConditionExpression="page = :page", ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=values) is not None


def fail_scan(scan_id: str, reason: str, now: str) -> bool:
    """``running`` -> ``failed`` with the reason (conditional: a run that finished stays done)."""
    return dynamo.conditional_update(
        TableName=dynamo.table("ledger"), Key=dynamo.key(*keys.scan_run(scan_id)),
        UpdateExpression="SET #status = :failed, failure_reason = :reason, updated_at = :now",
        ConditionExpression="#status = :running", ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":failed": {"S": "failed"}, ":running": {"S": "running"},
                                   ":reason": {"S": reason[:500]}, ":now": {"S": now}}) is not None


def scan_count_update(scan_id: str, counter: str) -> dict[str, Any]:
    """+1 on a scan's counter, inside the transaction that made it true (so it is exact under retries)."""
    return {"Update": {"TableName": dynamo.table("ledger"), "Key": dynamo.key(*keys.scan_run(scan_id)),
                       "UpdateExpression": f"ADD {counter} :one",
                       "ExpressionAttributeValues": {":one": {"N": "1"}}}}


def enqueue(message: dict[str, Any]) -> None:
    _sqs().send_message(QueueUrl=os.environ[QUEUE_URL_ENV], MessageBody=json.dumps(message))


@cache
def _sqs() -> Any:
    return boto3.client("sqs")


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
        {"Put": {"TableName": ledger, "Item": dynamo.to_item({"pk": pk, "sk": sk, **index, **record}),
                 "ConditionExpression": condition, "ExpressionAttributeNames": {"#status": "status"},
                 "ExpressionAttributeValues": values}},
        {"Put": {"TableName": ledger, "Item": dynamo.to_item({"pk": user_pk, "sk": user_sk, **record})}},
    ]


def write(items: list[dict[str, Any]]) -> list[str] | None:
    """One TransactWriteItems; None when it committed, else the cancellation codes."""
    try:
        dynamo.client().transact_write_items(TransactItems=items)
    except ClientError as error:
        if dynamo.error_code(error) == "TransactionCanceledException":
            return dynamo.cancellation_codes(error)
        dynamo.raise_transient(error)
        raise
    return None


def list_all(since: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Compensation records created at or after ``since``, oldest first (GSI1 ``COMPENSATIONS``)."""
    start = dynamo.decode_cursor(cursor, allowed_keys={"pk", "sk", "gsi1pk", "gsi1sk"})
    if start and start["gsi1pk"]["S"] != keys.COMPENSATIONS_INDEX:
        raise BadRequest("cursor belongs to another listing", field="cursor")
    args: dict[str, Any] = {
        "TableName": dynamo.table("ledger"), "IndexName": "GSI1",
        "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk >= :since",
        "ExpressionAttributeValues": {":pk": {"S": keys.COMPENSATIONS_INDEX}, ":since": {"S": since}},
        "Limit": limit}
    if start:
        args["ExclusiveStartKey"] = start
    result = dynamo.call("query", **args)
    return [dynamo.from_item(i) for i in result.get("Items", [])], dynamo.encode_cursor(result.get("LastEvaluatedKey"))


def list_for_user(user_id: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The user's compensation records, newest event first (their account partition)."""
    partition = keys.account_partition(user_id)
    start = dynamo.decode_cursor(cursor, allowed_keys={"pk", "sk"})
    if start and (start["pk"]["S"] != partition or not start["sk"]["S"].startswith(keys.COMPENSATION_PREFIX)):
        raise BadRequest("cursor belongs to another listing", field="cursor")
    args: dict[str, Any] = {
        "TableName": dynamo.table("ledger"), "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": keys.COMPENSATION_PREFIX}},
        "ScanIndexForward": False, "Limit": limit}
    if start:
        args["ExclusiveStartKey"] = start
    result = dynamo.call("query", **args)
    return [dynamo.from_item(i) for i in result.get("Items", [])], dynamo.encode_cursor(result.get("LastEvaluatedKey"))


# ---------------------------------------------------------------- blocks
def put_block(user_id: str, blocked_at: str, admin_id: str) -> None:
    pk, sk = keys.user_block(user_id)
    dynamo.call("put_item", TableName=dynamo.table("users"),
          Item=dynamo.to_item({"pk": pk, "sk": sk, "user_id": user_id, "blocked_at": blocked_at,
                               "blocked_by": admin_id}))


def delete_block(user_id: str) -> None:
    dynamo.call("delete_item", TableName=dynamo.table("users"), Key=dynamo.key(*keys.user_block(user_id)))


# ---------------------------------------------------------------- invites
def get_invite_code(promoter_id: str) -> str | None:
    found = dynamo.call("get_item", TableName=dynamo.table("users"), Key=dynamo.key(*keys.promoter_invite(promoter_id)),
                  ConsistentRead=True)
    item = dynamo.from_item(found.get("Item"))
    return item["invite_code"] if item else None


def create_invite(promoter_id: str, code: str, created_at: str) -> bool:
    """The promoter's code and the code's lookup, only for a registered promoter. False when the promoter
    got a code meanwhile (or the code collided: the caller reads again)."""
    users = dynamo.table("users")
    mine_pk, mine_sk = keys.promoter_invite(promoter_id)
    code_pk, code_sk = keys.invite(code)
    record = {"invite_code": code, "promoter_id": promoter_id, "created_at": created_at}
    codes = write([
        {"ConditionCheck": {"TableName": users, "Key": dynamo.key(*keys.profile(promoter_id)),
                            "ConditionExpression": "#role = :promoter", "ExpressionAttributeNames": {"#role": "role"},
                            "ExpressionAttributeValues": {":promoter": {"S": "promoter"}}}},
        {"Put": {"TableName": users, "Item": dynamo.to_item({"pk": mine_pk, "sk": mine_sk, **record}),
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Put": {"TableName": users, "Item": dynamo.to_item({"pk": code_pk, "sk": code_sk, **record}),
                 "ConditionExpression": "attribute_not_exists(pk)"}},
    ])
    if codes is None:
        return True
    if codes and codes[0] == "ConditionalCheckFailed":
        raise Forbidden("register a promoter profile first (POST /promoter/profile)")
    return False


def inviter_of(code: str) -> str | None:
    found = dynamo.call("get_item", TableName=dynamo.table("users"), Key=dynamo.key(*keys.invite(code)))
    item = dynamo.from_item(found.get("Item"))
    return item["promoter_id"] if item else None
