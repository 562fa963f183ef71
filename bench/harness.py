"""Benchmark harness: DynamoDB requests, items read and Scans per call (counted by a botocore event hook),
and in-process latency against a baseline doing the route's minimal DynamoDB work in the same run."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3


@dataclass
class DynamoCounter:
    """Counts every DynamoDB call made through any boto3 client created after ``install``."""

    requests: int = 0
    items_read: int = 0
    scans: int = 0
    operations: Counter[str] = field(default_factory=Counter)

    def install(self) -> None:
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register("after-call.dynamodb", self._after_call)
        from tuishou.dal import dynamo

        dynamo.reset()  # the cached client must be rebuilt from the instrumented session

    def reset(self) -> None:
        self.requests = self.items_read = self.scans = 0
        self.operations.clear()

    def _after_call(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        name = model.name
        self.requests += 1
        self.operations[name] += 1
        if name == "Scan":
            self.scans += 1
        self.items_read += items_read(name, parsed)

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "items_read": self.items_read,
            "scans": self.scans,
            "operations": dict(self.operations),
        }


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
