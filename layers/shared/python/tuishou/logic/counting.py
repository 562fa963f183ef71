"""Counting facts, derived from the streams: clicks, promotions (shares) and transactions (sales) add to
the product's counter shards, the promoter's task history and channel, the per-day aggregates, and mark the
product dirty for the ranking job. Each fact counts once by its own id, however often a stream record is
delivered (``tuishou.dal.counters.count_once``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tuishou.dal import counters, rankings
from tuishou.dal.counters import CounterField
from tuishou.dal.insights import category_update, window_updates

MARKER_TTL = timedelta(days=2)
"""Longer than a stream's 24-hour retention: no record can be replayed after its marker expires."""


@dataclass(frozen=True)
class CountedEvent:
    event_id: str  # the fact's own id: click id, share id, "sale:{provider}:{payment_id}"
    field: CounterField
    promoter_id: str
    product_id: str
    channel: str
    at: datetime
    revenue_minor: int = 0
    commission_minor: int = 0
    category: str | None = None  # a sale adds one to the promoter's count for the product's category


def count(events: Sequence[CountedEvent]) -> int:
    """Count each event once; returns how many were counted now (replays count 0)."""
    counted = 0
    for event in events:
        updates = [
            *counters.counter_updates(event.promoter_id, event.product_id, event.channel, event.field),
            *window_updates(
                event.promoter_id,
                event.product_id,
                event.channel,
                event.field,
                event.at,
                revenue_minor=event.revenue_minor,
                commission_minor=event.commission_minor,
            ),
            *([category_update(event.promoter_id, event.category)] if event.category else []),
            *rankings.dirty_marks([event.product_id], event.at),
        ]
        expires_at = int((event.at + MARKER_TTL).timestamp())
        counted += counters.count_once(event.event_id, expires_at, updates)
    return counted
