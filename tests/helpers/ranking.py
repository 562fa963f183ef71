"""Builders for the ranking-job tests: counted facts through the counting derivation (counters and the
ranking dirty mark in one transaction, as the stream consumer writes them), a log of the products the job
reads, the global order a promoter sees, and the job's checkpoint."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest

from tests.helpers.api import ApiClient, User
from tests.helpers.tasks import tasks

JOB = "RankingRecalculationFunction"


def count(product_id: str, field: str, times: int, at: datetime, promoter_id: str = "usr_ranking") -> None:
    """``times`` facts (``promotions`` or ``transactions``) on the product at ``at``, counted by
    ``tuishou.logic.counting.count``: the product's counter shards grow and it is marked dirty in ``at``'s hour."""
    from tuishou.logic.counting import CountedEvent
    from tuishou.logic.counting import count as count_events

    events = [
        CountedEvent(f"evt_{uuid.uuid4().hex}", field, promoter_id, product_id, "wechat", at)  # type: ignore[arg-type]
        for _ in range(times)
    ]
    assert count_events(events) == times


class ReadLog:
    """Every product whose partition the ranking job read, in order; optionally failing on some reads."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from tuishou.dal import catalog

        self.read: list[str] = []
        self.fail_on: dict[str, int] = {}  # product id -> reads still to fail
        real = catalog.product_ranking

        def recording(product_id: str) -> Any:
            self.read.append(product_id)
            if self.fail_on.get(product_id, 0) > 0:
                self.fail_on[product_id] -= 1
                raise RuntimeError(f"injected failure reading {product_id}")
            return real(product_id)

        monkeypatch.setattr(catalog, "product_ranking", recording)

    def times(self, product_id: str) -> int:
        return self.read.count(product_id)


class ContinuationLog:
    """What each queued ranking continuation did (``tuishou.logic.recalculation.resume`` results)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from tuishou.logic import recalculation

        self.runs: list[tuple[str, int]] = []  # (kind, products read)
        real = recalculation.resume

        def recording(message: dict[str, str]) -> Any:
            result = real(message)
            self.runs.append((message["kind"], result.products))
            return result

        monkeypatch.setattr(recalculation, "resume", recording)

    def of(self, kind: str) -> list[int]:
        return [products for k, products in self.runs if k == kind]


def global_order(api: ApiClient, user: User) -> list[tuple[str, float]]:
    """(product id, score) in the global order the promoter sees."""
    return [(i["product_id"], i["score"]) for i in tasks(api, user, sort="global", limit=100)["items"]]


def checkpoint() -> Any:
    from tuishou.dal import rankings

    return rankings.state()
