"""The scheduled ranking recalculation: refreshes every task-index entry's global score g from the
product's counter shards, moving the entry to its new place in its tag's pre-ranked partition.

A batch job, not a request path: it reads the catalogue page by page (Scan) so listings never have to.
Only entries whose rank changed are written, each with a condition that it is still the entry that
was read (a product paused or re-ruled meanwhile keeps the newer write)."""

from __future__ import annotations

from dataclasses import dataclass

from tuishou.dal import catalog
from tuishou.logic import ranking


@dataclass
class RecalculationResult:
    products: int = 0
    entries: int = 0
    reranked: int = 0
    skipped: int = 0


def recalculate() -> RecalculationResult:
    w = ranking.weights()
    products = catalog.scan_rankings()
    result = RecalculationResult(products=len(products))
    for product in products:
        g = ranking.activity_score_micros(product.counters, w)
        for entry in product.entries:
            result.entries += 1
            new_key = ranking.sort_key(g, entry.estimated_commission_minor, entry.product_id)
            if new_key == entry.sort_key and entry.global_score_micros == g:
                continue
            if catalog.rerank_entry(entry.product_id, entry.promoter_tag, entry.sort_key, new_key, g):
                result.reranked += 1
            else:
                result.skipped += 1
    return result
