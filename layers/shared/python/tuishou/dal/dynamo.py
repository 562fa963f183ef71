"""DynamoDB plumbing shared by every repository: the cached client, (de)serialisation, cursors and the
mapping of AWS errors to domain errors."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from typing import Any, overload

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from tuishou.config import table_name
from tuishou.errors import BadRequest, ServiceUnavailable

_BATCH_ATTEMPTS = 4

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

TRANSIENT_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
}


@cache
def client() -> Any:
    """One DynamoDB client per process (reused across warm invocations). ``reset()`` clears it."""
    return boto3.client("dynamodb", config=Config(retries={"max_attempts": 3, "mode": "standard"}))


def reset() -> None:
    client.cache_clear()


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


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def is_transient(error: ClientError) -> bool:
    return error_code(error) in TRANSIENT_CODES


def cancellation_codes(error: ClientError) -> list[str]:
    """The per-item reasons of a cancelled TransactWriteItems ("None" for items that passed)."""
    reasons = error.response.get("CancellationReasons") or []
    return [r.get("Code", "None") for r in reasons]


def raise_transient(error: ClientError) -> None:
    """Re-raise throttling and transient AWS failures as ``ServiceUnavailable`` (HTTP 503)."""
    if is_transient(error):
        raise ServiceUnavailable(retry_after=1) from error


def batch_get(requests: dict[str, list[tuple[str, str]]],
              projection: str | None = None) -> dict[tuple[str, str, str], dict[str, Any]]:
    """One BatchGetItem across tables (``{"ledger": [(pk, sk), ...]}``), strongly consistent, keyed by
    (table short name, pk, sk). Unprocessed keys (throttling) are retried with backoff, then 503.
    A ``projection`` must name ``pk`` and ``sk``."""
    names = {table(short): short for short in requests}
    pending: dict[str, Any] = {
        table(short): {"Keys": [key(pk, sk) for pk, sk in pairs], "ConsistentRead": True,
                       **({"ProjectionExpression": projection} if projection else {})}
        for short, pairs in requests.items() if pairs}
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for attempt in range(_BATCH_ATTEMPTS):
        try:
            result = client().batch_get_item(RequestItems=pending)
        except ClientError as exc:
            raise_transient(exc)
            raise
        for physical, items in result.get("Responses", {}).items():
            for raw in items:
                item = from_item(raw)
                found[(names[physical], item["pk"], item["sk"])] = item
        pending = result.get("UnprocessedKeys") or {}
        if not pending:
            return found
        time.sleep(0.05 * 2**attempt)
    raise ServiceUnavailable()


def call(operation: str, **kwargs: Any) -> dict[str, Any]:
    """One DynamoDB call; throttling and transient failures become ``ServiceUnavailable`` (503)."""
    try:
        return getattr(client(), operation)(**kwargs)
    except ClientError as error:
        raise_transient(error)
        raise


def query_page(**kwargs: Any) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a Query: its items and the cursor of the next page (None at the end)."""
    result = call("query", **kwargs)
    return [from_item(i) for i in result.get("Items", [])], encode_cursor(result.get("LastEvaluatedKey"))


def query_all(**kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of a Query, page after page (for bounded partitions and batch jobs)."""
    while True:
        result = call("query", **kwargs)
        for item in result.get("Items", []):
            yield from_item(item)
        if not result.get("LastEvaluatedKey"):
            return
        kwargs = {**kwargs, "ExclusiveStartKey": result["LastEvaluatedKey"]}


def conditional_update(**kwargs: Any) -> dict[str, Any] | None:
    """One UpdateItem with a ConditionExpression: the (plain) returned attributes, ``{}`` when none were
    asked for, or None when the condition did not hold. Transient failures become ``ServiceUnavailable``."""
    try:
        response = client().update_item(**kwargs)
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return None
        raise_transient(error)
        raise
    return from_item(response.get("Attributes")) or {}
