"""A cheaper rollback for moto's ``TransactWriteItems``, same semantics.

moto backs up every table a transaction touches with ``copy.deepcopy(table)`` (once per transaction item),
so a transaction costs time proportional to the size of its tables: with a few thousand items a single
settlement takes most of a second. Only the items the transaction names can change, so the backup here
copies the table's item index (references) and deep-copies just those items; on a cancelled transaction
moto swaps the backup in as before. Applies to the in-process moto server of the test session."""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from typing import Any

_state = threading.local()
_applied = False


def cheap_transaction_rollback() -> None:
    """Idempotent. Patches moto's DynamoDB backend in this process."""
    global _applied
    if _applied:
        return
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    class _Copy:
        """The ``copy`` module as moto's DynamoDB backend sees it: a table backup inside a transaction is a
        snapshot of the touched items; everything else is the real ``copy``."""

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(obj: Any, memo: dict[int, Any] | None = None) -> Any:
            touched = getattr(_state, "touched", None)
            if touched is not None and isinstance(obj, Table):
                return _snapshot(obj, touched.get(obj.name, []))
            return copy.deepcopy(obj, memo)

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        _state.touched = _touched_keys(self, transact_items)
        try:
            return original(self, transact_items)
        finally:
            _state.touched = None

    models.copy = _Copy()
    models.DynamoDBBackend.transact_write_items = transact_write_items
    _applied = True


def _touched_keys(backend: Any, transact_items: list[dict[str, Any]]) -> dict[str, list[tuple[Any, Any]]]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    touched: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
    for entry in transact_items:
        for kind, op in entry.items():
            table = backend.tables.get(op.get("TableName"))
            attributes = op.get("Item" if kind == "Put" else "Key") or {}
            if table is None or any(k not in attributes for k in table.table_key_attrs):
                continue  # moto rejects it before writing anything
            range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
            touched[table.name].append((DynamoType(attributes[table.hash_key_attr]), range_key))
    return touched


def _snapshot(table: Any, keys: list[tuple[Any, Any]]) -> Any:
    backup = copy.copy(table)
    if table.has_range_key:
        backup.items = defaultdict(dict, {h: dict(by_range) for h, by_range in table.items.items()})
        for hash_key, range_key in keys:
            if range_key in table.items.get(hash_key, {}):
                backup.items[hash_key][range_key] = copy.deepcopy(table.items[hash_key][range_key])
    else:
        backup.items = defaultdict(dict, table.items)
        for hash_key, _ in keys:
            if hash_key in table.items:
                backup.items[hash_key] = copy.deepcopy(table.items[hash_key])
    if table.stream_shard is not None:
        backup.stream_shard = copy.copy(table.stream_shard)
        backup.stream_shard.items = list(table.stream_shard.items)
        backup.stream_shard.table = backup
    return backup
