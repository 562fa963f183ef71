"""Facts derived from the CatalogTable's stream: a product that changed (status, reward rules, category)
updates what is derived from it (its task index entries and the ranking dirty mark).

Not derived yet: a placeholder the stream consumer already calls (its event source mapping and filters are
in template.yaml)."""

from __future__ import annotations

from collections.abc import Sequence

from tuishou.dal.streams import Change


def derive(changes: Sequence[Change]) -> None:
    """Derive from ``changes`` (stream order); raise to have Lambda retry from the first of them. Idempotent
    by each fact's own id: replaying a whole shard changes nothing."""
