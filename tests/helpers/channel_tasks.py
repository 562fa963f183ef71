"""Test doubles for channel bonus tasks: a DynamoDB-backed ledger grant (the ledger port) and a counter of
DynamoDB requests and items read."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from botocore.exceptions import ClientError

from tuishou.dal import dynamo
from tuishou.logic.channel_tasks import RewardableEvent


class FakeLedger:
    """Grants by event id with a conditional write in the same transaction as the balance, as the ledger
    does: a second grant of one event id changes nothing and answers False."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def grant(self, event: RewardableEvent) -> bool:
        self.calls.append(event.event_id)
        ledger = dynamo.table("ledger")
        try:
            dynamo.client().transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": ledger,
                            "Item": dynamo.to_item(
                                {
                                    "pk": f"TESTGRANT#{event.event_id}",
                                    "sk": "GRANT",
                                    "user_id": event.user_id,
                                    "amount_minor": event.amount_minor,
                                    "currency": event.currency,
                                }
                            ),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": ledger,
                            "Key": dynamo.key(f"TESTACCOUNT#{event.user_id}", event.currency),
                            "UpdateExpression": "ADD balance_minor :amount",
                            "ExpressionAttributeValues": {":amount": {"N": str(event.amount_minor)}},
                        }
                    },
                ]
            )
        except ClientError as error:
            if "ConditionalCheckFailed" in dynamo.cancellation_codes(error):
                return False
            raise
        return True

    def balance(self, user_id: str, currency: str) -> int:
        item = (
            dynamo.client()
            .get_item(TableName=dynamo.table("ledger"), Key=dynamo.key(f"TESTACCOUNT#{user_id}", currency))
            .get("Item")
        )
        return int(item["balance_minor"]["N"]) if item else 0


class FailingGrant:
    """A ledger that is down: the completion must stay re-drivable."""

    def __call__(self, event: RewardableEvent) -> bool:
        raise ConnectionError("ledger unavailable")


class RequestCounter:
    """Counts DynamoDB requests (by operation) and items read on the shared client."""

    def __init__(self) -> None:
        self.operations: Counter[str] = Counter()
        self.items_read = 0
        self.items_by_operation: Counter[str] = Counter()
        self.rate_limit_windows = 0  # UpdateItems of a caller's rate-limit window (every write request makes one)
        self._lock = threading.Lock()
        events = dynamo.client().meta.events
        events.register("before-call.dynamodb", self._before)
        events.register("after-call.dynamodb", self._after)

    def _before(self, model: Any, params: dict[str, Any] | None = None, **_: Any) -> None:
        body = (params or {}).get("body") or b""
        with self._lock:
            self.operations[model.name] += 1
            if model.name == "UpdateItem" and b'"RATE#' in (body if isinstance(body, bytes) else body.encode()):
                self.rate_limit_windows += 1

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in {"Query", "Scan"}:
            count = int(parsed.get("Count", 0))
        elif model.name == "GetItem":
            count = 1 if parsed.get("Item") else 0
        elif model.name == "BatchGetItem":
            count = sum(len(v) for v in parsed.get("Responses", {}).values())
        else:
            return
        with self._lock:
            self.items_read += count
            self.items_by_operation[model.name] += count

    @property
    def total(self) -> int:
        return sum(self.operations.values())

    @property
    def beyond_rate_limit(self) -> int:
        """Requests other than the rate-limit window's: what the route itself asked of DynamoDB."""
        return self.total - self.rate_limit_windows

    def reset(self) -> None:
        with self._lock:
            self.rate_limit_windows = 0
            self.operations.clear()
            self.items_by_operation.clear()
            self.items_read = 0
