"""Speed only, never behaviour, for the 100,000-product rows.

- moto answers a base-table Query by sorting every item of the table
(``Table.all_items``), so one Query costs time proportional to the table. The large-catalogue rows (the
ranking job at 100,000 products) would take hours. This patch hands that one call the queried partition
instead; moto then sorts and filters it exactly as before, so the items, counts and pages are the same.
- Seeding 400,000 final items with BatchWriteItem costs an HTTP round trip (and request parsing) per 25
  items, about half an hour; ``put_final_items`` makes the same put moto's BatchWriteItem makes, in process.

Applied by the scenarios that need them, in the bench process (its moto server runs in-process)."""

from __future__ import annotations

import os
import threading
from typing import Any

_partition = threading.local()
_applied = False


def partition_queries() -> None:
    """Idempotent: base-table Queries read their partition, not the whole table (GSI Queries unchanged)."""
    global _applied
    if _applied:
        return
    from moto.dynamodb.models.table import Table

    query, all_items = Table.query, Table.all_items

    def partition_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("index_name") or (len(args) > 6 and args[6]):
            return query(self, hash_key, *args, **kwargs)
        _partition.key = hash_key
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _partition.key = None

    def partition_items(self: Any) -> Any:
        key = getattr(_partition, "key", None)
        if key is None or not self.range_key_attr:
            return all_items(self)
        return list(self.items.get(key, {}).values())

    Table.query = partition_query  # type: ignore[method-assign]  # replacing moto's method is the point
    Table.all_items = partition_items  # type: ignore[method-assign]
    _applied = True


def put_final_items(table_name: str, items: list[dict[str, Any]]) -> None:
    """Typed items (``{"pk": {"S": ...}, ...}``) written as BatchWriteItem's ``PutRequest`` writes them."""
    from moto.dynamodb.models import dynamodb_backends

    from tools.resources import MOTO_ACCOUNT_ID

    backend = dynamodb_backends[MOTO_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]]
    for item in items:
        backend.put_item(table_name, item)
