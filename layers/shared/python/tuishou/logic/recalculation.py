"""The ranking recalculation: refreshes task-index entries' global score g from their product's counter
shards, moving each entry whose rank changed to its new place in its tag's pre-ranked partition.

It never reads the catalogue. Two kinds of work, both checkpointed in ``tuishou.dal.rankings`` and bounded
per invocation (``TUISHOU_RANKING_PRODUCTS_PER_INVOCATION``), continuing through the ranking queue:

- the hourly pass: the products marked dirty (their counters changed) in the hours since the checkpoint,
  each read with one Query of its partition (counter shards and entries). The pass reads up to the current
  hour and the next pass starts again at that hour, which may still gain marks.
- a full re-rank, when the weights' fingerprint differs from the one the index reflects (or on the first
  run, or after the job missed more hours than the marks live): every active product, page by page through
  the merchant shards of the active-task index, one page per invocation.

Only entries whose rank changed are written, each with a condition that it is still the entry that was read
(a product paused or re-ruled meanwhile keeps the newer write)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tuishou import clock, settings
from tuishou.dal import catalog, rankings
from tuishou.dal import insights as active_index
from tuishou.logic import ranking
from tuishou.observability import logger

HOUR = timedelta(hours=1)
MARKS_TRUSTED_FOR = rankings.DIRTY_MARK_TTL - timedelta(hours=6)
"""A pass that would start further back than this re-ranks everything instead: older marks may have expired."""


@dataclass
class RecalculationResult:
    products: int = 0
    entries: int = 0
    reranked: int = 0
    skipped: int = 0


@dataclass
class _Run:
    weights: ranking.Weights
    fingerprint: str
    budget: int
    result: RecalculationResult


def _start() -> _Run:
    w = ranking.weights()
    return _Run(w, ranking.fingerprint(w), settings.ranking_job().products_per_invocation, RecalculationResult())


def hourly(at: datetime) -> RecalculationResult:
    """The schedule: start a full re-rank if the weights changed (its first page runs now), then the pass
    over the dirty hours up to ``at``'s, within one invocation's budget; the rest continues by queue."""
    run, state = _start(), rankings.state()
    hour = clock.hour_bucket(at)
    if _needs_full_rerank(state, run.fingerprint, at):
        position = rankings.Rerank(run.fingerprint, 0, None)
        if rankings.save_rerank(state.rerank_version, position, None):
            state = rankings.state()
            logger.info("full re-rank started", extra={"weights": run.fingerprint})
    if state.rerank is not None and state.rerank.weights == run.fingerprint:
        _rerank_page(run, state)
    _dirty_pass(run, state, hour, skip_to_now=_marks_expired(state, at))
    return run.result


def resume(message: dict[str, str]) -> RecalculationResult:
    """A queued continuation: the next page of a full re-rank, or the rest of an hourly pass."""
    run, state = _start(), rankings.state()
    if message["kind"] == "rerank":
        if state.rerank is not None and state.rerank.weights == message["weights"] == run.fingerprint:
            _rerank_page(run, state)
        # else: finished, or superseded by newer weights (whose own re-rank carries on)
    else:
        _dirty_pass(run, state, message["until"], skip_to_now=False)
    return run.result


def _needs_full_rerank(state: rankings.RankingState, fingerprint: str, at: datetime) -> bool:
    if state.rerank is not None and state.rerank.weights == fingerprint:
        return False  # already running
    return state.weights != fingerprint or _marks_expired(state, at)


def _marks_expired(state: rankings.RankingState, at: datetime) -> bool:
    """No checkpoint yet, or one so old that marks of the hours since may have expired."""
    oldest = state.dirty.hour if state.dirty else state.next_hour
    return oldest is None or _hour_start(oldest) < at - MARKS_TRUSTED_FOR


# ---------------------------------------------------------------- the hourly pass
def _dirty_pass(run: _Run, state: rankings.RankingState, until: str, *, skip_to_now: bool) -> None:
    """Products dirty from the checkpoint to ``until``, as many as the budget allows; saves the position
    after each page, and the checkpoint at the end. Continues by queue when the budget runs out."""
    position = _dirty_start(state, until, skip_to_now=skip_to_now)
    version, started_at = state.dirty_version, state.next_hour or position.hour
    while run.budget > 0:
        page = rankings.dirty_products(position.hour, position.after, run.budget)
        for product_id in page.product_ids:
            _rerank_product(run, product_id)
        run.budget -= len(page.product_ids)
        if not page.more and position.hour >= position.until:
            rankings.save_dirty(version, None, position.until)  # done: the next pass starts at this hour
            return
        if page.more:
            position = rankings.DirtyPass(position.hour, page.product_ids[-1], position.until)
        else:
            position = rankings.DirtyPass(_next_hour(position.hour), None, position.until)
        if page.product_ids and run.budget > 0:
            if not rankings.save_dirty(version, position, started_at):
                return  # another invocation saved first: it carries on from its own position
            version += 1
    if rankings.save_dirty(version, position, started_at):
        rankings.enqueue({"kind": "dirty", "until": position.until})


def _dirty_start(state: rankings.RankingState, until: str, *, skip_to_now: bool) -> rankings.DirtyPass:
    if skip_to_now or state.next_hour is None:  # a full re-rank covers everything before this hour
        return rankings.DirtyPass(until, None, until)
    if state.dirty is not None:
        return rankings.DirtyPass(state.dirty.hour, state.dirty.after, max(state.dirty.until, until))
    return rankings.DirtyPass(state.next_hour, None, until)


# ---------------------------------------------------------------- the full re-rank
def _rerank_page(run: _Run, state: rankings.RankingState) -> None:
    """Active products from the re-rank's position, up to the budget (crossing into the next merchant shard
    when one ends); saves the position, or the new weights fingerprint when the last shard is done."""
    assert state.rerank is not None
    shard, start = state.rerank.shard, state.rerank.start
    shards = len(active_index.active_task_shards())
    while run.budget > 0 and shard < shards:
        page = active_index.active_tasks_page(shard, start, run.budget, whole_merchants=False)
        for task in page.tasks:
            _rerank_product(run, task.product_id)
        run.budget -= len(page.tasks)
        shard, start = (shard, page.next_from) if page.next_from else (shard + 1, None)
    if shard >= shards:
        if rankings.save_rerank(state.rerank_version, None, run.fingerprint):
            logger.info("full re-rank finished", extra={"weights": run.fingerprint})
        return
    position = rankings.Rerank(run.fingerprint, shard, start)
    if rankings.save_rerank(state.rerank_version, position, None):
        rankings.enqueue({"kind": "rerank", "weights": run.fingerprint})


# ---------------------------------------------------------------- one product
def _rerank_product(run: _Run, product_id: str) -> None:
    product = catalog.product_ranking(product_id)
    result = run.result
    result.products += 1
    g = ranking.activity_score_micros(product.counters, run.weights)
    for entry in product.entries:
        result.entries += 1
        new_key = ranking.sort_key(g, entry.estimated_commission_minor, entry.product_id)
        if new_key == entry.sort_key and entry.global_score_micros == g:
            continue
        if catalog.rerank_entry(entry.product_id, entry.promoter_tag, entry.sort_key, new_key, g):
            result.reranked += 1
        else:
            result.skipped += 1


def _hour_start(hour: str) -> datetime:
    return clock.parse_iso(f"{hour}:00:00Z")


def _next_hour(hour: str) -> str:
    return clock.hour_bucket(_hour_start(hour) + HOUR)
