"""CatalogTable: the ranking job's "dirty products" set and its checkpoint.

Whatever changes a product's counters (the counting stream consumer) marks the product dirty in the hour
it changed; the ranking job reads only the hours since its checkpoint, never the catalogue."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from tuishou import clock
from tuishou.dal import keys
from tuishou.dal.dynamo import table, to_item

DIRTY_MARK_TTL = timedelta(days=2)


def dirty_marks(product_ids: Iterable[str], at: datetime) -> list[dict[str, Any]]:
    """TransactWriteItems ``Put`` items marking each product dirty in ``at``'s hour (idempotent: a repeat
    writes the same item)."""
    hour = clock.hour_bucket(at)
    expires = int((at + DIRTY_MARK_TTL).timestamp())
    puts = []
    for product_id in sorted(set(product_ids)):
        pk, sk = keys.ranking_dirty(hour, product_id)
        item = {"pk": pk, "sk": sk, "product_id": product_id, "expires_at": expires}
        puts.append({"Put": {"TableName": table("catalog"), "Item": to_item(item)}})
    return puts
