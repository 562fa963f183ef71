"""The hourly ranking job: only products marked dirty are read and moved, a failed continuation resumes
from the saved checkpoint, and a weight change re-ranks everything page by page through the queue."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from tests.helpers.ranking import JOB, ContinuationLog, ReadLog, checkpoint, count, global_order
from tests.helpers.tasks import create_product, promoter

T0 = datetime(2030, 1, 9, 10, 15, tzinfo=UTC)
T1 = datetime(2030, 1, 9, 11, 5, tzinfo=UTC)
T2 = datetime(2030, 1, 9, 12, 5, tzinfo=UTC)


def _products(api, n: int) -> list[str]:
    """``n`` standard products, commission falling with the index (ties in score break by commission)."""
    merchant = api.user("merchant")
    return [create_product(api, merchant, title=f"P{i}", price_minor=10_000 - 100 * i)["product_id"] for i in range(n)]


def test_only_products_marked_dirty_are_read_and_moved(api, stack, monkeypatch, dynamo_calls):
    # Given three products and a first run (no checkpoint yet: it re-ranks everything once)
    a, b, c = _products(api, 3)
    viewer = promoter(api)
    assert stack.run_schedule(JOB, T0)["products"] == 3
    assert stack.drain_queues() == 0
    # When only C's counters change (3 shares counted: C is marked dirty in 11:00)
    count(c, "promotions", 3, T1)
    reads = ReadLog(monkeypatch)
    dynamo_calls.clear()
    result = stack.run_schedule(JOB, T1)
    job_calls = list(dynamo_calls)
    # Then the job read C alone, moved its one entry, and A and B (unchanged) were not read
    assert reads.read == [c]
    assert result == {"products": 1, "entries": 1, "reranked": 1, "skipped": 0}
    assert global_order(api, viewer) == [(c, 0.9), (a, 0.0), (b, 0.0)]
    # And it cost: the checkpoint (1 GetItem), hours 10:00 and 11:00 (1 Query each; 11:00 holds C's mark),
    # C's partition (1 Query: its counter shards, product and entry), the entry move and the checkpoint save
    assert sorted(op for op, _ in job_calls) == ["GetItem", "Query", "Query", "Query", "UpdateItem", "UpdateItem"]
    shards = len({sk for sk in _counter_shards(c)})
    assert sum(items for _, items in job_calls) == 1 + 1 + (shards + 2)
    assert checkpoint().next_hour == "2030-01-09T11" and checkpoint().dirty is None


def _counter_shards(product_id: str) -> list[str]:
    from tuishou.dal import counters, dynamo

    found = dynamo.batch_get({"catalog": counters.shard_keys(product_id)})
    return [sk for _, _, sk in found]


def test_a_second_run_in_the_same_hour_moves_nothing_and_the_next_hour_reads_only_new_marks(api, stack, monkeypatch):
    # Given a product counted and ranked in 11:00
    a, b = _products(api, 2)
    stack.run_schedule(JOB, T0)
    count(a, "transactions", 1, T1)
    assert stack.run_schedule(JOB, T1)["reranked"] == 1
    reads = ReadLog(monkeypatch)
    # When the job runs again in 11:00 (the hour may still gain marks, so it is read again), then nothing moves
    assert stack.run_schedule(JOB, T1)["reranked"] == 0
    assert reads.read == [a]
    # And at 12:00, after B is counted at 12:00, it reads 11:00 (A, unchanged) and 12:00 (B) once each
    count(b, "transactions", 2, T2)
    assert stack.run_schedule(JOB, T2) == {"products": 2, "entries": 2, "reranked": 1, "skipped": 0}
    assert reads.read == [a, a, b]


def test_a_fact_counted_late_is_marked_in_the_hour_it_is_counted(api, stack):
    # Given a checkpoint past 10:00 (the job ran at 11:05)
    (a,) = _products(api, 1)
    stack.run_schedule(JOB, T1)
    # When a sale made at 10:15 is counted only at 12:05 (a stream retry), then the 12:05 run re-ranks it
    with time_machine.travel(T2, tick=False):
        count(a, "transactions", 1, T0)
    assert stack.run_schedule(JOB, T2)["reranked"] == 1


def test_a_failed_continuation_resumes_from_the_saved_checkpoint(api, stack, monkeypatch):
    # Given five ranked products and two products per invocation
    monkeypatch.setenv("TUISHOU_RANKING_PRODUCTS_PER_INVOCATION", "2")
    products = _products(api, 5)
    viewer = promoter(api)
    stack.run_schedule(JOB, T0)
    stack.drain_queues()
    # And each counted in 11:00 (product i: i + 1 promotions)
    for i, product_id in enumerate(products):
        count(product_id, "promotions", i + 1, T1)
    first, second, third, fourth, fifth = sorted(products)  # an hour's marks are read in product-id order
    # When the job runs and the continuation fails once while reading the fourth product
    reads = ReadLog(monkeypatch)
    reads.fail_on[fourth] = 1
    assert stack.run_schedule(JOB, T1)["products"] == 2
    stack.drain_queues()
    # Then the retried message resumed after the last saved page: the first two were read once, the page
    # that failed (third, fourth) twice, the fifth once
    assert [reads.times(p) for p in (first, second, third, fourth, fifth)] == [1, 1, 2, 2, 1]
    assert stack.failed_deliveries == 1 and stack.dead_letters("RankingQueue") == 0
    # And every product ended where its counters put it: g = 0.3 x promotions
    expected = [(p, round(0.3 * (i + 1), 6)) for i, p in enumerate(products)][::-1]
    assert global_order(api, viewer) == expected
    assert checkpoint().next_hour == "2030-01-09T11" and checkpoint().dirty is None


def test_a_dead_lettered_continuation_is_resumed_by_the_next_hourly_run(api, stack, monkeypatch):
    # Given a pass whose continuation fails on every receive until SQS dead-letters it
    monkeypatch.setenv("TUISHOU_RANKING_PRODUCTS_PER_INVOCATION", "2")
    products = _products(api, 4)
    stack.run_schedule(JOB, T0)
    stack.drain_queues()
    for product_id in products:
        count(product_id, "transactions", 1, T1)
    first, second, third, fourth = sorted(products)
    reads = ReadLog(monkeypatch)
    reads.fail_on[third] = 5
    stack.run_schedule(JOB, T1)
    stack.drain_queues()
    assert stack.dead_letters("RankingQueue") == 1
    assert checkpoint().dirty is not None  # the pass stopped after the second product
    # When the next hourly run comes, then it resumes from the checkpoint (never re-reading the first two)
    stack.run_schedule(JOB, T2)
    stack.drain_queues()
    assert [reads.times(p) for p in (first, second, third, fourth)] == [1, 1, 6, 1]
    assert checkpoint().next_hour == "2030-01-09T12" and checkpoint().dirty is None


@pytest.mark.parametrize("per_invocation", [2, 3])
def test_a_weight_change_re_ranks_everything_across_continuation_messages(api, stack, monkeypatch, per_invocation):
    """Counters (tx, promotions): P0 (5, 0), P1 (0, 5), P2 (2, 2), P3 (1, 0), P4 (0, 1).
    g at 0.7/0.3:  3.5, 1.5, 2.0, 0.7, 0.3  ->  P0, P2, P1, P3, P4
    g at 0.1/0.9:  0.5, 4.5, 2.0, 0.1, 0.9  ->  P1, P2, P4, P0, P3"""
    products = _products(api, 5)
    viewer = promoter(api)
    for product_id, (tx, promotions) in zip(products, [(5, 0), (0, 5), (2, 2), (1, 0), (0, 1)], strict=True):
        count(product_id, "transactions", tx, T0)
        count(product_id, "promotions", promotions, T0)
    # Given the index ranked at the default weights
    stack.run_schedule(JOB, T0)
    stack.drain_queues()
    p0, p1, p2, p3, p4 = products
    assert global_order(api, viewer) == [(p0, 3.5), (p2, 2.0), (p1, 1.5), (p3, 0.7), (p4, 0.3)]
    # When the weights change and the job may read only a few products per invocation
    monkeypatch.setenv("TUISHOU_RANK_W_TX", "0.1")
    monkeypatch.setenv("TUISHOU_RANK_W_PROMO", "0.9")
    monkeypatch.setenv("TUISHOU_RANKING_PRODUCTS_PER_INVOCATION", str(per_invocation))
    continuations = ContinuationLog(monkeypatch)
    first = stack.run_schedule(JOB, T1)
    stack.drain_queues()
    # Then the schedule re-ranked the first page, and queued continuations did the rest, a page each
    pages = [first["products"], *continuations.of("rerank")]
    assert sum(pages) == 5 and max(pages) <= per_invocation and len(pages) == -(-5 // per_invocation)
    # And the index follows the new weights, which the checkpoint now records
    assert global_order(api, viewer) == [(p1, 4.5), (p2, 2.0), (p4, 0.9), (p0, 0.5), (p3, 0.1)]
    state = checkpoint()
    assert state.weights == "w_tx=0.1;w_promo=0.9" and state.rerank is None
    # And the next hourly run has nothing left to do
    assert stack.run_schedule(JOB, T2)["reranked"] == 0
    assert stack.drain_queues() == 0


def test_lambda_alone_does_not_re_rank(api, stack, monkeypatch):
    # Given a ranked index
    _products(api, 2)
    stack.run_schedule(JOB, T0)
    # When only lambda (which mixes scores at read time) changes, then no full re-rank starts
    monkeypatch.setenv("TUISHOU_RANK_LAMBDA", "0.9")
    reads = ReadLog(monkeypatch)
    stack.run_schedule(JOB, T1)
    assert reads.read == [] and checkpoint().rerank is None
