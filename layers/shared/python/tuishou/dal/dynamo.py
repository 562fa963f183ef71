"""DynamoDB plumbing shared by every repository: every call pattern (get, put, update, delete, batch get,
query page, query all, scan all, conditional update, one ``transact`` raising ``Cancelled(reasons)``),
(de)serialisation and cursors. Calls go through ``clients.call``, which maps AWS errors."""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, overload

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from tuishou.config import table_name
from tuishou.dal import clients
from tuishou.dal.clients import Cancelled as Cancelled  # the dal's one cancelled-transaction exception
from tuishou.dal.clients import ConditionFailed as ConditionFailed
from tuishou.dal.clients import cancellation_codes as cancellation_codes
from tuishou.errors import BadRequest, ServiceUnavailable

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    Record = TypeVar("Record", bound=DataclassInstance)

TransactItem: TypeAlias = dict[str, Any]
"""One TransactWriteItems item (``Put``, ``Update``, ``Delete`` or ``ConditionCheck``), built by a dal module."""

_BATCH_ATTEMPTS = 4

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def client() -> Any:
    """The process's DynamoDB client (``clients.dynamodb``)."""
    return clients.dynamodb()


def reset() -> None:
    """Forget every cached AWS client (tests and the local stack call this between stacks)."""
    clients.reset()


def table(short_name: str) -> str:
    return table_name(short_name)


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(_plain_to_dynamo(v)) for k, v in data.items() if v is not None}


def to_value(value: Any) -> dict[str, Any]:
    return _serializer.serialize(_plain_to_dynamo(value))


@overload
def from_item(item: dict[str, Any]) -> dict[str, Any]: ...
@overload
def from_item(item: None) -> None: ...
@overload
def from_item(item: dict[str, Any] | None) -> dict[str, Any] | None: ...
def from_item(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {k: _dynamo_to_plain(_deserializer.deserialize(v)) for k, v in item.items()}


def as_record(record_type: type[Record], item: Mapping[str, Any]) -> Record:
    """A plain item as the frozen dataclass ``record_type``: each field from the attribute of its name (an
    absent one keeps the field's default); storage keys and any other attribute are left out."""
    names = {f.name for f in dataclasses.fields(record_type)}
    return record_type(**{name: value for name, value in item.items() if name in names})


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _plain_to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        raise TypeError("floats are not stored; use integers (minor units) or strings")
    if isinstance(value, dict):
        return {k: _plain_to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_to_dynamo(v) for v in value]
    return value


def _dynamo_to_plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: _dynamo_to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dynamo_to_plain(v) for v in value]
    if isinstance(value, set):
        return {_dynamo_to_plain(v) for v in value}
    return value


def encode_cursor(last_evaluated_key: dict[str, Any] | None) -> str | None:
    if not last_evaluated_key:
        return None
    raw = json.dumps(from_item(last_evaluated_key), sort_keys=True, default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, allowed_keys: set[str]) -> dict[str, Any] | None:
    """Decode a cursor made by ``encode_cursor``; anything else is a 400 naming ``cursor``."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(data, dict) or set(data) != allowed_keys:
            raise ValueError("unexpected keys")
        if not all(isinstance(v, str) for v in data.values()):
            raise ValueError("unexpected values")
    except (ValueError, TypeError) as exc:
        raise BadRequest("malformed cursor", field="cursor") from exc
    return {k: {"S": v} for k, v in data.items()}


def call(operation: str, **kwargs: Any) -> dict[str, Any]:
    """One DynamoDB call with its errors mapped (``clients.call``)."""
    return clients.call(client(), operation, **kwargs)


def get(
    short_name: str, item_key: tuple[str, str], *, consistent: bool = False, projection: str | None = None
) -> dict[str, Any] | None:
    """One GetItem by (pk, sk): the plain item (only the ``projection`` attributes, if given), or None."""
    found = call(
        "get_item",
        TableName=table(short_name),
        Key=key(*item_key),
        ConsistentRead=consistent,
        **({"ProjectionExpression": projection} if projection else {}),
    )
    return from_item(found.get("Item"))


def put(short_name: str, item: dict[str, Any], **kwargs: Any) -> None:
    """One PutItem of a plain item (with ``pk``/``sk``); a failed ``ConditionExpression`` raises
    ``ConditionFailed``."""
    call("put_item", TableName=table(short_name), Item=to_item(item), **kwargs)


def update(short_name: str, item_key: tuple[str, str], **kwargs: Any) -> dict[str, Any]:
    """One UpdateItem by (pk, sk) (``UpdateExpression`` and the rest in ``kwargs``): the attributes it returns
    (plain; ``{}`` when none were asked for). A failed ``ConditionExpression`` raises ``ConditionFailed``."""
    response = call("update_item", TableName=table(short_name), Key=key(*item_key), **kwargs)
    return from_item(response.get("Attributes")) or {}


def delete(short_name: str, item_key: tuple[str, str], **kwargs: Any) -> None:
    """One DeleteItem by (pk, sk); a failed ``ConditionExpression`` raises ``ConditionFailed``."""
    call("delete_item", TableName=table(short_name), Key=key(*item_key), **kwargs)


def transact(items: list[TransactItem]) -> None:
    """One atomic TransactWriteItems; a cancellation raises ``Cancelled`` with the per-item reasons."""
    call("transact_write_items", TransactItems=items)


def batch_get(
    requests: dict[str, list[tuple[str, str]]], projection: str | None = None
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """One BatchGetItem across tables (``{"ledger": [(pk, sk), ...]}``), strongly consistent, keyed by
    (table short name, pk, sk). Unprocessed keys (throttling) are retried with backoff, then 503.
    A ``projection`` must name ``pk`` and ``sk``."""
    names = {table(short): short for short in requests}
    pending: dict[str, Any] = {
        table(short): {
            "Keys": [key(pk, sk) for pk, sk in pairs],
            "ConsistentRead": True,
            **({"ProjectionExpression": projection} if projection else {}),
        }
        for short, pairs in requests.items()
        if pairs
    }
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for attempt in range(_BATCH_ATTEMPTS):
        result = call("batch_get_item", RequestItems=pending)
        for physical, items in result.get("Responses", {}).items():
            for raw in items:
                item = from_item(raw)
                found[(names[physical], item["pk"], item["sk"])] = item
        pending = result.get("UnprocessedKeys") or {}
        if not pending:
            return found
        time.sleep(0.05 * 2**attempt)
    raise ServiceUnavailable()


def query_page(**kwargs: Any) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a Query: its items and the cursor of the next page (None at the end)."""
    result = call("query", **kwargs)
    return [from_item(i) for i in result.get("Items", [])], encode_cursor(result.get("LastEvaluatedKey"))


def index_page(
    short_name: str, partition: str, limit: int, *, after: str | None = None, inclusive: bool = False
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a GSI1 partition in sort-key order, from sort key ``after`` (excluded, or included when
    ``inclusive``): ``query_page`` on the index."""
    condition, values = "gsi1pk = :pk", {":pk": {"S": partition}}
    if after:
        condition += f" AND gsi1sk {'>=' if inclusive else '>'} :after"
        values[":after"] = {"S": after}
    return query_page(
        TableName=table(short_name),
        IndexName="GSI1",
        Limit=limit,
        KeyConditionExpression=condition,
        ExpressionAttributeValues=values,
    )


def index_newest_first(
    short_name: str, partition: str, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of a GSI1 partition, highest sort key first, from a listing's cursor (400 naming ``cursor`` when
    it belongs to another partition), and the next page's cursor."""
    start = decode_cursor(cursor, allowed_keys={"pk", "sk", "gsi1pk", "gsi1sk"})
    if start and start["gsi1pk"]["S"] != partition:
        raise BadRequest("cursor belongs to another listing", field="cursor")
    return query_page(
        TableName=table(short_name),
        IndexName="GSI1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": {"S": partition}},
        ScanIndexForward=False,
        Limit=limit,
        **({"ExclusiveStartKey": start} if start else {}),
    )


def prefix_newest_first(
    short_name: str, partition: str, prefix: str, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the items of ``partition`` whose sort key starts with ``prefix``, highest first, from a
    listing's cursor (400 naming ``cursor`` when it belongs to another listing), and the next page's cursor."""
    start = decode_cursor(cursor, allowed_keys={"pk", "sk"})
    if start and (start["pk"]["S"] != partition or not start["sk"]["S"].startswith(prefix)):
        raise BadRequest("cursor belongs to another listing", field="cursor")
    return query_page(
        TableName=table(short_name),
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": {"S": partition}, ":prefix": {"S": prefix}},
        ScanIndexForward=False,
        Limit=limit,
        **({"ExclusiveStartKey": start} if start else {}),
    )


def query_all(**kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of a Query, page after page (for bounded partitions and batch jobs)."""
    return _all_pages("query", kwargs)


def scan_all(**kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of a Scan, page after page: offline audits only, never a request path."""
    return _all_pages("scan", kwargs)


def scan_page(short_name: str, limit: int, start: str | None, **kwargs: Any) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a Scan of a table from cursor ``start`` (``encode_cursor`` of a key), and the cursor of the
    next page (None at the end): offline migrations only, never a request path."""
    request = {"TableName": table(short_name), "Limit": limit, **kwargs}
    if start is not None:
        request["ExclusiveStartKey"] = decode_cursor(start, allowed_keys={"pk", "sk"})
    result = call("scan", **request)
    return [from_item(i) for i in result.get("Items", [])], encode_cursor(result.get("LastEvaluatedKey"))


def _all_pages(operation: str, kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    while True:
        result = call(operation, **kwargs)
        for item in result.get("Items", []):
            yield from_item(item)
        if not result.get("LastEvaluatedKey"):
            return
        kwargs = {**kwargs, "ExclusiveStartKey": result["LastEvaluatedKey"]}


def conditional_update(**kwargs: Any) -> dict[str, Any] | None:
    """One UpdateItem with a ConditionExpression: the (plain) returned attributes, ``{}`` when none were
    asked for, or None when the condition did not hold."""
    try:
        response = call("update_item", **kwargs)
    except ConditionFailed:
        return None
    return from_item(response.get("Attributes")) or {}
