"""Benchmark scenarios: each prepares data on a fresh emulated account and returns the call to time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.harness import Measurement
from tests.helpers.events import api_event, claims_for
from tools.gateway import FunctionHost
from tools.local_stack import LocalStack


@dataclass
class BenchContext:
    stack: LocalStack
    functions: FunctionHost

    def route_call(self, function_id: str, method: str, path: str, *, claims: dict[str, str] | None = None,
                   body: Any = None, query: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None) -> Callable[[], Any]:
        """A call of the route's handler with a real-shaped proxy event (the authorizer already ran)."""

        def call() -> Any:
            event = api_event(method, path, body=body, claims=claims, query=query, headers=headers)
            result = self.functions.invoke(function_id, event)
            if result["statusCode"] >= 500:
                raise RuntimeError(f"{method} {path} -> {result['statusCode']}: {result.get('body')}")
            return result

        return call


@dataclass
class Scenario:
    name: str
    kind: str
    setup: Callable[[BenchContext], Callable[[], Any]]
    baseline: Callable[[BenchContext], Callable[[], Any]] | None = None
    budget: str = ""
    check: Callable[[dict[str, Any]], bool] | None = None
    runs: int | None = None
    notes: str = ""

    def result(self, counts: dict[str, Any], p50: float, p95: float, baseline_p50: float | None) -> Measurement:
        return Measurement(
            name=self.name, kind=self.kind, requests=counts["requests"], items_read=counts["items_read"],
            scans=counts["scans"], p50_ms=round(p50, 3), p95_ms=round(p95, 3),
            baseline_p50_ms=round(baseline_p50, 3) if baseline_p50 else None, budget=self.budget,
            within_budget=self.check(counts) if self.check else None, notes=self.notes,
            operations=counts["operations"])


def _no_dynamo_baseline(ctx: BenchContext) -> Callable[[], Any]:
    """The minimal handler for a route that needs no DynamoDB: a resolver answering a constant."""
    return ctx.route_call("MeFunction", "GET", "/me", claims=claims_for("bench-user", "promoter"))


def _me(ctx: BenchContext) -> Callable[[], Any]:
    return ctx.route_call("MeFunction", "GET", "/me", claims=claims_for("bench-user", "promoter"))


def _swagger(ctx: BenchContext) -> Callable[[], Any]:
    return ctx.route_call("SwaggerFunction", "GET", "/swagger")


ALL: list[Scenario] = [
    Scenario("GET /me", "route", _me, _no_dynamo_baseline, "0 requests", lambda c: c["requests"] == 0),
    Scenario("GET /swagger", "route", _swagger, _no_dynamo_baseline, "0 requests", lambda c: c["requests"] == 0),
]
