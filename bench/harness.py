"""Benchmark harness: DynamoDB requests, items read, Scans and write units per call (counted by botocore
event hooks), and in-process latency against a baseline doing the route's minimal DynamoDB work in the
same run.

Write units: moto does not return ``ConsumedCapacity`` as DynamoDB bills it, so they are computed from the
items written the way on-demand billing counts them: 1 WCU per started KB of each item written (the larger
of its size before and after; an update is sized after the call by a read outside the count), ×2 inside
``TransactWriteItems`` (``ConditionCheck`` items included). A write whose condition failed and a cancelled
transaction are billed too, as if they had written. Item sizes follow DynamoDB's rules: attribute
name bytes plus value bytes (strings UTF-8, numbers ~1 byte per 2 digits + 1, maps and lists 3 bytes + 1 per
element).

Read units as DynamoDB bills them: a GetItem, and each item of a BatchGetItem or TransactGetItems, 1 unit per
started 4 KB (x2 in a transaction); a Query or Scan 1 unit per started 4 KB of all the items it returned
together (a lower bound when a filter or a projection drops data: DynamoDB bills what it read); half that
when eventually consistent."""

from __future__ import annotations

import math
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.session

_BILLED = {"", "ConditionalCheckFailedException", "TransactionCanceledException"}
"""Outcomes DynamoDB bills write units for: success (no error), a failed condition, a cancelled transaction."""


@dataclass
class DynamoCounter:
    """Counts every DynamoDB call made through any boto3 client created after ``install``."""

    requests: int = 0
    items_read: int = 0
    read_units: float = 0.0
    scans: int = 0
    write_units: int = 0
    items_written: int = 0
    largest_item_written: int = 0  # bytes
    operations: Counter[str] = field(default_factory=Counter)
    _sizer: Any = None

    def install(self) -> None:
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register("before-parameter-build.dynamodb", self._before_call)
        boto3.DEFAULT_SESSION.events.register("after-call.dynamodb", self._after_call)
        # sizes updated items after the call; a client of its own session, so its reads are not counted
        self._sizer = botocore.session.get_session().create_client(
            "dynamodb",
            region_name=boto3.DEFAULT_SESSION.region_name or "us-east-1",
            endpoint_url=boto3.DEFAULT_SESSION.client("dynamodb").meta.endpoint_url,
        )
        from tuishou.dal import dynamo

        dynamo.reset()  # the cached client must be rebuilt from the instrumented session

    def reset(self) -> None:
        self.requests = self.items_read = self.scans = 0
        self.read_units = 0.0
        self.write_units = self.items_written = self.largest_item_written = 0
        self.operations.clear()

    def _before_call(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bench_params"] = params  # the same request context reaches after-call

    def _after_call(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        name = model.name
        params = context.get("bench_params") or {}
        self.requests += 1
        self.operations[name] += 1
        if name == "Scan":
            self.scans += 1
        self.items_read += items_read(name, parsed)
        self.read_units += read_units(name, params, parsed)
        if parsed.get("Error", {}).get("Code", "") in _BILLED:
            for size, factor in self._written(name, params):
                self.items_written += 1
                self.largest_item_written = max(self.largest_item_written, size)
                self.write_units += factor * max(1, math.ceil(size / 1024))

    def _written(self, operation: str, params: dict[str, Any]) -> list[tuple[int, int]]:
        """(item size in bytes, 1 or 2 for a transaction) of each item the call wrote."""
        if operation == "PutItem":
            return [(item_size(params["Item"]), 1)]
        if operation in {"UpdateItem", "DeleteItem"}:
            return [(self._stored_size(params["TableName"], params["Key"]), 1)]
        if operation == "BatchWriteItem":
            return [
                (item_size(request["PutRequest"]["Item"]) if "PutRequest" in request else 1, 1)
                for requests in params.get("RequestItems", {}).values()
                for request in requests
            ]
        if operation == "TransactWriteItems":
            return [(self._transact_item_size(entry), 2) for entry in params.get("TransactItems", [])]
        return []

    def _transact_item_size(self, entry: dict[str, Any]) -> int:
        kind, body = next(iter(entry.items()))
        if kind == "Put":
            return item_size(body["Item"])
        return self._stored_size(body["TableName"], body["Key"])

    def _stored_size(self, table_name: str, key: dict[str, Any]) -> int:
        stored = self._sizer.get_item(TableName=table_name, Key=key).get("Item")
        return item_size(stored) if stored else item_size(key)

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "items_read": self.items_read,
            "read_units": self.read_units,
            "scans": self.scans,
            "write_units": self.write_units,
            "items_written": self.items_written,
            "largest_item_written": self.largest_item_written,
            "operations": dict(self.operations),
        }


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it (DynamoDB JSON in)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    kind, data = next(iter(value.items()))
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        return math.ceil(len(data.lstrip("-").replace(".", "")) / 2) + 1
    if kind == "B":
        return len(data)
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in data)
    if kind == "NS":
        return sum(_value_size({"N": n}) for n in data)
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in data.items())
    return 0


def items_read(operation: str, parsed: dict[str, Any]) -> int:
    if operation == "GetItem":
        return 1 if parsed.get("Item") else 0
    if operation in {"Query", "Scan"}:
        return int(parsed.get("ScannedCount", parsed.get("Count", 0)))
    if operation == "BatchGetItem":
        return sum(len(v) for v in parsed.get("Responses", {}).values())
    if operation == "TransactGetItems":
        return sum(1 for r in parsed.get("Responses", []) if r.get("Item"))
    return 0


def read_units(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> float:
    """The read units DynamoDB bills for one call (see the module's docstring)."""

    def units(size: int, consistent: bool) -> float:
        return math.ceil(max(size, 1) / 4096) * (1.0 if consistent else 0.5)

    if operation == "GetItem":
        item = parsed.get("Item")
        return units(item_size(item), bool(params.get("ConsistentRead"))) if item else 0.5
    if operation in {"Query", "Scan"}:
        return units(sum(item_size(i) for i in parsed.get("Items", [])), bool(params.get("ConsistentRead")))
    if operation == "BatchGetItem":
        return sum(
            units(item_size(item), bool(params["RequestItems"].get(table, {}).get("ConsistentRead")))
            for table, items in parsed.get("Responses", {}).items()
            for item in items
        )
    if operation == "TransactGetItems":
        return sum(2 * units(item_size(r["Item"]), True) for r in parsed.get("Responses", []) if r.get("Item"))
    return 0.0


@dataclass
class Measurement:
    name: str
    kind: str  # route | job | scale
    requests: float
    items_read: float
    scans: int
    p50_ms: float
    p95_ms: float
    baseline_p50_ms: float | None = None
    budget: str = ""
    within_budget: bool | None = None
    notes: str = ""
    operations: dict[str, int] = field(default_factory=dict)
    write_units: int = 0
    largest_item_written: int = 0  # bytes
    read_units: float | None = None

    @property
    def ratio(self) -> float | None:
        if not self.baseline_p50_ms:
            return None
        return round(self.p50_ms / self.baseline_p50_ms, 2)


def measure(
    counter: DynamoCounter, call: Callable[[], Any], runs: int, prepare: Callable[[], Any] | None = None
) -> tuple[dict[str, Any], list[float]]:
    """Runs ``call`` ``runs`` times; returns the DynamoDB counts of one call (the last) and all latencies.
    ``prepare`` (untimed, uncounted) runs before every call: it puts back what a one-shot call consumed."""
    latencies: list[float] = []
    counts: dict[str, Any] = {}
    if prepare:
        prepare()
    call()  # warm: module import and client creation are cold-start costs, measured separately
    for _ in range(runs):
        if prepare:
            prepare()
        counter.reset()
        started = time.perf_counter()
        call()
        latencies.append((time.perf_counter() - started) * 1000)
        counts = counter.snapshot()
    return counts, latencies


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(pct) - 1]
