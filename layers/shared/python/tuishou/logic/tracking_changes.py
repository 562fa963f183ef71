"""Facts derived from the TrackingTable's stream: a new click or share counts once (product counter shards,
promoter task history and channel, per-day aggregates, the ranking dirty mark) and issues the share's
coupon; a promoter channel counter that changed advances that channel's tasks.

Not derived yet: a placeholder the stream consumer already calls (its event source mapping and filters are
in template.yaml)."""

from __future__ import annotations

from collections.abc import Sequence

from tuishou.dal.streams import Change


def derive(changes: Sequence[Change]) -> None:
    """Derive from ``changes`` (stream order); raise to have Lambda retry from the first of them. Idempotent
    by each fact's own id: replaying a whole shard changes nothing."""
