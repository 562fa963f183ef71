"""Makes the emulated DynamoDB serialise its requests, as the real service isolates transactions.

moto's DynamoDB backend has no locking: under concurrent requests two ``TransactWriteItems`` can both
pass the same ``attribute_not_exists`` condition (and its rollback deep-copies tables other threads are
changing). Real DynamoDB gives serializable isolation between a transaction and every other write, which
is exactly what exactly-once settlement relies on. One process-wide lock around each DynamoDB request
gives moto that isolation; requests from the code under test still race each other freely up to it."""

from __future__ import annotations

import threading
from typing import Any

_LOCK = threading.RLock()
_applied = False


def serialize_dynamodb() -> None:
    """Idempotent: wrap moto's DynamoDB request dispatch in one lock (in-process moto servers only)."""
    global _applied
    if _applied:
        return
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _LOCK:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]  # replacing moto's method is the point
    _applied = True
