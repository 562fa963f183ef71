"""Facts derived from the LedgerTable's stream: a settlement counts its sale once (counters, per-day
aggregates, ranking mark), advances the promoter's channel-task progress and notifies; a refund that
changes the settlement reverses that progress.

Not derived yet: a placeholder the stream consumer already calls (its event source mapping and filters are
in template.yaml)."""

from __future__ import annotations

from collections.abc import Sequence

from tuishou.dal.streams import Change


def derive(changes: Sequence[Change]) -> None:
    """Derive from ``changes`` (stream order); raise to have Lambda retry from the first of them. Idempotent
    by each fact's own id: replaying a whole shard changes nothing."""
