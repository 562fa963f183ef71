"""Counting facts, derived from the streams: clicks, promotions (shares) and transactions (sales) add to
the product's counter shards, the promoter's task history (not clicks), the promoter x product x day
aggregate with its per-channel counts, and mark the product dirty for the ranking job (promotions and
transactions only: no score reads clicks, so a click saves that item). Each fact counts once by its own id,
however often a stream record is delivered: its marker names the chunk whose transaction adds its counts
(group commit, ``tuishou.dal.counters``).

A click with a visitor counts at most once per visitor, link and ``REPEAT_WINDOW``: its marker is the
visitor's last counted click on the link (``keys.visit``), which also makes the click itself count once.

A share is a promotion once per link, channel and UTC hour (``promotion_id``): the shares of one link on one
channel within an hour claim the same marker, so a script posting shares in a loop moves the counters,
the aggregates, the ranking dirty marks and the channel-task quota by one per hour at most.

A chunk of events is counted together: a conditional PutItem per fact (its marker), then the chunk's ADDs
merged per item in as few transactions as the 100-item limit allows (25 clicks on one link: 25 PutItems and
one transaction of 3 items: the chunk record, a product counter shard, the day aggregate)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tuishou import clock
from tuishou.dal import counters, rankings
from tuishou.dal.counters import CounterField, Fact

MARKER_TTL = timedelta(days=2)
"""Longer than a stream's 24-hour retention: no record can be replayed after its marker expires (counted from
the later of the fact's time and the time it is counted)."""

REPEAT_WINDOW = timedelta(hours=1)
"""Repeat clicks of one visitor on one link within this window count once."""

LONGEST_STATS_WINDOW_DAYS = 90
"""The longest window any reader asks of the per-day aggregates: product stats (``MAX_DAYS``) and the
insights job (``TUISHOU_INSIGHTS_WINDOW_DAYS`` ≤ 90)."""

AGGREGATE_TTL = timedelta(days=LONGEST_STATS_WINDOW_DAYS + 2)
"""A per-day aggregate expires this long after its day: past the longest window, plus today and a late run."""


@dataclass(frozen=True)
class CountedEvent:
    event_id: str  # what counts once: click id, ``promotion_id(...)`` of a share, "sale:{provider}:{payment_id}"
    field: CounterField
    promoter_id: str
    product_id: str
    channel: str
    at: datetime
    revenue_minor: int = 0
    commission_minor: int = 0
    category: str | None = None  # a sale adds one to the promoter's count for the product's category
    visit: tuple[str, str] | None = None  # a click's (link id, visitor): repeats within REPEAT_WINDOW count once


def promotion_id(link_id: str, channel: str, at: datetime) -> str:
    """What a share counts as: the promotion of ``link_id`` on ``channel`` in ``at``'s UTC hour. Every share
    of that link on that channel in that hour names the same promotion, so only one of them counts."""
    return f"promotion:{link_id}:{channel}:{clock.hour_bucket(at)}"


def additions(event: CountedEvent, shard: int) -> list[counters.Addition]:
    """What counting ``event`` adds (``counters.event_additions``), its product counters on ``shard``."""
    day_start = event.at.replace(hour=0, minute=0, second=0, microsecond=0)
    return counters.event_additions(
        event.promoter_id,
        event.product_id,
        event.channel,
        event.field,
        event.at,
        aggregate_expires_at=int((day_start + AGGREGATE_TTL).timestamp()),
        shard=shard,
        revenue_minor=event.revenue_minor,
        commission_minor=event.commission_minor,
        category=event.category,
    )


def _fact(event: CountedEvent, shard: int) -> Fact:
    return Fact(
        event_id=event.event_id,
        at=event.at,
        # from when it is counted, not when it happened: a sale reported days late keeps its marker as long
        marker_expires_at=int((max(event.at, clock.now()) + MARKER_TTL).timestamp()),
        additions=additions(event, shard),
        puts=[] if event.field == "clicks" else rankings.dirty_marks([event.product_id], event.at),
        visit=event.visit,
        repeat_window=REPEAT_WINDOW,
    )


def count(events: Sequence[CountedEvent]) -> int:
    """Count each event once (a repeat visit not at all); returns how many were counted now (replays
    count 0). A PutItem per event (its marker), then ⌈(1 + distinct items touched) / 100⌉ transactions (one more
    when a visitor or an event repeats within the chunk)."""
    shard = counters.random_shard()  # one product shard per chunk: its events' ADDs merge into one item
    facts = [_fact(event, shard) for event in sorted(events, key=lambda event: event.at)]
    return sum(len(counters.count_group(group)) for group in counters.pack(facts))
